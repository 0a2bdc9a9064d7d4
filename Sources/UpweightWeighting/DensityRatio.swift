import UpweightSupport

/// Importance weights toward a target domain from a domain classifier (Shimodaira 2000; the
/// classifier route of Bickel, Brückner & Scheffer 2007 and Sugiyama et al. 2012, ch. 9).
///
/// A classifier trained to tell target items (label 1, n_target of them) from training pairs
/// (label 0, n_train) estimates p(x) = P(target | x). By Bayes' rule
///
///     p_target(x) / p_train(x) = p(x)/(1 − p(x)) · n_train/n_target = exp(s(x)) · n_train/n_target
///
/// with s the classifier's logit. Each training pair's ratio r_i is then clipped at the q-quantile
/// of all the ratios, c = Q_q(r) (linear interpolation between order statistics, NumPy's default),
/// so that a handful of pairs deep in the target region cannot carry the fit, and normalised to mean
/// 1: w_i = min(r_i, c) / mean_j min(r_j, c). The effective sample size (Kish) says how many
/// equally weighted pairs the weights are worth: ESS = (Σw)² / Σw².
public struct DensityRatio: Sendable, Equatable {
    /// Each training pair's factor, mean 1.
    public var factors: [Double]
    /// The clip quantile q and the ratio c it gave.
    public var clipQuantile: Double
    public var clipValue: Double
    /// Pairs whose ratio was above c.
    public var clippedPairs: Int
    public var effectiveSampleSize: Double

    /// - Parameters:
    ///   - logits: s_i, the classifier's logit for each training pair (out of fold).
    ///   - trainingCount, targetCount: n_train and n_target, the classes' sizes as the classifier saw them.
    public init(logits: [Double], trainingCount: Int, targetCount: Int, clipQuantile: Double) {
        precondition(!logits.isEmpty && trainingCount > 0 && targetCount > 0, "a density ratio needs both domains")
        let prior = Double(trainingCount) / Double(targetCount)
        // exp(s) overflows past s ≈ 709: such a pair is clipped anyway, so its ratio is capped where
        // Double still adds up N of them.
        let largest = Double.greatestFiniteMagnitude / Double(logits.count) / 4
        let ratios = logits.map { min(exp($0) * prior, largest) }
        self.clipQuantile = clipQuantile
        let clip = Self.quantile(ratios.sorted(), clipQuantile)
        clipValue = clip
        clippedPairs = ratios.count(where: { $0 > clip })
        let clipped = ratios.map { min($0, clip) }
        let mean = clipped.reduce(0, +) / Double(clipped.count)
        // Every ratio is > 0 unless exp(s) underflowed everywhere: then no pair looks like the target.
        factors = mean > 0 ? clipped.map { $0 / mean } : [Double](repeating: 1, count: clipped.count)
        effectiveSampleSize = Self.effectiveSampleSize(factors)
    }

    /// Q_q of ascending `sorted`: the value at position q·(n − 1), interpolated linearly.
    package static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let below = Int(position.rounded(.down))
        let above = min(below + 1, sorted.count - 1)
        let fraction = position - Double(below)
        return sorted[below] + fraction * (sorted[above] - sorted[below])
    }

    /// (Σw)² / Σw².
    public static func effectiveSampleSize(_ weights: [Double]) -> Double {
        let total = weights.reduce(0, +)
        let squares = weights.reduce(0) { $0 + $1 * $1 }
        return squares > 0 ? total * total / squares : 0
    }
}
