import XCTest
@testable import UpweightSupport
@testable import UpweightData
@testable import UpweightEvaluation

/// A dataset built in memory: one entry per pair. Text responses when `chosenTexts` is given, else
/// dense responses with no features (the metrics only read categories, weights and rewards).
func syntheticDataset(categories: [String], weights: [Double]? = nil, chosenTexts: [String]? = nil,
                      rejectedTexts: [String]? = nil) -> PreferenceDataset {
    var names: [String] = []
    let indices = categories.map { name -> Int32 in
        if let index = names.firstIndex(of: name) { return Int32(index) }
        names.append(name)
        return Int32(names.count - 1)
    }
    let responses: PreferenceDataset.Responses = chosenTexts.map { chosen in
        .text(prompts: TextColumn(categories.map { _ in "p" }), chosen: TextColumn(chosen), rejected: TextColumn(rejectedTexts!))
    } ?? .dense(dimension: 0, chosen: [], rejected: [])
    return PreferenceDataset(responses: responses, ids: categories.map { _ in nil }, categoryNames: names, categoryIndices: indices,
                             exampleWeights: weights ?? categories.map { _ in 1 }, margins: categories.map { _ in 0 },
                             splits: categories.map { _ in nil }, sources: categories.map { _ in SourceLocation(file: 0, line: 0) })
}

final class MetricsTests: XCTestCase {
    /// Category a: rewards chosen [2, 0, 5], rejected [0, 1, 5] → Δ = 2, −1, 0 (a tie); weights 2, 1, 1;
    /// response lengths chosen [5, 2, 3] vs rejected [3, 2, 4] characters → longer wins 1, ½, 0.
    /// Category b: chosen [1, 2, 0], rejected [0, 1, 3] → Δ = 1, 1, −3; weights 1, 1, 1; lengths 1, 1, 1 vs 2, 2, 2.
    let fixture = syntheticDataset(categories: ["a", "a", "a", "b", "b", "b"], weights: [2, 1, 1, 1, 1, 1],
                                   chosenTexts: ["abcde", "ab", "abc", "x", "y", "z"],
                                   rejectedTexts: ["abc", "cd", "abcd", "xx", "yy", "zz"])
    let chosen: [Float] = [2, 0, 5, 1, 2, 0]
    let rejected: [Float] = [0, 1, 5, 0, 1, 3]

    func report(ties: TiePolicy = .half) throws -> EvaluationReport {
        try EvaluationReport(dataset: fixture, chosenRewards: chosen, rejectedRewards: rejected,
                             options: EvaluationOptions(ties: ties, bootstrapSamples: 200))
    }

