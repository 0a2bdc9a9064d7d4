import Foundation
import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightData
@testable import UpweightEvaluation
@testable import UpweightTuning

final class TuningTests: XCTestCase {
    func test_grid_is_the_cartesian_product_in_file_order() throws {
        let grid = try Files.readJSONObject(TestSupport.repository.appendingPathComponent("configs/tune-grid.json").path)
        let candidates = try CrossValidation.candidates(fromGrid: grid, file: "grid")
        XCTAssertEqual(candidates.count, 12)
        XCTAssertEqual(candidates[0], JSONObject([("category-scheme", "none"), ("upweight", [:]), ("focal-gamma", 0)]))
        XCTAssertEqual(candidates[11], JSONObject([("category-scheme", "sqrt"), ("upweight", ["safety": 4]), ("focal-gamma", 2)]))
    }

    func test_objectives_parse_and_score() throws {
        XCTAssertEqual(try TuneObjective("category:safety,max-drop:0.02"), .category("safety", maxDrop: 0.02))
        XCTAssertEqual(try TuneObjective("worst").score(["a": 0.7, "b": 0.6]), 0.6)
        XCTAssertEqual(try TuneObjective("macro").score(["a": 0.7, "b": 0.6]), 0.65, accuracy: 1e-12)
        XCTAssertThrowsError(try TuneObjective("best")) { error in
            XCTAssertEqual((error as? UsageError)?.message, "--objective: expected macro, worst, category:NAME or category:NAME,max-drop:D, got \"best\"")
        }
    }

    func test_stratified_folds_keep_category_shares() throws {
        let dataset = try TestSupport.read(paths: [TestSupport.fixture("linear-dense/train.jsonl")])
        let folds = stratifiedFolds(dataset, folds: 5, seed: 0)
        for fold in 0..<5 {
            let members = (0..<dataset.count).filter { folds[$0] == fold }
            XCTAssertEqual(members.count, 600)
            XCTAssertEqual(members.filter { dataset.category(of: $0) == "math" }.count, 30)
        }
    }

