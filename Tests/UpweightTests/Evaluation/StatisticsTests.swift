import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightEvaluation

/// Bootstrap intervals, the paired comparison with McNemar's test, and sections.
final class StatisticsTests: XCTestCase {
    func test_percentile_interpolates_between_order_statistics() {
        // numpy.percentile([1, 2, 3, 4, 5], [2.5, 97.5]) = [1.1, 4.9]: positions 0.1 and 3.9
        let interval = Bootstrap.percentileInterval([5, 3, 1, 4, 2])
        XCTAssertEqual(interval.lower, 1.1, accuracy: 1e-12)
        XCTAssertEqual(interval.upper, 4.9, accuracy: 1e-12)
    }

    /// 400 synthetic datasets of 200 pairs, each right with probability p = 0.7. A 95% interval should
    /// cover 0.7 in about 95% of them. Tolerance [0.92, 0.98]: with 400 datasets the coverage's Monte
    /// Carlo standard error is √(0.95·0.05/400) ≈ 0.011, and the percentile bootstrap of a proportion
    /// at n = 200 undercovers a little (≈ 0.94), so the band is about ±2.7 standard errors. A bug
    /// (intervals too narrow or too wide by a factor of 1.5, a wrong percentile) leaves it. Seeded: the
    /// outcome is fixed, not flaky.
    func test_bootstrap_intervals_cover_the_true_accuracy_at_about_the_nominal_rate() throws {
        var generator = SplitMix64(seed: 2024)
        let dataset = syntheticDataset(categories: [String](repeating: "c", count: 200))
        var covered = 0
        for trial in 0..<400 {
            let chosen = (0..<200).map { _ -> Float in generator.nextUnit() < 0.7 ? 1 : -1 }
            let report = try EvaluationReport(dataset: dataset, chosenRewards: chosen, rejectedRewards: [Float](repeating: 0, count: 200),
                                              options: EvaluationOptions(bootstrapSamples: 1000, seed: UInt64(trial)))
            let interval = report.overall.accuracyInterval
            XCTAssertEqual(interval, report.categories[0].metrics.accuracyInterval, "one category: overall is the category")
            if interval.lower <= 0.7 && 0.7 <= interval.upper { covered += 1 }
        }
        let coverage = Double(covered) / 400
        XCTAssertGreaterThanOrEqual(coverage, 0.92)
        XCTAssertLessThanOrEqual(coverage, 0.98)
    }

    func test_bootstrap_is_seeded_and_resamples_within_categories() throws {
        let dataset = syntheticDataset(categories: ["a", "a", "a", "a", "b", "b", "b", "b"])
        let chosen: [Float] = [1, 1, 1, 1, 1, -1, 1, -1]
        let zeros = [Float](repeating: 0, count: 8)
        func interval(seed: UInt64) throws -> EvaluationReport {
            try EvaluationReport(dataset: dataset, chosenRewards: chosen, rejectedRewards: zeros,
                                 options: EvaluationOptions(bootstrapSamples: 500, seed: seed))
        }
        let first = try interval(seed: 7), again = try interval(seed: 7)
        XCTAssertEqual(first.categories[1].metrics.accuracyInterval, again.categories[1].metrics.accuracyInterval)
        // Category a is always right, so every resample of it is too: its interval is [1, 1].
        XCTAssertEqual(first.categories[0].metrics.accuracyInterval, Interval(lower: 1, upper: 1))
        // Macro = (1 + accuracy of b's resample) / 2, so its interval is [0.5 + lo_b / 2, 0.5 + hi_b / 2].
        let b = first.categories[1].metrics.accuracyInterval
        XCTAssertEqual(first.macro.accuracyInterval.lower, 0.5 + b.lower / 2, accuracy: 1e-12)
        XCTAssertEqual(first.macro.accuracyInterval.upper, 0.5 + b.upper / 2, accuracy: 1e-12)
        let none = try EvaluationReport(dataset: dataset, chosenRewards: chosen, rejectedRewards: zeros,
                                        options: EvaluationOptions(bootstrapSamples: 0))
        XCTAssertTrue(none.overall.accuracyInterval.lower.isNaN, "--bootstrap 0: no interval")
    }

    func test_mcnemar_p_values_equal_scipy_binomtest() {
        // scipy.stats.binomtest(k, n, 0.5).pvalue, and by hand for the small ones:
        XCTAssertEqual(mcNemarPValue(modelOnly: 1, baselineOnly: 9), 0.021484375, accuracy: 1e-12)   // 2·(1 + 10)/2¹⁰
        XCTAssertEqual(mcNemarPValue(modelOnly: 8, baselineOnly: 3), 0.2265625, accuracy: 1e-12)     // 2·(1+11+55+165)/2¹¹
        XCTAssertEqual(mcNemarPValue(modelOnly: 0, baselineOnly: 7), 0.015625, accuracy: 1e-12)      // 2/2⁷
        XCTAssertEqual(mcNemarPValue(modelOnly: 40, baselineOnly: 60), 0.05688793364098089, accuracy: 1e-10)
        XCTAssertEqual(mcNemarPValue(modelOnly: 150, baselineOnly: 120), 0.07738939898021849, accuracy: 1e-10)
        XCTAssertEqual(mcNemarPValue(modelOnly: 5, baselineOnly: 5), 1)
        XCTAssertEqual(mcNemarPValue(modelOnly: 0, baselineOnly: 0), 1)
        XCTAssertEqual(mcNemarPValue(modelOnly: 3000, baselineOnly: 3000), 1, accuracy: 1e-9, "no underflow for large n")
    }

