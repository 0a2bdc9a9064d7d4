/// `stats`: pairs per category, their share, and the mean of the per-example weight field.
public struct DatasetStatistics: Sendable {
    public struct Category: Sendable {
        public var name: String
        public var pairs: Int
        public var share: Double
        public var meanExampleWeight: Double
    }

    public var pairs: Int
    public var categories: [Category]
    /// Kish's effective sample size of the per-example weights, (Σe)²/Σe².
    public var effectiveSampleSize: Double

    public init(_ dataset: PreferenceDataset) {
        pairs = dataset.count
        let counts = dataset.categoryCounts
        var weightSums = [Double](repeating: 0, count: counts.count)
        for pair in 0..<dataset.count { weightSums[Int(dataset.categoryIndices[pair])] += dataset.exampleWeights[pair] }
        categories = dataset.categoryNames.indices.map { index in
            Category(name: dataset.categoryNames[index], pairs: counts[index],
                     share: Double(counts[index]) / Double(dataset.count),
                     meanExampleWeight: weightSums[index] / Double(counts[index]))
        }.sorted { $0.name < $1.name }
        let total = dataset.exampleWeights.reduce(0, +)
        let squares = dataset.exampleWeights.reduce(0) { $0 + $1 * $1 }
        effectiveSampleSize = squares > 0 ? total * total / squares : 0
    }

    public var json: JSONObject {
        var perCategory = JSONObject()
        for category in categories {
            perCategory[category.name] = ["pairs": JSONValue(category.pairs), "share": .number(category.share),
                                          "mean_example_weight": .number(category.meanExampleWeight)]
        }
        return JSONObject([("pairs", JSONValue(pairs)), ("categories", .object(perCategory)),
                           ("effective_sample_size", .number(effectiveSampleSize))])
    }

    public var table: String {
        let width = max(8, categories.map(\.name.count).max() ?? 0)
        func pad(_ text: String, _ count: Int, left: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, count - text.count))
            return left ? text + fill : fill + text
        }
        var lines = [pad("category", width, left: true) + "  " + pad("pairs", 7) + "  " + pad("share", 6) + "  " + pad("mean weight", 11)]
        for category in categories {
            lines.append(pad(category.name, width, left: true) + "  " + pad(String(category.pairs), 7) + "  "
                         + pad(fixed(category.share, 3), 6) + "  " + pad(fixed(category.meanExampleWeight, 3), 11))
        }
        lines.append("\(pairs) pairs in \(categories.count) categories; effective sample size \(fixed(effectiveSampleSize, 1))")
        return lines.joined(separator: "\n") + "\n"
    }
}
