import Foundation
import XCTest
@testable import UpweightEvaluation

/// `upweight compare`: several models against the first on the same pairs.
final class ModelComparisonTests: XCTestCase {
    func test_holm_adjusts_by_rank_and_keeps_the_order_monotone() {
        // Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → max(0.06, 0.04) = 0.06.
        let adjusted = ModelComparison.holm([0.01, 0.04, 0.03, 0.005])
        for (value, expected) in zip(adjusted, [0.03, 0.06, 0.06, 0.02]) { XCTAssertEqual(value, expected, accuracy: 1e-15) }
        XCTAssertEqual(ModelComparison.holm([0.6, 0.5]), [1, 1])
    }

    func test_minimum_detectable_effect_solves_connors_sample_size_formula() throws {
        let delta = try XCTUnwrap(ModelComparison.minimumDetectableEffect(pairs: 100, discordantRate: 0.2))
        XCTAssertEqual(delta, 0.12381933148441379, accuracy: 1e-12)  // the fixed point, iterated in Python
        // Put back into n = (z₀.₉₇₅√p_d + z₀.₈√(p_d − δ²))² / δ², it gives the 100 pairs again.
        let n = pow(ModelComparison.zConfidence * 0.2.squareRoot() + ModelComparison.zPower * (0.2 - delta * delta).squareRoot(), 2) / (delta * delta)
        XCTAssertEqual(n, 100, accuracy: 1e-6)
        XCTAssertNil(ModelComparison.minimumDetectableEffect(pairs: 50, discordantRate: 0))
        // Four times the pairs, about half the detectable change.
        let larger = try XCTUnwrap(ModelComparison.minimumDetectableEffect(pairs: 400, discordantRate: 0.2))
        XCTAssertEqual(larger / delta, 0.5, accuracy: 0.02)
    }

    func test_bootstrap_p_value_is_twice_the_smaller_tail() {
        XCTAssertEqual(ModelComparison.bootstrapPValue([-1, 1, 2, 3]), 0.5)
        XCTAssertEqual(ModelComparison.bootstrapPValue([1, 2, 3]), 0)
        XCTAssertEqual(ModelComparison.bootstrapPValue([0, 0]), 1)
        XCTAssertEqual(ModelComparison.bootstrapPValue([.nan]), 1)
    }

    func test_hand_computed_comparison_of_two_models_on_six_pairs() {
        // Category a: the baseline gets pairs 0,1 right and 2 wrong; the model 0,1,2 right.
        // Category b: the baseline gets 3,4,5 right; the model only 3 (4 a tie, 5 wrong).
        let dataset = syntheticDataset(categories: ["a", "a", "a", "b", "b", "b"])
        let baseline: (chosen: [Float], rejected: [Float]) = ([1, 1, 0, 1, 1, 1], [0, 0, 1, 0, 0, 0])
        let model: (chosen: [Float], rejected: [Float]) = ([1, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 1])
        let comparison = ModelComparison(dataset: dataset, models: ["base", "new"], rewards: [baseline, model], bootstrapSamples: 200, seed: 1)
        XCTAssertEqual(comparison.groups.map(\.name), ["a", "b", "overall", "macro", "worst: a", "minimum over categories"])
        let a = comparison.groups[0].rows, b = comparison.groups[1].rows
        XCTAssertEqual(a[0].accuracy, 2.0 / 3)
        XCTAssertEqual(a[1].accuracy, 1)
        XCTAssertEqual(try XCTUnwrap(a[1].delta), 1.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(b[1].accuracy, 0.5)  // 1 + ½ (the tie) + 0 of 3
        // McNemar, a tie counting as wrong: a has 1 discordant pair (model only), b 2 (baseline only).
        XCTAssertEqual(a[1].pValue, 1)
        XCTAssertEqual(b[1].pValue, 0.5)
        XCTAssertEqual(b[1].adjustedPValue, 1)
        XCTAssertEqual(comparison.familySize, 2)
        XCTAssertEqual(comparison.groups[2].rows[1].accuracy, 4.5 / 6)
        XCTAssertEqual(comparison.groups[3].rows[1].accuracy, 0.75)
        XCTAssertEqual(comparison.groups[5].rows[0].accuracy, 2.0 / 3)  // the baseline's minimum is a
        XCTAssertEqual(comparison.groups[5].rows[1].accuracy, 0.5)
        XCTAssertNil(comparison.groups[0].rows[0].delta)
    }

    func test_compare_cli_prints_a_table_within_120_columns_and_json() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = TestSupport.data("synthetic-text.jsonl")
        for (name, flags) in [("uniform", [String]()), ("safety", ["--upweight", "safety=4"])] {
            let run = try TestSupport.run(["train", data, "--train-split", "train", "--hash-bits", "14", "--out", "\(directory)/\(name)", "--quiet"] + flags)
            XCTAssertEqual(run.status, 0, run.stderr)
        }
        let arguments = ["compare", data, "--model", "\(directory)/uniform", "--model", "\(directory)/safety", "--model", "\(directory)/uniform",
                         "--bootstrap", "100", "--quiet"]
        let table = try TestSupport.run(arguments)
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertLessThanOrEqual(table.stdout.split(separator: "\n").map(\.count).max() ?? 0, 120, table.stdout)
        XCTAssertTrue(table.stdout.hasPrefix("A = \(directory)/uniform (baseline)\nB = \(directory)/safety\nC = \(directory)/uniform\n"), table.stdout)
        let json = try TestSupport.json(try TestSupport.run(arguments + ["--format", "json"]).stdout) as! [String: Any]
        let groups = json["groups"] as! [[String: Any]]
        XCTAssertEqual(groups.map { $0["name"] as! String }, ["general", "math", "safety", "overall", "macro", "worst: math", "minimum over categories"])
        for group in groups {
            let models = group["models"] as! [[String: Any]]
            // C is A again: no change, nothing to detect, p = 1.
            XCTAssertEqual(models[2]["delta"] as? Double, 0, "\(group["name"]!)")
            XCTAssertEqual(models[2]["p_value"] as? Double, 1)
            XCTAssertTrue(models[2]["minimum_detectable_effect"] is NSNull)
            XCTAssertTrue(models[0]["delta"] is NSNull)
        }
        XCTAssertEqual(json["holm_family_size"] as? Int, 6)

        let one = try TestSupport.run(["compare", data, "--model", "\(directory)/uniform"])
        XCTAssertEqual(one.status, 64)
        XCTAssertTrue(one.stderr.contains("expected at least two --model directories (the first is the baseline)"), one.stderr)
    }
}