    func test_comparison_counts_a_tie_as_wrong_for_mcnemar() throws {
        // Δ model = 1, 0, −1, 1; baseline = 0, 1, 1, 1. Right (Δ > 0): model T F F T, baseline F T T T.
        // Discordant: b = 1 (pair 0), c = 2 (pairs 1, 2): p = 2·P(X ≤ 1 | n = 3) = 2·4/8 = 1.
        // Accuracy (ties ½): model (1 + ½ + 0 + 1)/4 = 0.625, baseline (½ + 1 + 1 + 1)/4 = 0.875 → −0.25.
        let dataset = syntheticDataset(categories: ["c", "c", "c", "c"])
        let zeros = [Float](repeating: 0, count: 4)
        XCTAssertTrue(discordantCounts(model: [1, 0, -1, 1], baseline: [0, 1, 1, 1]) == (1, 2))
        let report = try EvaluationReport(dataset: dataset, chosenRewards: [1, 0, -1, 1], rejectedRewards: zeros,
                                          options: EvaluationOptions(baselineRewards: ([0, 1, 1, 1], zeros)))
        let overall = try XCTUnwrap(report.comparison).overall
        XCTAssertEqual(overall.accuracyDelta, -0.25, accuracy: 1e-12)
        XCTAssertEqual(overall.baselineAccuracy, 0.875, accuracy: 1e-12)
        XCTAssertEqual(overall.pValue, 1)
        XCTAssertTrue(overall.interval.lower <= -0.25 && -0.25 <= overall.interval.upper)
    }

    func test_a_model_against_itself_differs_by_exactly_zero() throws {
        let dataset = syntheticDataset(categories: ["a", "b", "a", "b", "a"])
        let chosen: [Float] = [1, -1, 2, 0.5, -3], zeros = [Float](repeating: 0, count: 5)
        let report = try EvaluationReport(dataset: dataset, chosenRewards: chosen, rejectedRewards: zeros,
                                          options: EvaluationOptions(baselineRewards: (chosen, zeros)))
        let comparison = try XCTUnwrap(report.comparison)
        for item in comparison.categories + [comparison.overall] {
            XCTAssertEqual(item.accuracyDelta, 0)
            XCTAssertEqual(item.interval, Interval(lower: 0, upper: 0), "paired resamples: the same pairs for both")
            XCTAssertEqual(item.pValue, 1)
            XCTAssertFalse(item.isSignificant)
        }
    }

    func test_sections_weight_categories_by_pairs_and_sections_by_weight() throws {
        // a: 3 pairs, accuracy ½ (Δ 1, −1, 0); b: 3 pairs, 2/3 (Δ 1, 1, −1); c: 2 pairs, 1 (Δ 1, 1).
        // S1 = {b, c}, weight 2: (3·2/3 + 2·1) / 5 = 0.8 (the plain mean would be 0.8333).
        // S2 = {a}, weight 1: 0.5.    sections_overall = (2·0.8 + 1·0.5) / 3 = 0.7.
        let dataset = syntheticDataset(categories: ["a", "a", "a", "b", "b", "b", "c", "c"])
        let chosen: [Float] = [1, -1, 0, 1, 1, -1, 1, 1]
        let json = try XCTUnwrap(try? JSONParser.parse(#"{"S1": {"categories": ["b", "c"], "weight": 2}, "S2": {"categories": ["a"]}}"#))
        guard case .object(let object) = json else { return XCTFail("not an object") }
        let sections = try Sections(json: object, file: "sections.json")
        let report = try EvaluationReport(dataset: dataset, chosenRewards: chosen, rejectedRewards: [Float](repeating: 0, count: 8),
                                          options: EvaluationOptions(sections: sections))
        let results = try XCTUnwrap(report.sections)
        XCTAssertEqual(results.map(\.name), ["S1", "S2"], "the file's order")
        XCTAssertEqual(results[0].accuracy, 0.8, accuracy: 1e-12)
        XCTAssertEqual(results[0].pairs, 5)
        XCTAssertEqual(results[1].weight, 1, "weight defaults to 1")
        XCTAssertEqual(results[1].accuracy, 0.5, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(report.sectionsOverall), 0.7, accuracy: 1e-12)
    }

    func test_unknown_section_categories_are_a_usage_error_naming_them_and_the_file() throws {
        let dataset = syntheticDataset(categories: ["a", "b"])
        let sections = Sections(sections: [.init(name: "S", categories: ["a", "chat", "code"], weight: 1)], file: "s.json")
        XCTAssertThrowsError(try EvaluationReport(dataset: dataset, chosenRewards: [1, 1], rejectedRewards: [0, 0],
                                                  options: EvaluationOptions(sections: sections))) { error in
            XCTAssertEqual(error as? UsageError, UsageError("s.json: unknown categories \"chat\", \"code\" (the data has \"a\", \"b\")"))
        }
        guard case .object(let bad)? = try? JSONParser.parse(#"{"S": {"categories": "a"}}"#) else { return XCTFail() }
        XCTAssertThrowsError(try Sections(json: bad, file: "s.json")) { error in
            XCTAssertTrue((error as? UsageError)?.message.hasPrefix("s.json: section \"S\" needs") == true, "\(error)")
        }
    }
}