    func test_every_metric_of_a_category_equals_the_hand_computation() throws {
        let a = try report().categories[0].metrics
        XCTAssertEqual(a.pairs, 3)
        XCTAssertEqual(a.accuracy, 0.5, accuracy: 1e-12)                   // (1 + 0 + ½) / 3
        XCTAssertEqual(a.weightedAccuracy, 0.625, accuracy: 1e-12)         // (2·1 + 1·0 + 1·½) / (2 + 1 + 1)
        XCTAssertEqual(a.meanMargin, 1.0 / 3, accuracy: 1e-12)             // (2 − 1 + 0) / 3
        XCTAssertEqual(a.medianMargin, 0, accuracy: 1e-12)                 // sorted −1, 0, 2
        // log loss = mean log(1 + e^−Δ) = (0.126928 + 1.313262 + 0.693147) / 3 = 0.711112
        XCTAssertEqual(a.logLoss, 0.7111124, accuracy: 1e-6)
        // Brier = mean (1 − σ(Δ))²: σ(2) = 0.880797, σ(−1) = 0.268941, σ(0) = ½
        //       = (0.119203² + 0.731059² + 0.5²) / 3 = (0.014209 + 0.534447 + 0.25) / 3 = 0.266219
        XCTAssertEqual(a.brier, 0.266219, accuracy: 1e-6)
        // ECE: confidences 0.880797 (bin [0.85, 0.9), right), 0.731059 (bin [0.7, 0.75), wrong), 0.5 (bin [0.5, 0.55), ½):
        //      (|1 − 0.880797| + |0 − 0.731059| + |½ − ½|) / 3 = 0.850262 / 3 = 0.283421
        XCTAssertEqual(a.calibrationError, 0.283421, accuracy: 1e-6)
        // rewards 2, 0, 5, 0, 1, 5: mean 13/6; variance 55/6 − (13/6)² = 4.472222; sd 2.114763
        XCTAssertEqual(a.rewardMean, 13.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(a.rewardStandardDeviation, 2.114763, accuracy: 1e-6)
        XCTAssertEqual(a.lengthBaselineAccuracy!, 0.5, accuracy: 1e-12)    // (1 + ½ + 0) / 3
    }

    func test_aggregates_equal_the_hand_computation() throws {
        let report = try report()
        let b = report.categories[1].metrics
        XCTAssertEqual(b.accuracy, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(b.weightedAccuracy, 2.0 / 3, accuracy: 1e-12)      // unit weights: the accuracy
        XCTAssertEqual(b.medianMargin, 1, accuracy: 1e-12)
        XCTAssertEqual(b.lengthBaselineAccuracy!, 0, accuracy: 1e-12)
        // overall Δ = 2, −1, 0, 1, 1, −3: accuracy 3.5/6; median of −3, −1, 0, 1, 1, 2 = (0 + 1)/2
        XCTAssertEqual(report.overall.pairs, 6)
        XCTAssertEqual(report.overall.accuracy, 3.5 / 6, accuracy: 1e-12)
        XCTAssertEqual(report.overall.medianMargin, 0.5, accuracy: 1e-12)
        XCTAssertEqual(report.overall.weightedAccuracy, 4.5 / 7, accuracy: 1e-12)  // (2 + ½ + 1 + 1) / 7
        XCTAssertEqual(report.overall.lengthBaselineAccuracy!, 1.5 / 6, accuracy: 1e-12)
        // macro: the plain mean of a's and b's
        XCTAssertEqual(report.macro.accuracy, (0.5 + 2.0 / 3) / 2, accuracy: 1e-12)
        XCTAssertEqual(report.macro.medianMargin, (0 + 1) / 2, accuracy: 1e-12)
        XCTAssertEqual(report.macro.brier, (report.categories[0].metrics.brier + b.brier) / 2, accuracy: 1e-12)
        XCTAssertEqual(report.macro.pairs, 6)
        XCTAssertEqual(report.worst.name, "a")
        XCTAssertEqual(report.worst.accuracy, 0.5, accuracy: 1e-12)
        XCTAssertEqual(report.worst.gap, 2.0 / 3 - 0.5, accuracy: 1e-12)
        XCTAssertTrue(report.hasExampleWeights)
    }

    func test_tie_policies_change_only_how_a_tie_counts() throws {
        // a: Δ = 2, −1, 0. strict: (1 + 0 + 0) / 3; exclude: (1 + 0) / 2. Weighted (2, 1, 1): 2/4 and 2/3.
        let strict = try report(ties: .strict).categories[0].metrics
        XCTAssertEqual(strict.accuracy, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(strict.weightedAccuracy, 0.5, accuracy: 1e-12)
        let exclude = try report(ties: .exclude).categories[0].metrics
        XCTAssertEqual(exclude.accuracy, 0.5, accuracy: 1e-12)
        XCTAssertEqual(exclude.weightedAccuracy, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(exclude.pairs, 3, "an excluded tie is still a pair")
        XCTAssertEqual(exclude.calibrationError, try report().categories[0].metrics.calibrationError, "ECE counts a tie ½ always")
        XCTAssertEqual(try report(ties: .exclude).overall.accuracy, 3.0 / 5, accuracy: 1e-12)
    }

    func test_calibration_bins_hold_their_pairs() {
        // Δ = 0 → c = 0.5 (first bin); Δ = 10 → c ≈ 1 (last bin, not past it); Δ = −0.5 → c = σ(0.5) = 0.622459 (bin 2).
        let calibration = Calibration(margins: [0, 10, -0.5])
        XCTAssertEqual(calibration.bins.map(\.count), [1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
        XCTAssertEqual(calibration.bins[2].lower, 0.6, accuracy: 1e-12)
        XCTAssertEqual(calibration.bins[2].accuracy, 0)
        XCTAssertEqual(calibration.bins[2].meanConfidence, 0.622459, accuracy: 1e-6)
        // ECE = (0 + |1 − 0.999955| + 0.622459) / 3
        XCTAssertEqual(calibration.expectedError, (0 + (1 - sigmoid(10)) + 0.622459) / 3, accuracy: 1e-6)
    }

    func test_reward_spread_with_constant_rewards_is_zero() throws {
        let dataset = syntheticDataset(categories: ["c", "c"])
        let report = EvaluationReport(dataset: dataset, chosenRewards: [1, 1], rejectedRewards: [1, 1])
        XCTAssertEqual(report.overall.rewardStandardDeviation, 0)
        XCTAssertEqual(report.overall.accuracy, 0.5)
        XCTAssertNil(report.overall.lengthBaselineAccuracy, "dense data has no length baseline")
        XCTAssertFalse(report.hasExampleWeights)
    }
}
