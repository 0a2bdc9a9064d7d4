import UpweightSupport
import UpweightIO

/// Unlabelled items from the domain a model will be used in (`train --target FILE`), in the form
/// the training data's domain classifier reads: prompts for text data, pair means for dense data.
///
/// A line of FILE is, for text training data, a JSON object with the prompt field (`--prompt-field`,
/// other fields ignored, so unlabelled or labelled pairs of the explicit shape serve as they are) or
/// a bare JSON string (the prompt itself); for dense training data, an object with both feature
/// fields (`chosen_features`, `rejected_features` or their renamed fields), arrays of the training
/// data's dimension. Blank lines are skipped; `.gz` is read transparently, as for data files.
public struct TargetSample: Sendable {
    public enum Items: Sendable {
        case prompts([String])
        /// Each item's (a + b)/2, row-major.
        case dense(dimension: Int, means: [Float])
    }

    public var path: String
    public var items: Items

    public var count: Int {
        switch items {
        case .prompts(let prompts): return prompts.count
        case .dense(let dimension, let means): return means.count / dimension
        }
    }

    package init(path: String, items: Items) {
        self.path = path
        self.items = items
    }

    /// Reads `path` as items of the shape of `training` (text prompts, or dense pairs of its dimension).
    public static func read(_ path: String, like training: PreferenceDataset, fields: FieldNames,
                            maxMemory: Int? = nil) throws -> TargetSample {
        try MemoryBudget.check(paths: [path], limit: maxMemory)
        let budget = SystemMemory.limit(maxMemory: maxMemory)
        let chunks = try LineChunks(path: path, chunkBytes: 4 << 20, byteLimit: budget?.bytes, limitName: budget?.source ?? "--max-memory")
        var decoder = TargetLineDecoder(path: path, fields: fields, training: training)
        try chunks.forEachLine { line, number in
            if line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) {
                try decoder.decode(Array(line), line: number)
            }
        }
        let sample = TargetSample(path: path, items: decoder.items)
        guard sample.count > 0 else {
            throw DataError(file: path, message: "no target items: the file is empty or holds only blank lines", reason: "no pairs")
        }
        return sample
    }
}

/// One line of a target file at a time, into prompts or pair means.
private struct TargetLineDecoder {
    let path: String
    let fields: FieldNames
    /// nil: text; else the training data's dense dimension.
    let dimension: Int?
    var prompts: [String] = []
    var means: [Float] = []

    init(path: String, fields: FieldNames, training: PreferenceDataset) {
        self.path = path
        self.fields = fields
        if case .dense(let dimension, _, _) = training.responses { self.dimension = dimension } else { dimension = nil }
    }

    var items: TargetSample.Items {
        dimension.map { .dense(dimension: $0, means: means) } ?? .prompts(prompts)
    }

    mutating func decode(_ bytes: [UInt8], line: Int) throws {
        let value: JSONValue
        switch Result(catching: { () throws(JSONSyntaxError) in try JSONParser.parse(bytes) }) {
        case .success(let parsed): value = parsed
        case .failure(let error):
            throw DataError(file: path, line: line, column: error.column, message: "invalid JSON: \(error.message)", reason: "invalid JSON")
        }
        if let dimension {
            try decodeDense(value, dimension: dimension, line: line)
        } else {
            try decodePrompt(value, line: line)
        }
    }

    private mutating func decodePrompt(_ value: JSONValue, line: Int) throws {
        if case .string(let prompt) = value { prompts.append(prompt); return }
        guard case .object(let object) = value else {
            throw fail(line, "expected an object with a prompt, or a prompt string, got \(value.typeName)", field: nil)
        }
        switch object[fields.prompt] {
        case .string(let prompt)?: prompts.append(prompt)
        case let other?: throw fail(line, "expected the prompt as a string, got \(other.typeName)", field: fields.prompt)
        case nil:
            let isDense = object[fields.chosenFeatures] != nil || object[fields.rejectedFeatures] != nil
            throw fail(line, isDense ? "the training data is text, but this target line holds dense feature vectors; expected a prompt string"
                                     : "missing the prompt: expected a prompt string", field: fields.prompt)
        }
    }

    private mutating func decodeDense(_ value: JSONValue, dimension: Int, line: Int) throws {
        let expected = "expected an array of \(plural(dimension, "number", "numbers")), the training data's dimension"
        guard case .object(let object) = value else {
            let got = value.stringValue != nil ? "a prompt string: the training data is dense feature vectors" : value.typeName
            throw fail(line, "expected an object with \(fields.chosenFeatures) and \(fields.rejectedFeatures), got \(got)", field: nil)
        }
        func vector(_ field: String) throws -> [Double] {
            guard let entry = object[field] else {
                let isText = object[fields.prompt] != nil || object[fields.chosen] != nil
                throw fail(line, isText ? "the training data is dense feature vectors, but this target line holds text; \(expected)"
                                        : "missing: \(expected)", field: field)
            }
            guard case .array(let items) = entry else { throw fail(line, "\(expected), got \(entry.typeName)", field: field) }
            guard items.count == dimension else {
                throw fail(line, "\(expected), got \(plural(items.count, "number", "numbers"))", field: field)
            }
            let numbers = try items.map { item in
                guard let number = item.numberValue, number.isFinite else {
                    throw fail(line, "expected finite numbers, got \(item.numberValue.map { "\($0)" } ?? item.typeName)", field: field)
                }
                return number
            }
            // The bound training features have: the classifier squares the means in Float32.
            // ‖x‖ = s·‖x/s‖ with s = max|x_j|: no overflow on the way to a length above the bound.
            let scale = numbers.lazy.map(abs).max() ?? 0
            let length = scale == 0 ? 0 : scale * numbers.reduce(0) { $0 + ($1 / scale) * ($1 / scale) }.squareRoot()
            guard length <= PreferenceDataset.largestFeatureNorm else {
                throw fail(line, "a vector of length \(length) is too large to compute with in Float32 (at most 1.8e19); scale the features down", field: field)
            }
            return numbers
        }
        let a = try vector(fields.chosenFeatures)
        let b = try vector(fields.rejectedFeatures)
        // a/2 + b/2: no overflow where a + b would exceed Float's range.
        means.append(contentsOf: zip(a, b).map { Float($0 / 2 + $1 / 2) })
    }

    private func fail(_ line: Int, _ message: String, field: String?) -> DataError {
        DataError(file: path, line: line, message: message, field: field, reason: "bad target item")
    }
}
