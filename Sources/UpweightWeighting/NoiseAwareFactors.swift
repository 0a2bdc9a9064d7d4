import UpweightSupport

/// `--noise-aware`: what a label audit's out-of-fold probabilities do to the training pairs.
public enum NoiseAwareMode: String, Sendable, CaseIterable {
    /// The audit does not run.
    case off
    /// Per category k, the round(f̂_k · n_k) pairs with the lowest p_i leave training.
    case drop
    /// Every pair's weight is multiplied by β_i = q_i / p_i (importance reweighting).
    case downweight
}

/// Per-pair factors from a label audit (confident learning per category, Northcutt et al. 2021;
/// importance reweighting, Liu & Tao 2016), given each pair's out-of-fold probability p_i that its
/// stated preference is right and its category's flip estimate f̂_k:
///
/// - drop: the estimated number of flipped labels in category k, m_k = round(f̂_k · n_k) (n_k: the
///   category's pairs with a probability), are the m_k pairs of lowest p_i (ties: the earlier pair
///   first); their factor is 0, every other pair's 1.
/// - downweight: with symmetric flips at rate f, P_noisy(ỹ | x) = f + (1 − 2f)·P_clean(ỹ | x), so the
///   clean posterior of the stated label is q_i = (p_i − f̂)/(1 − 2f̂), clipped to [0, 1], and
///   β_i = P_clean / P_noisy = q_i / p_i makes the noisy expectation of β·ℓ the clean expectation of ℓ.
///   E_noisy[β] = Σ_y P_clean(y | x) = 1, so a category keeps its total weight on average.
///   f̂ = 0 gives β = 1; f̂ = 0.5 (labels that say nothing) gives 0.
///
/// A pair without a probability (its category too small to audit) keeps factor 1. The caller passes
/// f̂ = 0 for a category it does not act on (NoiseAwareTraining: every category not flagged noisy).
public enum NoiseAwareFactors {
    public static func factors(_ mode: NoiseAwareMode, probabilities: [Double?], categories: [Int32],
                               flipEstimates: [Double]) -> [Double] {
        precondition(probabilities.count == categories.count)
        var factors = [Double](repeating: 1, count: probabilities.count)
        switch mode {
        case .off:
            break
        case .drop:
            var members = [[Int]](repeating: [], count: flipEstimates.count)
            for pair in probabilities.indices where probabilities[pair] != nil { members[Int(categories[pair])].append(pair) }
            for (category, pairs) in members.enumerated() {
                let count = Int((flipEstimates[category] * Double(pairs.count)).rounded())
                let lowest = pairs.sorted { (probabilities[$0]!, $0) < (probabilities[$1]!, $1) }.prefix(count)
                for pair in lowest { factors[pair] = 0 }
            }
        case .downweight:
            for pair in probabilities.indices {
                guard let p = probabilities[pair] else { continue }
                let f = flipEstimates[Int(categories[pair])]
                guard f > 0 else { continue }
                // f̂ = 0.5: the labels say nothing (1 − 2f̂ = 0); the category's pairs do not train.
                guard f < 0.5 else { factors[pair] = 0; continue }
                let q = min(max((p - f) / (1 - 2 * f), 0), 1)
                factors[pair] = p > 0 ? q / p : 0
            }
        }
        return factors
    }
}
