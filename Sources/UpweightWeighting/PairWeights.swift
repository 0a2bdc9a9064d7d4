import UpweightSupport
import UpweightData

/// How much each training pair counts. The sources multiply, as `class_weight` and `sample_weight`
/// do in scikit-learn, and are merged here, once, before any optimizer sees them:
///
///     w_i = clip(e_i · c_k · s_k · f_i, lo, hi)   e_i: the pair's weight field (1 when absent)
///                                                 c_k: the user's factor for the pair's category (`--upweight k=c`)
///                                                 s_k: the category scheme (CategoryScheme.swift)
///                                                 f_i: per-pair factors computed from the data, the product of
///                                                      each source's (`--noise-aware`: NoiseAwareFactors.swift;
///                                                      `--target`: DensityRatio.swift; 1 when absent)
///     w_i ← w_i / mean(w)                         unless normalization is off
///
/// Normalizing to mean 1 keeps λ and the learning rate meaning the same whatever the weights' scale.
public struct WeightingConfiguration: Sendable, Equatable {
    public var upweight: [String: Double] = [:]
    public var scheme = CategoryScheme.none
    /// Bounds applied before normalization (`--clip-weights LO,HI`).
    public var clip: ClosedRange<Double>?
    public var normalize = true
    public init() {}

    /// The final weight of every pair of `dataset`. Throws when `--upweight` names a category the
    /// data does not have, listing the ones it has. `pairFactors`: f_i, one per pair (nil: all 1).
    /// Pairs that should not train at all are left out of `dataset` rather than given a factor 0,
    /// so that the mean is taken over the pairs that train.
    public func weights(for dataset: PreferenceDataset, pairFactors: [Double]? = nil) throws -> [Double] {
        precondition(pairFactors.map { $0.count == dataset.count } ?? true, "one factor per pair")
        try validate(categories: dataset.categoryNames)
        var categoryFactor = scheme.weights(counts: dataset.categoryCounts)
        for (category, factor) in upweight { categoryFactor[dataset.categoryNames.firstIndex(of: category)!] *= factor }
        var weights = (0..<dataset.count).map { dataset.exampleWeights[$0] * categoryFactor[Int(dataset.categoryIndices[$0])] * (pairFactors?[$0] ?? 1) }
        if let clip {
            for index in weights.indices { weights[index] = min(max(weights[index], clip.lowerBound), clip.upperBound) }
        }
        if let pair = weights.firstIndex(where: { !$0.isFinite }) {
            throw dataset.error(atPair: pair, field: nil, reason: "weight overflow",
                                message: "the weight \(dataset.exampleWeights[pair]) times its category's factor \(categoryFactor[Int(dataset.categoryIndices[pair])])\(pairFactors.map { " and its pair factor \($0[pair])" } ?? "") is not finite; use smaller weights or factors")
        }
        // Σw of finite weights can still overflow (two of 1e308): then sum w / max w, whose total is at most N.
        let total = weights.reduce(0, +)
        let largest = total.isFinite ? 1 : weights.lazy.map(abs).max()!
        let scaledTotal = total.isFinite ? total : weights.reduce(0) { $0 + $1 / largest }
        guard scaledTotal > 0 else { throw UsageError("every training pair has weight 0: nothing to learn from") }
        if normalize {
            let scale = Double(weights.count) / scaledTotal
            for index in weights.indices { weights[index] = weights[index] / largest * scale }
        } else if !total.isFinite {
            throw UsageError("the training weights sum to more than \(Double.greatestFiniteMagnitude) with --normalize none; normalize them (--normalize mean) or use smaller weights")
        }
        return weights
    }

    /// Throws when `--upweight` names a category that is not among `categories`, listing the ones there are.
    public func validate(categories: [String]) throws {
        for category in upweight.keys.sorted() where !categories.contains(category) {
            let known = categories.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            throw UsageError("--upweight names category \"\(category)\", which is not in the training data (its categories: \(known))")
        }
    }
}
