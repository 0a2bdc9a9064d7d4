/// Appends decoded lines to the columns of a `PreferenceDataset`, interning category names and
/// checking that every dense vector has the dimension of the first.
struct DatasetBuilder {
    private var prompts = TextColumn()
    private var chosenTexts = TextColumn()
    private var rejectedTexts = TextColumn()
    private var chosenVectors: [Float] = []
    private var rejectedVectors: [Float] = []
    private var dimension: Int?
    private var firstDenseLine = ""
    private var ids: [String?] = []
    private var categoryNames: [String] = []
    private var categoryLookup: [String: Int32] = [:]
    private var categoryIndices: [Int32] = []
    private var weights: [Double] = []
    private var margins: [Double] = []
    private var splits: [String?] = []
    private var sources: [SourceLocation] = []

    var count: Int { categoryIndices.count }

    mutating func append(_ record: PairRecord, file: Int32, path: String, fields: FieldNames) throws {
        if !record.chosenFeatures.isEmpty {
            if let dimension, dimension != record.chosenFeatures.count {
                throw DataError(file: path, line: record.line, column: 1,
                                message: "expected \(dimension) numbers as on \(firstDenseLine), got \(record.chosenFeatures.count)",
                                field: fields.chosenFeatures, reason: "dimension mismatch")
            }
            if dimension == nil {
                dimension = record.chosenFeatures.count
                firstDenseLine = "\(path):\(record.line)"
            }
            chosenVectors.append(contentsOf: record.chosenFeatures)
            rejectedVectors.append(contentsOf: record.rejectedFeatures)
        }
        let category: Int32
        if let known = categoryLookup[record.category] {
            category = known
        } else {
            category = Int32(categoryNames.count)
            categoryLookup[record.category] = category
            categoryNames.append(record.category)
        }
        ids.append(record.id)
        categoryIndices.append(category)
        weights.append(record.weight)
        margins.append(record.margin)
        splits.append(record.split)
        sources.append(SourceLocation(file: file, line: Int32(record.line)))
    }

    /// The texts of the text pairs appended since the last call, in order.
    mutating func append(_ texts: PairTexts) {
        let columns = texts.columns
        prompts.append(contentsOf: columns.prompts)
        chosenTexts.append(contentsOf: columns.chosen)
        rejectedTexts.append(contentsOf: columns.rejected)
    }

    func dataset(files: [String]) -> PreferenceDataset {
        let responses: PreferenceDataset.Responses
        if let dimension {
            responses = .dense(dimension: dimension, chosen: chosenVectors, rejected: rejectedVectors)
        } else {
            responses = .text(prompts: prompts, chosen: chosenTexts, rejected: rejectedTexts)
        }
        return PreferenceDataset(responses: responses, ids: ids, categoryNames: categoryNames,
                                 categoryIndices: categoryIndices, exampleWeights: weights, margins: margins,
                                 splits: splits, sources: sources, files: files)
    }
}