    /// `tune` with the worst-category objective picks a weighting that beats uniform weighting on held-out pairs.
    func test_tune_worst_beats_uniform_on_held_out_data() throws {
        let directory = TestSupport.temporaryDirectory(self)
        var specification = SyntheticSpecification()
        specification.pairs = 5000
        specification.dimension = 16
        specification.categories = [("general", 0.8), ("safety", 0.2)]
        specification.categoryStrength = 1.5
        specification.seed = 5
        let path = TestSupport.write(specification.generate().jsonl, "synth.jsonl", in: directory)
        let winner = "\(directory)/winner.json"
        let run = try TestSupport.run(["tune", path, "--folds", "3", "--objective", "worst", "--grid",
                                       TestSupport.repository.appendingPathComponent("configs/tune-grid.json").path, "--out", winner])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.split(separator: "\n").contains { $0.hasPrefix("*") }, run.stdout)
        func heldOut(_ extra: [String]) throws -> Double {
            let result = try TestSupport.run(["train", path, "--train-split", "train", "--eval-split", "test", "--format", "json"] + extra)
            XCTAssertEqual(result.status, 0, result.stderr)
            let report = try TestSupport.json(result.stdout) as! [String: Any]
            return (report["worst"] as! [String: Any])["accuracy"] as! Double
        }
        XCTAssertGreaterThan(try heldOut(["--config", winner]), try heldOut([]) + 0.03)
        let second = try TestSupport.run(["tune", path, "--folds", "3", "--objective", "worst", "--grid",
                                          TestSupport.repository.appendingPathComponent("configs/tune-grid.json").path, "--out", winner + "2"])
        XCTAssertEqual(second.stdout, run.stdout, "tune is deterministic")
    }

    /// Every example config in configs/ trains, and the model records what it asked for.
    func test_every_example_config_trains() throws {
        let directory = TestSupport.temporaryDirectory(self)
        var specification = SyntheticSpecification()
        specification.pairs = 2000
        specification.dimension = 8
        let path = TestSupport.write(specification.generate().jsonl, "synth.jsonl", in: directory)
        let expectations: [(String, String, Any)] = [("balanced", "category-scheme", "balanced"), ("upweight-safety", "upweight", ["safety": 4.0]),
                                                      ("focal", "focal-gamma", 2.0), ("group-dro", "group-dro", 1.0), ("boost", "boost", 3)]
        for (name, key, value) in expectations {
            let config = TestSupport.repository.appendingPathComponent("configs/\(name).json").path
            let run = try TestSupport.run(["train", path, "--config", config, "--out", "\(directory)/\(name)"])
            XCTAssertEqual(run.status, 0, "\(name): \(run.stderr)")
            let saved = try TestSupport.json(String(contentsOfFile: "\(directory)/\(name)/config.json", encoding: .utf8)) as! [String: Any]
            let training = saved["training"] as! [String: Any]
            if let number = value as? Double {
                XCTAssertEqual(training[key] as? Double, number, name)
            } else if let factors = value as? [String: Double] {
                XCTAssertEqual(training[key] as? [String: Double], factors, name)
            } else {
                XCTAssertEqual("\(training[key]!)", "\(value)", name)
            }
        }
    }

    func test_stats_json_has_every_scheme() throws {
        let run = try TestSupport.run(["stats", TestSupport.fixture("linear-dense/train.jsonl"), "--format", "json"])
        let stats = try TestSupport.json(run.stdout) as! [String: Any]
        let math = (stats["categories"] as! [String: [String: Any]])["math"]!
        let weights = math["weights"] as! [String: Double]
        XCTAssertEqual(Set(weights.keys), ["balanced", "sqrt", "effective:0.9", "effective:0.99", "effective:0.999"])
        XCTAssertEqual(weights["balanced"]!, 3000.0 / (4 * 150), accuracy: 1e-12)
        XCTAssertEqual(math["share"] as! Double, 0.05, accuracy: 1e-12)
        XCTAssertNotNil(stats["effective_sample_size"] as? Double)
    }
}

/// tune's table: macro next to the objective, max-drop exclusions marked, the winner's estimate.
final class TuneTableTests: XCTestCase {
    func test_the_table_shows_macro_marks_exclusions_and_states_the_winners_estimate() {
        typealias Candidate = CrossValidation.Candidate
        let kept = Candidate(settings: JSONObject([("l2", 0.1)]), foldAccuracies: [["s": 0.8, "t": 0.6], ["s": 0.6, "t": 0.8]],
                             scores: [0.8, 0.6], macroScores: [0.7, 0.7])
        let dropped = Candidate(settings: JSONObject([("l2", 1.0)]), foldAccuracies: [["s": 0.9, "t": 0.1], ["s": 0.9, "t": 0.1]],
                                scores: [0.9, 0.9], macroScores: [0.5, 0.5])
        let outcome = CrossValidation.Outcome(candidates: [kept, dropped], winner: 0, excluded: [1], categories: ["s", "t"])
        let lines = tuneTable(outcome, objective: "category:s,max-drop:0.1").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines[0].split(separator: " ").joined(separator: " "), "candidate category:s,max-drop:0.1 (mean ± sd) macro (mean ± sd) s t")
        XCTAssertTrue(lines[1].hasPrefix("*  {\"l2\":0.1}"), lines[1])
        XCTAssertTrue(lines[1].split(separator: " ").joined(separator: " ").hasSuffix("0.7000 ± 0.1414 0.7000 ± 0.0000 0.700 0.700"), lines[1])
        XCTAssertTrue(lines[2].hasPrefix("x  {\"l2\":1}"), lines[2])
        XCTAssertEqual(lines[4], "* the winner: category:s,max-drop:0.1 0.7000 ± 0.1414, macro 0.7000 ± 0.0000 (mean ± sd over 2 folds); chosen on these folds, so expect a little less on new data")
        XCTAssertEqual(lines[5], "x excluded by max-drop: macro accuracy more than the allowed drop below the best candidate's")
    }
}
