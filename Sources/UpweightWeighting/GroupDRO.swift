import UpweightSupport

/// Group distributionally robust optimization over categories (Sagawa et al. 2020, Algorithm 1):
/// the loss is Σ_k q_k·L_k, with L_k the weighted mean loss of category k, and after each step
///
///     q_k ← q_k · exp(η · (L_k + C / √n_k)),   then q ← q / Σq
///
/// so the categories that are doing worst get more of the weight. C ≥ 0 is the generalization
/// adjustment (larger for small categories, which overfit more).
public struct GroupDRO: Sendable, Equatable {
    public var stepSize: Double
    public var adjustment: Double
    /// q_k, one per category, summing to 1.
    public private(set) var groupWeights: [Double]
    private let counts: [Int]

    public init(stepSize: Double, adjustment: Double, counts: [Int]) {
        self.stepSize = stepSize
        self.adjustment = adjustment
        self.counts = counts
        let present = counts.filter { $0 > 0 }.count
        groupWeights = counts.map { $0 > 0 ? 1 / Double(present) : 0 }
    }

    /// Group DRO with step size η (nil when η is 0, i.e. `--group-dro` off), over these pairs' categories.
    package init?(stepSize: Double, adjustment: Double, categories: [Int32], categoryCount: Int) {
        guard stepSize > 0 else { return nil }
        var counts = [Int](repeating: 0, count: categoryCount)
        for category in categories { counts[Int(category)] += 1 }
        self.init(stepSize: stepSize, adjustment: adjustment, counts: counts)
    }

    /// Per-category multipliers that turn the objective's weighted mean into Σ_k q_k·L_k:
    /// pair i of category k gets weight w_i·q_k/W_k, where W_k = Σ_{i∈k} w_i over the pairs in use.
    public func categoryScale(weightByCategory: [Double]) -> [Double] {
        weightByCategory.indices.map { weightByCategory[$0] > 0 ? groupWeights[$0] / weightByCategory[$0] : 0 }
    }

    /// Continues from weights a checkpoint saved.
    package mutating func restore(_ weights: [Double]) {
        if weights.count == groupWeights.count { groupWeights = weights }
    }

    /// The exponentiated-gradient step, from the per-category mean losses L_k of the last step
    /// (categories absent from it keep their q_k before renormalization).
    ///
    /// The step is taken on log q and normalized by the largest logit before exponentiating (a
    /// softmax), so a large η·L cannot overflow exp into inf/inf = NaN.
    public mutating func update(categoryLosses: [Double?]) {
        var logits = groupWeights.map { $0 > 0 ? log($0) : -Double.infinity }
        for k in groupWeights.indices {
            guard let loss = categoryLosses[k], counts[k] > 0 else { continue }
            logits[k] += stepSize * (loss + adjustment / Double(counts[k]).squareRoot())
        }
        guard let largest = logits.max(), largest.isFinite else { return }
        let exponentials = logits.map { exp($0 - largest) }
        let total = exponentials.reduce(0, +)
        groupWeights = exponentials.map { $0 / total }
    }
}
