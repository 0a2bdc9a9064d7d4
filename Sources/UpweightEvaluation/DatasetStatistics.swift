import UpweightSupport
import UpweightIO
import UpweightData
import UpweightWeighting

/// `stats`: pairs per category, their share, the mean of the per-example weight field, and the
/// class weight s_k that each category scheme would give it.
public struct DatasetStatistics: Sendable {
    public struct Category: Sendable {
        public var name: String
        public var pairs: Int
        public var share: Double
        public var meanExampleWeight: Double
        /// s_k under each scheme of `DatasetStatistics.schemes`, in that order.
        public var schemeWeights: [Double]
    }

    /// The schemes `stats` shows, as `--category-scheme` spells them.
    public static let schemes: [CategoryScheme] = [.balanced, .sqrt, .effective(beta: 0.9), .effective(beta: 0.99), .effective(beta: 0.999)]

    public var pairs: Int
    public var categories: [Category]
    /// Kish's effective sample size of the per-example weights, (Σe)²/Σe².
    public var effectiveSampleSize: Double

    public init(_ dataset: PreferenceDataset) {
        pairs = dataset.count
        let counts = dataset.categoryCounts
        var weightSums = [Double](repeating: 0, count: counts.count)
        let (scaled, scale) = dataset.exampleWeights.scaledForSums
        for pair in 0..<dataset.count { weightSums[Int(dataset.categoryIndices[pair])] += scaled[pair] }
        let schemeWeights = Self.schemes.map { $0.weights(counts: counts) }
        categories = dataset.categoryNames.indices.map { index in
            Category(name: dataset.categoryNames[index], pairs: counts[index],
                     share: Double(counts[index]) / Double(dataset.count),
                     meanExampleWeight: weightSums[index] / Double(counts[index]) * scale,
                     schemeWeights: schemeWeights.map { $0[index] })
        }.sorted { $0.name < $1.name }
        let total = scaled.reduce(0, +)
        let squares = scaled.reduce(0) { $0 + $1 * $1 }
        effectiveSampleSize = squares > 0 ? total * total / squares : 0
    }

    public var json: JSONObject {
        var perCategory = JSONObject()
        for category in categories {
            let weights = JSONObject(zip(Self.schemes, category.schemeWeights).map { ($0.description, .number($1)) })
            perCategory[category.name] = ["pairs": JSONValue(category.pairs), "share": .number(category.share),
                                          "mean_example_weight": .number(category.meanExampleWeight), "weights": .object(weights)]
        }
        return JSONObject([("pairs", JSONValue(pairs)), ("categories", .object(perCategory)),
                           ("effective_sample_size", .number(effectiveSampleSize))])
    }

    /// Aligned columns (names left, numbers right) and the summary line; names escaped for the
    /// terminal (they come from data).
    public var table: String {
        let rows = [displayHeader] + displayRows.map { [terminalEscaped($0[0])] + $0.dropFirst() }
        return (TextTable(rows).lines + [summary]).joined(separator: "\n") + "\n"
    }
}
