import UpweightSupport

/// Appends decoded lines to the columns of a `PreferenceDataset`, interning category names and
/// checking that every dense vector has the dimension of the first. Each reading thread fills one
/// for its share of a chunk; the shares are then joined in order with `append(contentsOf:)`.
package struct DatasetBuilder {
    private var prompts = TextColumn()
    private var chosenTexts = TextColumn()
    private var rejectedTexts = TextColumn()
    private var chosenVectors: [Float] = []
    private var rejectedVectors: [Float] = []
    /// The first dense pair's dimension and where it is ("file:line"): every other must match it.
    private(set) var denseReference: (dimension: Int, line: String)?
    /// How many pairs `append` refused for their dimension.
    private(set) var dimensionMismatches = 0
    private var ids: [String?] = []
    private var categoryNames: [String] = []
    private var categoryLookup: [String: Int32] = [:]
    private var categoryIndices: [Int32] = []
    private var weights: [Double] = []
    private var margins: [Double] = []
    private var splits: [String?] = []
    private var groups: [UInt64] = []
    private var sources: [SourceLocation] = []
    private var hashedTexts: HashedTexts?

    /// `denseReference`: the dimension the data before these pairs set, where known.
    package init(denseReference: (dimension: Int, line: String)? = nil) {
        self.denseReference = denseReference
    }

    package var count: Int { categoryIndices.count }

    /// Appends a decoded pair. A text pair's texts are not in `record`: they go in with `append(_:)`.
    package mutating func append(_ record: PairRecord, file: Int32, path: String, fields: FieldNames) throws(DataError) {
        if !record.chosenFeatures.isEmpty {
            if let (dimension, line) = denseReference, dimension != record.chosenFeatures.count {
                dimensionMismatches += 1
                throw DataError(file: path, line: record.line, column: 1,
                                message: "expected \(plural(dimension, "number", "numbers")) as on \(line), got \(record.chosenFeatures.count)",
                                field: fields.chosenFeatures, reason: "dimension mismatch")
            }
            if denseReference == nil { denseReference = (record.chosenFeatures.count, "\(path):\(record.line)") }
            chosenVectors.append(contentsOf: record.chosenFeatures)
            rejectedVectors.append(contentsOf: record.rejectedFeatures)
        }
        ids.append(record.id)
        categoryIndices.append(index(of: record.category))
        weights.append(record.weight)
        margins.append(record.margin)
        splits.append(record.split)
        groups.append(record.group)
        sources.append(SourceLocation(file: file, line: Int32(record.line)))
    }

    private mutating func index(of category: String) -> Int32 {
        if let known = categoryLookup[category] { return known }
        let index = Int32(categoryNames.count)
        categoryLookup[category] = index
        categoryNames.append(category)
        return index
    }

    /// The texts of the text pairs appended since the last call, in order.
    package mutating func append(_ texts: (prompts: TextColumn, chosen: TextColumn, rejected: TextColumn)) {
        prompts.append(contentsOf: texts.prompts)
        chosenTexts.append(contentsOf: texts.chosen)
        rejectedTexts.append(contentsOf: texts.rejected)
    }

    /// The features of the text pairs appended since the last call, in order.
    package mutating func append(_ hashed: HashedTexts) {
        if hashedTexts == nil { hashedTexts = hashed } else { hashedTexts!.append(contentsOf: hashed) }
    }

    /// Appends every pair of `other`, whose dense pairs the caller has made sure were checked against
    /// this builder's reference (or set it, this builder having none).
    package mutating func append(contentsOf other: DatasetBuilder) {
        if denseReference == nil { denseReference = other.denseReference }
        chosenVectors.append(contentsOf: other.chosenVectors)
        rejectedVectors.append(contentsOf: other.rejectedVectors)
        prompts.append(contentsOf: other.prompts)
        chosenTexts.append(contentsOf: other.chosenTexts)
        rejectedTexts.append(contentsOf: other.rejectedTexts)
        if let hashed = other.hashedTexts { append(hashed) }
        let remap = other.categoryNames.map { index(of: $0) }
        categoryIndices.append(contentsOf: other.categoryIndices.lazy.map { remap[Int($0)] })
        ids.append(contentsOf: other.ids)
        weights.append(contentsOf: other.weights)
        margins.append(contentsOf: other.margins)
        splits.append(contentsOf: other.splits)
        groups.append(contentsOf: other.groups)
        sources.append(contentsOf: other.sources)
    }

    /// True once a text pair was appended.
    package var holdsText: Bool { denseReference == nil && count > 0 }

    /// The dense rows appended so far, handed over and dropped from the builder (streaming reads
    /// keep every other column); the dimension is the data's.
    package mutating func takeDenseRows() -> (chosen: [Float], rejected: [Float], dimension: Int) {
        defer { (chosenVectors, rejectedVectors) = ([], []) }
        return (chosenVectors, rejectedVectors, denseReference?.dimension ?? 0)
    }

    /// The hashed rows and texts of the text pairs appended so far, handed over and dropped from the
    /// builder (nil when there are none).
    package mutating func takeHashedTexts() -> (HashedTexts, texts: (prompts: TextColumn, chosen: TextColumn, rejected: TextColumn))? {
        defer { (hashedTexts, prompts, chosenTexts, rejectedTexts) = (nil, TextColumn(), TextColumn(), TextColumn()) }
        guard let hashedTexts else { return nil }
        return (hashedTexts, (prompts, chosenTexts, rejectedTexts))
    }

    package func dataset(files: [String]) -> PreferenceDataset {
        let responses: PreferenceDataset.Responses
        if let (dimension, _) = denseReference {
            responses = .dense(dimension: dimension, chosen: chosenVectors, rejected: rejectedVectors)
        } else {
            responses = .text(prompts: prompts, chosen: chosenTexts, rejected: rejectedTexts)
        }
        return PreferenceDataset(responses: responses, ids: ids, categoryNames: categoryNames,
                                 categoryIndices: categoryIndices, exampleWeights: weights, margins: margins,
                                 splits: splits, groupFieldKeys: groups, sources: sources, files: files,
                                 hashedTexts: denseReference == nil ? hashedTexts : nil)
    }
}
