import UpweightSupport
import UpweightIO
import UpweightData

extension String {
    /// Left-aligned in a field of `width` characters.
    package func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}

/// What the weights did: per category, its pairs and its share of the total weight before
/// (the per-example field alone) and after weighting; overall, the effective sample size
/// (Σw)²/Σw² (Kish) and the share of weight held by the heaviest 1% of pairs. A small effective
/// sample size or a large top-1% share says that a few pairs dominate training.
public struct WeightSummary: Sendable, Equatable {
    public struct Category: Sendable, Equatable {
        public var name: String
        public var pairs: Int
        public var shareBefore: Double
        public var shareAfter: Double
    }

    public var categories: [Category]
    public var effectiveSampleSize: Double
    public var topOnePercentShare: Double

    public init(dataset: PreferenceDataset, weights: [Double]) {
        let counts = dataset.categoryCounts
        var before = [Double](repeating: 0, count: counts.count)
        var after = before
        // Shares and ratios of scaled weights: the same numbers, without overflow (ScaledSums.swift).
        let exampleWeights = dataset.exampleWeights.scaledForSums.values
        let weights = weights.scaledForSums.values
        for pair in 0..<dataset.count {
            let category = Int(dataset.categoryIndices[pair])
            before[category] += exampleWeights[pair]
            after[category] += weights[pair]
        }
        let totalBefore = before.reduce(0, +)
        let totalAfter = after.reduce(0, +)
        categories = dataset.categoryNames.indices.map { index in
            Category(name: dataset.categoryNames[index], pairs: counts[index],
                     shareBefore: totalBefore > 0 ? before[index] / totalBefore : 0,
                     shareAfter: totalAfter > 0 ? after[index] / totalAfter : 0)
        }.sorted { $0.name < $1.name }
        let squares = weights.reduce(0) { $0 + $1 * $1 }
        effectiveSampleSize = squares > 0 ? totalAfter * totalAfter / squares : 0
        let heaviest = weights.sorted(by: >).prefix(max(1, weights.count / 100))
        topOnePercentShare = totalAfter > 0 ? heaviest.reduce(0, +) / totalAfter : 0
    }

    /// Per category: pairs, weight share before and after weighting; for the training log on stderr.
    public var table: String {
        var table = TextTable([["category", "pairs", "share before", "share after"]] + categories.map { category in
            [terminalEscaped(category.name), String(category.pairs), fixed(100 * category.shareBefore, 1) + "%",
             fixed(100 * category.shareAfter, 1) + "%"]
        })
        table.minimumWidths = [0: 8, 1: 7]
        return table.lines.joined(separator: "\n")
    }

    /// What `train` notes on stderr, a line each: the table, then the effective sample size of `pairs`
    /// training pairs and the heaviest 1%'s share.
    public func notes(pairs: Int) -> [String] {
        table.split(separator: "\n").map(String.init)
            + ["weights: effective sample size \(fixed(effectiveSampleSize, 1)) of \(plural(pairs, "pair", "pairs")); heaviest 1% hold \(fixed(100 * topOnePercentShare, 1))% of the weight"]
    }

    public var json: JSONObject {
        var perCategory = JSONObject()
        for category in categories {
            perCategory[category.name] = ["pairs": JSONValue(category.pairs), "share_before": .number(category.shareBefore),
                                          "share_after": .number(category.shareAfter)]
        }
        return JSONObject([("categories", .object(perCategory)),
                           ("effective_sample_size", .number(effectiveSampleSize)),
                           ("top_1_percent_share", .number(topOnePercentShare))])
    }
}
