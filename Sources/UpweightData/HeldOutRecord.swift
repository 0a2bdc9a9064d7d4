import UpweightSupport
import UpweightIO

/// Which pairs a `--holdout` run held out, kept in the model directory (`held_out.json`) so that any
/// model can be evaluated on exactly those pairs (`eval --holdout-of DIR`) and other tools can get
/// them (`train --save-split DIR`). Pairs are named by their line in each data file, in the order the
/// files were given, as ranges ("1-3,7,10-12"); a fingerprint of the held-out pairs detects files
/// that changed since.
public struct HeldOutRecord: Sendable, Equatable {
    public var fraction: Double
    public var seed: UInt64
    public var grouping: String
    /// The data files as given to `train`, with the held-out lines of each (1-based ranges, ascending,
    /// apart).
    public var files: [(path: String, lines: [ClosedRange<Int>])]
    /// `fingerprint(of:)` of the held-out pairs, in input order.
    public var fingerprint: String

    public static func == (a: HeldOutRecord, b: HeldOutRecord) -> Bool {
        a.fraction == b.fraction && a.seed == b.seed && a.grouping == b.grouping && a.fingerprint == b.fingerprint
            && a.files.map(\.path) == b.files.map(\.path) && a.files.map(\.lines) == b.files.map(\.lines)
    }

    public static let fileName = "held_out.json"

    /// The record of `heldOut`, the held-out pairs (in input order, as `PreferenceDataset.split` gives them).
    /// `fingerprint`: the held-out pairs' `fingerprint(of:)`, when `heldOut` holds no rows to take it from (streamed data).
    public init(heldOut: PreferenceDataset, fraction: Double, seed: UInt64, grouping: Grouping, fingerprint known: String? = nil) {
        var lines = [[Int]](repeating: [], count: heldOut.files.count)
        for source in heldOut.sources { lines[Int(source.file)].append(Int(source.line)) }
        self.fraction = fraction
        self.seed = seed
        self.grouping = grouping.description
        files = zip(heldOut.files, lines).map { ($0, Self.ranges(of: $1)) }
        fingerprint = known ?? UpweightData.fingerprint(of: heldOut)
    }

    /// Which pairs of `dataset` (read from the same files, in the same order) are held out.
    public func pairs(of dataset: PreferenceDataset, recordFile: String) throws -> [Int] {
        guard dataset.files.count == files.count else {
            throw UsageError("\(recordFile): the held-out set was drawn from \(files.count) data file(s) (\(files.map(\.path).joined(separator: ", "))), got \(dataset.files.count)")
        }
        return (0..<dataset.count).filter { pair in
            let source = dataset.sources[pair]
            let ranges = files[Int(source.file)].lines
            let line = Int(source.line)
            // The first range that does not end before `line`, by binary search.
            var (low, high) = (0, ranges.count)
            while low < high {
                let middle = (low + high) / 2
                if ranges[middle].upperBound < line { low = middle + 1 } else { high = middle }
            }
            return low < ranges.count && ranges[low].contains(line)
        }
    }

    /// The held-out pairs of `dataset`, checked against the fingerprint taken when they were held out.
    public func select(from dataset: PreferenceDataset, recordFile: String) throws -> PreferenceDataset {
        let selected = dataset.subset(try pairs(of: dataset, recordFile: recordFile))
        try check(fingerprint: UpweightData.fingerprint(of: selected), readFrom: dataset.files, recordFile: recordFile)
        return selected
    }

    /// Throws unless `found`, the fingerprint of the pairs selected from `files`, is the one recorded.
    public func check(fingerprint found: String, readFrom files: [String], recordFile: String) throws {
        guard found == fingerprint else {
            throw DataError(file: recordFile, message: "the held-out pairs read from \(files.joined(separator: ", ")) are not those held out in training (fingerprint \(found), recorded \(fingerprint)): the files changed, or are read with other settings",
                            reason: "held-out set changed")
        }
    }

    /// The record in model directory `path`.
    public static func load(fromModelDirectory path: String) throws -> HeldOutRecord {
        let file = "\(path)/\(fileName)"
        guard Files.exists(file) else {
            throw UsageError("--holdout-of \(path): no \(fileName) (the model was not trained with --holdout)")
        }
        return try HeldOutRecord(json: try Files.readJSONObject(file), file: file)
    }

    public var json: JSONObject {
        JSONObject([("fraction", .number(fraction)), ("seed", .integer(Int64(bitPattern: seed))), ("group-by", .string(grouping)),
                    ("pairs", JSONValue(files.reduce(0) { $0 + $1.lines.reduce(0) { $0 + $1.count } })), ("fingerprint", .string(fingerprint)),
                    ("files", .array(files.map { file in
                        ["path": .string(file.path), "lines": .string(file.lines.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ","))]
                    }))])
    }

    /// Reads the record back, checking every value (the file is untrusted input).
    public init(json object: JSONObject, file: String) throws {
        func fail(_ message: String) -> DataError {
            DataError(file: file, message: "not a held-out record: \(message)", reason: "invalid held-out record")
        }
        guard let fraction = object["fraction"]?.numberValue, fraction > 0, fraction < 1 else { throw fail("fraction must be a number between 0 and 1") }
        guard case .integer(let seed)? = object["seed"] else { throw fail("seed must be a whole number") }
        guard case .string(let grouping)? = object["group-by"], case .string(let fingerprint)? = object["fingerprint"],
              case .array(let entries)? = object["files"]
        else { throw fail("expected group-by, fingerprint and files") }
        var files: [(path: String, lines: [ClosedRange<Int>])] = []
        for entry in entries {
            guard case .object(let member) = entry, case .string(let path)? = member["path"], case .string(let ranges)? = member["lines"],
                  let lines = Self.lines(ranges)
            else { throw fail("each file needs a path and its lines as ranges such as \"1-3,7\"") }
            files.append((path, lines))
        }
        (self.fraction, self.seed, self.grouping, self.files, self.fingerprint) = (fraction, UInt64(bitPattern: seed), grouping, files, fingerprint)
    }

    /// Runs of consecutive numbers in ascending `lines`.
    package static func ranges(of lines: [Int]) -> [ClosedRange<Int>] {
        var ranges: [ClosedRange<Int>] = []
        for line in lines {
            if let last = ranges.last, last.upperBound + 1 == line { ranges[ranges.count - 1] = last.lowerBound...line } else { ranges.append(line...line) }
        }
        return ranges
    }

    /// Ranges from "1-3,7,10-12", or nil for anything malformed, descending, touching or overlapping.
    package static func lines(_ text: String) -> [ClosedRange<Int>]? {
        var ranges: [ClosedRange<Int>] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) where !text.isEmpty {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int32($0) }
            guard (1...2).contains(bounds.count), let low = bounds.first!, let high = bounds.last!, low >= 1, low <= high,
                  ranges.last.map({ $0.upperBound + 1 < Int(low) }) ?? true
            else { return nil }
            ranges.append(Int(low)...Int(high))
        }
        return ranges
    }
}
