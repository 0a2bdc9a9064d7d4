import UpweightSupport
import UpweightIO

/// A per-category weight s_k computed from the training counts n_k (N pairs, K categories).
///
///     none          s_k = 1
///     balanced      s_k = N / (K · n_k)                       scikit-learn's class_weight="balanced"
///     sqrt          s_k = √(N / (K · n_k))                    a softer balance
///     effective:β   s_k ∝ (1 − β) / (1 − β^{n_k}), Σ_k s_k = K  "effective number of samples" (Cui et al. 2019)
///
/// For counts [90, 10]: balanced 0.5556 / 5.0, sqrt 0.7454 / 2.2361, effective:0.9 0.7889 / 1.2111.
public enum CategoryScheme: Sendable, Equatable, CustomStringConvertible {
    case none
    case balanced
    case sqrt
    case effective(beta: Double)

    /// Parses `none`, `balanced`, `sqrt` or `effective:BETA` with 0 ≤ β < 1.
    public init?(_ text: String) {
        switch text {
        case "none": self = .none
        case "balanced": self = .balanced
        case "sqrt": self = .sqrt
        default:
            guard text.hasPrefix("effective:"), let beta = Double(text.dropFirst("effective:".count)),
                  beta >= 0, beta < 1
            else { return nil }
            self = .effective(beta: beta)
        }
    }

    public var description: String {
        switch self {
        case .none: return "none"
        case .balanced: return "balanced"
        case .sqrt: return "sqrt"
        case .effective(let beta): return "effective:\(JSONValue.format(beta))"
        }
    }

    /// s_k for each category count (categories with no pairs get 0: they have nothing to weight).
    public func weights(counts: [Int]) -> [Double] {
        let present = counts.filter { $0 > 0 }
        let total = Double(present.reduce(0, +))
        let categories = Double(present.count)
        switch self {
        case .none:
            return counts.map { $0 > 0 ? 1 : 0 }
        case .balanced:
            return counts.map { $0 > 0 ? total / (categories * Double($0)) : 0 }
        case .sqrt:
            return counts.map { $0 > 0 ? (total / (categories * Double($0))).squareRoot() : 0 }
        case .effective(let beta):
            // (1 − β)/(1 − β^n) → 1/n as β → 1 and 1 at β = 0; then rescaled so the weights sum to K.
            let raw = counts.map { $0 > 0 ? (1 - beta) / (1 - pow(beta, Double($0))) : 0 }
            let sum = raw.reduce(0, +)
            return raw.map { $0 * categories / sum }
        }
    }
}
