import Foundation
import XCTest
@testable import UpweightSupport
@testable import UpweightData
@testable import UpweightWeighting
@testable import UpweightEvaluation

/// `--target`'s arithmetic, checked by hand: classifier logits → density ratios → clip → mean 1,
/// the effective sample size, the AUC, and the per-pair factor inside PairWeights.
final class DensityRatioTests: XCTestCase {
    /// n_train = 10, n_target = 5: r = p/(1−p) · 10/5 = exp(s) · 2. Logits ln 1, ln 2, ln 4, ln 8,
    /// ln ½ give ratios 2, 4, 8, 16, 1.
    let logits = [1.0, 2, 4, 8, 0.5].map { log($0) }

    func test_without_clipping_the_weights_are_the_ratios_over_their_mean() {
        let ratio = DensityRatio(logits: logits, trainingCount: 10, targetCount: 5, clipQuantile: 1)
        // Σr = 31, mean 6.2; ESS = 31² / (4 + 16 + 64 + 256 + 1) = 961 / 341.
        let expected = [2.0, 4, 8, 16, 1].map { $0 / 6.2 }
        for (got, want) in zip(ratio.factors, expected) { XCTAssertEqual(got, want, accuracy: 1e-12) }
        XCTAssertEqual(ratio.clipValue, 16, accuracy: 1e-12)
        XCTAssertEqual(ratio.clippedPairs, 0)
        XCTAssertEqual(ratio.effectiveSampleSize, 961.0 / 341, accuracy: 1e-12)
    }

    func test_the_clip_is_the_interpolated_quantile_of_the_ratios() {
        // Sorted ratios 1, 2, 4, 8, 16: q = 0.6 sits at position 0.6·4 = 2.4, between 4 and 8 → 5.6.
        let ratio = DensityRatio(logits: logits, trainingCount: 10, targetCount: 5, clipQuantile: 0.6)
        XCTAssertEqual(ratio.clipValue, 5.6, accuracy: 1e-12)
        XCTAssertEqual(ratio.clippedPairs, 2)
        // Clipped 2, 4, 5.6, 5.6, 1: Σ 18.2, mean 3.64; Σw² = (4 + 16 + 31.36·2 + 1)/3.64².
        let clipped = [2.0, 4, 5.6, 5.6, 1]
        for (got, want) in zip(ratio.factors, clipped.map { $0 / 3.64 }) { XCTAssertEqual(got, want, accuracy: 1e-12) }
        XCTAssertEqual(ratio.factors.reduce(0, +) / 5, 1, accuracy: 1e-12, "mean 1")
        XCTAssertEqual(ratio.effectiveSampleSize, 18.2 * 18.2 / 83.72, accuracy: 1e-12)
        // q = 0.75: position 3 exactly, the 4th order statistic.
        XCTAssertEqual(DensityRatio(logits: logits, trainingCount: 10, targetCount: 5, clipQuantile: 0.75).clipValue, 8, accuracy: 1e-12)
    }

    func test_equal_logits_give_equal_weights_and_a_full_sample() {
        let ratio = DensityRatio(logits: [Double](repeating: 0.3, count: 40), trainingCount: 40, targetCount: 7, clipQuantile: 0.99)
        for factor in ratio.factors { XCTAssertEqual(factor, 1, accuracy: 1e-12) }
        XCTAssertEqual(ratio.effectiveSampleSize, 40, accuracy: 1e-9)
    }

    func test_huge_logits_neither_overflow_nor_underflow_to_nothing() {
        let ratio = DensityRatio(logits: [900, 900, -900], trainingCount: 3, targetCount: 3, clipQuantile: 1)
        XCTAssertTrue(ratio.factors.allSatisfy(\.isFinite))
        XCTAssertEqual(ratio.factors[0], 1.5, accuracy: 1e-9, "two equal capped ratios share the weight")
        XCTAssertEqual(ratio.factors[2], 0, accuracy: 1e-9)
        let none = DensityRatio(logits: [-800, -800], trainingCount: 2, targetCount: 2, clipQuantile: 1)
        XCTAssertEqual(none.factors, [1, 1], "exp underflows everywhere: no pair is preferred")
    }

    /// Positives 0.9, 0.8, 0.4 against negatives 0.1, 0.4, 0.5, 0.2: of the 12 pairs, 0.9 and 0.8
    /// beat all four, 0.4 beats two and ties one: (4 + 4 + 2 + ½) / 12.
    func test_auc_counts_ties_half() {
        XCTAssertEqual(areaUnderROC(positives: [0.9, 0.8, 0.4], negatives: [0.1, 0.4, 0.5, 0.2]), 10.5 / 12, accuracy: 1e-12)
        XCTAssertEqual(areaUnderROC(positives: [1, 1], negatives: [1, 1, 1]), 0.5)
        XCTAssertEqual(areaUnderROC(positives: [0], negatives: [1, 2]), 0)
        XCTAssertTrue(areaUnderROC(positives: [], negatives: [1]).isNaN)
    }

    /// w_i = e_i · c_k · f_i, then mean 1: pair factors multiply the weight field and --upweight.
    func test_pair_factors_multiply_the_other_sources() throws {
        let lines = [#"{"prompt":"p1","chosen":"a","rejected":"b","category":"x","weight":2}"#,
                     #"{"prompt":"p2","chosen":"a","rejected":"b","category":"y"}"#,
                     #"{"prompt":"p3","chosen":"a","rejected":"b","category":"y","weight":0.5}"#]
        let dataset = try PreferenceReader.read(bytes: Array(lines.joined(separator: "\n").utf8), name: "f.jsonl").0
        var weighting = WeightingConfiguration()
        weighting.upweight = ["y": 3]
        // Raw: 2·1·0.5 = 1, 1·3·2 = 6, 0.5·3·4 = 6; mean 13/3.
        let weights = try weighting.weights(for: dataset, pairFactors: [0.5, 2, 4])
        for (got, want) in zip(weights, [1.0, 6, 6].map { $0 * 3 / 13 }) { XCTAssertEqual(got, want, accuracy: 1e-12) }
        // Clipping applies to the product: 1, 6, 6 clipped to [0, 2] → 1, 2, 2, mean 5/3.
        weighting.clip = 0...2
        let clipped = try weighting.weights(for: dataset, pairFactors: [0.5, 2, 4])
        for (got, want) in zip(clipped, [1.0, 2, 2].map { $0 * 3 / 5 }) { XCTAssertEqual(got, want, accuracy: 1e-12) }
        XCTAssertEqual(try weighting.weights(for: dataset, pairFactors: nil), try weighting.weights(for: dataset, pairFactors: [1, 1, 1]))
    }
}
