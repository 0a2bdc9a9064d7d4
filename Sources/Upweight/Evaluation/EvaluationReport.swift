/// Alignment metrics of a reward model on preference pairs, per category and in aggregate.
///
/// With Δ_i = r(chosen_i) − r(rejected_i) (the pair's margin field is not subtracted: it shapes
/// training, not the question "does the model prefer the chosen response?"):
/// - accuracy: mean of 1[Δ > 0], a tie (Δ = 0) counting ½;
/// - mean margin: mean Δ;
/// - log loss: mean softplus(−Δ) = mean −log σ(Δ).
public struct EvaluationReport: Sendable {
    public struct Metrics: Sendable, Equatable {
        public var pairs: Int
        public var accuracy: Double
        public var meanMargin: Double
        public var logLoss: Double

        init(deltas: [Double]) {
            pairs = deltas.count
            let count = Double(max(deltas.count, 1))
            accuracy = deltas.reduce(0) { $0 + ($1 > 0 ? 1 : $1 == 0 ? 0.5 : 0) } / count
            meanMargin = deltas.reduce(0, +) / count
            logLoss = deltas.reduce(0) { $0 + softplus(-$1) } / count
        }

        init(pairs: Int, accuracy: Double, meanMargin: Double, logLoss: Double) {
            self.pairs = pairs
            self.accuracy = accuracy
            self.meanMargin = meanMargin
            self.logLoss = logLoss
        }
    }

    public var overall: Metrics
    /// Per category, sorted by name.
    public var categories: [(name: String, metrics: Metrics)]
    /// The unweighted mean of the categories' metrics (`pairs` is the total).
    public var macro: Metrics
    /// The category with the lowest accuracy (the first by name among equals).
    public var worst: (name: String, accuracy: Double)

    public init(dataset: PreferenceDataset, chosenRewards: [Float], rejectedRewards: [Float]) {
        precondition(chosenRewards.count == dataset.count && rejectedRewards.count == dataset.count)
        let deltas = (0..<dataset.count).map { Double(chosenRewards[$0]) - Double(rejectedRewards[$0]) }
        var byCategory = [[Double]](repeating: [], count: dataset.categoryNames.count)
        for pair in 0..<dataset.count { byCategory[Int(dataset.categoryIndices[pair])].append(deltas[pair]) }
        overall = Metrics(deltas: deltas)
        categories = dataset.categoryNames.indices.map { (dataset.categoryNames[$0], Metrics(deltas: byCategory[$0])) }
            .filter { $0.1.pairs > 0 }
            .sorted { $0.0 < $1.0 }
        let count = Double(categories.count)
        macro = Metrics(pairs: dataset.count,
                        accuracy: categories.reduce(0) { $0 + $1.metrics.accuracy } / count,
                        meanMargin: categories.reduce(0) { $0 + $1.metrics.meanMargin } / count,
                        logLoss: categories.reduce(0) { $0 + $1.metrics.logLoss } / count)
        let lowest = categories.min { $0.metrics.accuracy < $1.metrics.accuracy }!
        worst = (lowest.name, lowest.metrics.accuracy)
    }
}
