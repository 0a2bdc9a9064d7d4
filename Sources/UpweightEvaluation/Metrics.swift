import UpweightSupport
import UpweightWeighting

/// How a tie (Δ = 0: the model has no preference) counts towards accuracy.
public enum TiePolicy: String, Sendable, CaseIterable {
    /// A tie counts ½, what a coin flip would score on average (RewardBench's convention).
    case half
    /// A tie counts 0: only a strict preference for the chosen response is right.
    case strict
    /// Ties are left out of accuracy's denominator.
    case exclude

    /// The accuracy credit of a pair with margin Δ, or nil when the pair does not count.
    package func credit(_ margin: Double) -> Double? {
        if margin > 0 { return 1 }
        if margin < 0 { return 0 }
        switch self {
        case .half: return 0.5
        case .strict: return 0
        case .exclude: return nil
        }
    }

    /// For people: "a tie counts ½".
    public var explanation: String {
        switch self {
        case .half: return "a tie (Δ = 0) counts ½"
        case .strict: return "a tie (Δ = 0) counts 0"
        case .exclude: return "ties (Δ = 0) are left out of accuracy"
        }
    }
}

/// A two-sided interval; NaN ends when there was nothing to resample.
public struct Interval: Sendable, Equatable {
    public var lower: Double
    public var upper: Double
    public static let unknown = Interval(lower: .nan, upper: .nan)

    /// True when the whole interval lies on one side of `value` (a "significant" difference from it).
    public func excludes(_ value: Double) -> Bool { lower > value || upper < value }
}

/// The columns of one group of pairs (a category, or all of them) that the metrics read.
package struct PairColumns {
    /// Δ_i = r(chosen_i) − r(rejected_i).
    package var margins: [Double] = []
    package var chosenRewards: [Double] = []
    package var rejectedRewards: [Double] = []
    /// The per-example weight field (1 where absent).
    package var weights: [Double] = []
    /// For text data: 1 when the chosen response is longer, ½ when as long, 0 when shorter.
    package var lengthCredits: [Double]? = nil
}

extension EvaluationReport {
    /// The metrics of one group of pairs. With Δ_i = r(chosen_i) − r(rejected_i) and N pairs:
    public struct Metrics: Sendable, Equatable {
        public var pairs: Int
        /// Σ credit(Δ_i) / (pairs that count): credit 1 for Δ > 0, 0 for Δ < 0, a tie by `TiePolicy`.
        public var accuracy: Double
        /// Percentile bootstrap 95% interval of `accuracy` (see `Bootstrap`).
        public var accuracyInterval: Interval = .unknown
        /// Σ e_i credit(Δ_i) / Σ e_i over the pairs that count, e_i = the per-example weight field.
        public var weightedAccuracy: Double
        /// mean Δ_i and the median of Δ (the mean of the two middle values when N is even).
        public var meanMargin: Double
        public var medianMargin: Double
        /// mean softplus(−Δ_i) = mean −log σ(Δ_i), in nats.
        public var logLoss: Double
        /// mean (1 − σ(Δ_i))²: the squared error of the probability given to the chosen response.
        public var brier: Double
        /// Expected calibration error over 10 confidence bins (see `Calibration`).
        public var calibrationError: Double
        /// Mean and population standard deviation of the 2N rewards: chosen and rejected together,
        /// which shows the scale the model works at (a margin of 1 means little when rewards spread 100).
        public var rewardMean: Double
        public var rewardStandardDeviation: Double
        /// Accuracy of "the longer response wins" (length in Unicode scalars, Python's `len`; ties ½);
        /// text data only. A model near this number may have learned length, not preference.
        public var lengthBaselineAccuracy: Double?

        package init(_ columns: PairColumns, ties: TiePolicy) {
            let margins = columns.margins
            pairs = margins.count
            var credits = 0.0, counted = 0.0, weightedCredits = 0.0, countedWeight = 0.0
            for (margin, weight) in zip(margins, columns.weights.scaledForSums.values) {
                guard let credit = ties.credit(margin) else { continue }
                credits += credit
                counted += 1
                weightedCredits += weight * credit
                countedWeight += weight
            }
            accuracy = credits / counted
            weightedAccuracy = weightedCredits / countedWeight
            meanMargin = mean(margins)
            medianMargin = median(margins)
            logLoss = mean(margins.map { softplus(-$0) })
            brier = mean(margins.map { (1 - sigmoid($0)) * (1 - sigmoid($0)) })
            calibrationError = Calibration(margins: margins).expectedError
            let rewards = columns.chosenRewards + columns.rejectedRewards
            let rewardAverage = mean(rewards)
            rewardMean = rewardAverage
            rewardStandardDeviation = mean(rewards.map { ($0 - rewardAverage) * ($0 - rewardAverage) }).squareRoot()
            lengthBaselineAccuracy = columns.lengthCredits.map(mean)
        }

        /// The unweighted mean over `groups` of every metric; `pairs` is their total.
        package init(meanOf groups: [Metrics]) {
            func average(_ metric: (Metrics) -> Double) -> Double { mean(groups.map(metric)) }
            pairs = groups.reduce(0) { $0 + $1.pairs }
            accuracy = average(\.accuracy)
            weightedAccuracy = average(\.weightedAccuracy)
            meanMargin = average(\.meanMargin)
            medianMargin = average(\.medianMargin)
            logLoss = average(\.logLoss)
            brier = average(\.brier)
            calibrationError = average(\.calibrationError)
            rewardMean = average(\.rewardMean)
            rewardStandardDeviation = average(\.rewardStandardDeviation)
            let lengths = groups.compactMap(\.lengthBaselineAccuracy)
            lengthBaselineAccuracy = lengths.count == groups.count ? mean(lengths) : nil
        }
    }
}
package func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
