import Foundation
import XCTest
import Upweight

/// Runs the built `upweight` binary as a user would.
final class CommandLineTests: XCTestCase {
    let dense = TestSupport.fixture("linear-dense/train.jsonl")

    func test_train_eval_score_agree_and_score_recomputes_eval() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let model = "\(directory)/model"
        let train = try TestSupport.run(["train", dense, "--out", model, "--upweight", "safety=3", "--l2", "0.01",
                                         "--holdout", "0.2", "--format", "json"])
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertTrue(train.stderr.contains("saved model to \(model)"), train.stderr)
        let trainReport = try TestSupport.json(train.stdout) as! [String: Any]
        XCTAssertEqual(trainReport["pairs"] as? Int, 600)

        let eval = try TestSupport.run(["eval", model, dense, "--format", "json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let report = try TestSupport.json(eval.stdout) as! [String: Any]
        let score = try TestSupport.run(["score", model, dense])
        XCTAssertEqual(score.status, 0, score.stderr)
        let lines = score.stdout.split(separator: "\n").map { try! TestSupport.json(String($0)) as! [String: Any] }
        XCTAssertEqual(lines.count, 3000)
        XCTAssertEqual(lines[0]["index"] as? Int, 0)
        XCTAssertEqual(lines[0]["id"] as? String, "pair-0000000")
        // Recompute eval's accuracy and mean margin per category from score's lines.
        var byCategory: [String: [Double]] = [:]
        for line in lines {
            let chosen = line["chosen_reward"] as! Double, rejected = line["rejected_reward"] as! Double
            XCTAssertEqual(line["margin"] as! Double, chosen - rejected, accuracy: 1e-5)
            byCategory[line["category"] as! String, default: []].append(line["margin"] as! Double)
        }
        let categories = report["categories"] as! [String: [String: Any]]
        XCTAssertEqual(Set(categories.keys), Set(byCategory.keys))
        for (name, margins) in byCategory {
            let accuracy = margins.reduce(0) { $0 + ($1 > 0 ? 1 : $1 == 0 ? 0.5 : 0) } / Double(margins.count)
            XCTAssertEqual(categories[name]!["accuracy"] as! Double, accuracy, accuracy: 1e-12, name)
            XCTAssertEqual(categories[name]!["mean_margin"] as! Double, margins.reduce(0, +) / Double(margins.count), accuracy: 1e-5, name)
            XCTAssertEqual(categories[name]!["pairs"] as? Int, margins.count)
        }
        let worst = report["worst"] as! [String: Any]
        let lowest = categories.min { ($0.value["accuracy"] as! Double) < ($1.value["accuracy"] as! Double) }!
        XCTAssertEqual(worst["category"] as? String, lowest.key)
    }

    func test_table_report_labels_macro_and_worst() throws {
        let run = try TestSupport.run(["train", TestSupport.data("llmbar.jsonl"), "--holdout", "0.25", "--hash-bits", "14"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("category"), run.stdout)
        XCTAssertEqual(lines.filter { $0.hasPrefix("LLMBar/") || $0.hasPrefix("CaseStudy/") || $0.hasPrefix("Processed/") }.count, 13)
        XCTAssertTrue(lines.contains { $0.hasPrefix("overall") })
        XCTAssertTrue(lines.contains { $0.hasPrefix("macro (mean of categories)") })
        XCTAssertTrue(lines.contains { $0.hasPrefix("worst: ") })
    }

    func test_stats_json_counts_pairs_per_category() throws {
        let run = try TestSupport.run(["stats", dense, "--format", "json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let stats = try TestSupport.json(run.stdout) as! [String: Any]
        XCTAssertEqual(stats["pairs"] as? Int, 3000)
        let categories = stats["categories"] as! [String: [String: Any]]
        XCTAssertEqual(categories.mapValues { $0["pairs"] as! Int }, ["general": 1800, "safety": 750, "coding": 300, "math": 150])
    }

    func test_bad_data_exits_65_with_the_location() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let path = TestSupport.write("{\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"b\"}\n{\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"b\",\"weight\":-1}\n",
                                     "bad.jsonl", in: directory)
        let run = try TestSupport.run(["train", path, "--out", "\(directory)/model"])
        XCTAssertEqual(run.status, 65)
        XCTAssertEqual(run.stderr, "\(path):2:52: expected a finite number ≥ 0, got -1 (field weight)\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/model"), "nothing is written on bad data")
    }

    func test_config_file_keys_are_checked_and_flags_win() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let typo = TestSupport.write(#"{"l3": 0.5}"#, "typo.json", in: directory)
        var run = try TestSupport.run(["train", dense, "--config", typo])
        XCTAssertEqual(run.status, 64)
        XCTAssertEqual(run.stderr, "upweight: \(typo): unknown key \"l3\" (did you mean \"l2\"?)\n")

        let wrongType = TestSupport.write(#"{"epochs": "ten"}"#, "type.json", in: directory)
        run = try TestSupport.run(["train", dense, "--config", wrongType])
        XCTAssertEqual(run.status, 64)
        XCTAssertEqual(run.stderr, "upweight: \(wrongType): key \"epochs\": expected a whole number from 1 to 1000000, got \"ten\"\n")

        let config = TestSupport.write(#"{"l2": 0.5, "upweight": {"math": 2}, "hash-bits": 10}"#, "ok.json", in: directory)
        run = try TestSupport.run(["train", dense, "--config", config, "--l2", "0.01", "--out", "\(directory)/model"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let saved = try TestSupport.json(String(contentsOfFile: "\(directory)/model/config.json", encoding: .utf8)) as! [String: Any]
        let training = saved["training"] as! [String: Any]
        XCTAssertEqual(training["l2"] as? Double, 0.01)
        XCTAssertEqual(training["upweight"] as? [String: Double], ["math": 2])
    }

    func test_unknown_category_and_bad_flags_exit_64() throws {
        var run = try TestSupport.run(["train", dense, "--upweight", "safty=3"])
        XCTAssertEqual(run.status, 64)
        XCTAssertEqual(run.stderr.split(separator: "\n").last.map(String.init), "upweight: --upweight names category \"safty\", which is not in the training data (its categories: \"coding\", \"general\", \"math\", \"safety\")")
        run = try TestSupport.run(["train", dense, "--l2=-1"])
        XCTAssertEqual(run.status, 64)
        XCTAssertEqual(run.stderr, "upweight: --l2: expected a number ≥ 0, got -1\n")
        run = try TestSupport.run(["train", dense, "--upweight", "safety"])
        XCTAssertEqual(run.status, 64)
        XCTAssertTrue(run.stderr.contains("--upweight expects CATEGORY=FACTOR, got \"safety\""), run.stderr)
    }
}
