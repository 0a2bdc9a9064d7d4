import XCTest
@testable import UpweightData
@testable import UpweightWeighting

/// The `--noise-aware` rules on inputs small enough to work out by hand.
final class NoiseAwareFactorsTests: XCTestCase {
    // Category 0: p = 0.9, 0.2, 0.4 and one pair not audited; category 1: p = 0.1, 0.8.
    let probabilities: [Double?] = [0.9, 0.2, 0.4, nil, 0.1, 0.8]
    let categories: [Int32] = [0, 0, 0, 0, 1, 1]

    func test_drop_removes_the_estimated_number_of_flips_lowest_p_first() {
        // Category 0: round(0.4 · 3) = 1 → its lowest p (0.2, pair 1); category 1: round(0.25 · 2) = round(0.5) = 1 → pair 4.
        XCTAssertEqual(NoiseAwareFactors.factors(.drop, probabilities: probabilities, categories: categories, flipEstimates: [0.4, 0.25]),
                       [1, 0, 1, 1, 0, 1])
        // f̂ = 0.7 of 3 → round(2.1) = 2: pairs 1 and 2; f̂ = 0 drops nothing.
        XCTAssertEqual(NoiseAwareFactors.factors(.drop, probabilities: probabilities, categories: categories, flipEstimates: [0.7, 0]),
                       [1, 0, 0, 1, 1, 1])
        // Ties on p: the earlier pair first.
        XCTAssertEqual(NoiseAwareFactors.factors(.drop, probabilities: [0.3, 0.3, 0.3], categories: [0, 0, 0], flipEstimates: [0.4]),
                       [0, 1, 1])
    }

    func test_downweight_is_the_clean_posterior_over_the_noisy_one() {
        // f = 0.2: q = (p − 0.2)/0.6 clipped to [0, 1]; β = q/p.
        let factors = NoiseAwareFactors.factors(.downweight, probabilities: [0.9, 0.5, 0.3, 0.1, nil], categories: [0, 0, 0, 0, 0],
                                                flipEstimates: [0.2])
        let expected = [1 / 0.9,              // q = 1.1667 → 1
                        (0.3 / 0.6) / 0.5,    // q = 0.5 → β = 1
                        (0.1 / 0.6) / 0.3,    // q = 0.1667 → β = 0.5556
                        0,                    // q < 0 → 0
                        1]                    // not audited
        for (got, want) in zip(factors, expected) { XCTAssertEqual(got, want, accuracy: 1e-12) }
        // No flips: every factor 1; labels that say nothing (f̂ = 0.5): every factor 0.
        XCTAssertEqual(NoiseAwareFactors.factors(.downweight, probabilities: [0.9, 0.2], categories: [0, 0], flipEstimates: [0]), [1, 1])
        XCTAssertEqual(NoiseAwareFactors.factors(.downweight, probabilities: [0.9, 0.2], categories: [0, 0], flipEstimates: [0.5]), [0, 0])
        XCTAssertEqual(NoiseAwareFactors.factors(.off, probabilities: [0.9, 0.2], categories: [0, 0], flipEstimates: [0.3]), [1, 1])
    }

    /// Pair factors multiply with the other sources before the clip and the normalization.
    func test_pair_factors_multiply_before_clip_and_normalization() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let lines = [0.5, 1, 2, 10].enumerated().map { #"{"prompt":"p","chosen":"a\#($0.offset)","rejected":"b","weight":\#($0.element),"category":"\#($0.offset < 2 ? "x" : "y")"}"# }
        let dataset = try TestSupport.read(paths: [TestSupport.write(lines.joined(separator: "\n"), "w.jsonl", in: directory)])
        var weighting = WeightingConfiguration()
        weighting.upweight = ["x": 2]
        weighting.clip = 0.5...4
        // e · c · a = [0.5·2·4, 1·2·0.25, 2·1·1, 10·1·0.5] = [4, 0.5, 2, 5] → clip [4, 0.5, 2, 4], mean 2.625.
        let weights = try weighting.weights(for: dataset, pairFactors: [4, 0.25, 1, 0.5])
        let expected = [4, 0.5, 2, 4].map { $0 / 2.625 }
        for (got, want) in zip(weights, expected) { XCTAssertEqual(got, want, accuracy: 1e-12) }
    }
}
