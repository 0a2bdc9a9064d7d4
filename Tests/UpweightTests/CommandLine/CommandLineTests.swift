import Foundation
import XCTest
import Upweight
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightEvaluation
@testable import UpweightTraining

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
        XCTAssertEqual(report["ties"] as? String, "half")
        for (name, margins) in byCategory {
            let count = Double(margins.count)
            let metrics = categories[name]!
            let accuracy = margins.reduce(0) { $0 + ($1 > 0 ? 1 : $1 == 0 ? 0.5 : 0) } / count
            XCTAssertEqual(metrics["accuracy"] as! Double, accuracy, accuracy: 1e-12, name)
            XCTAssertEqual(metrics["mean_margin"] as! Double, margins.reduce(0, +) / count, accuracy: 1e-5, name)
            XCTAssertEqual(metrics["pairs"] as? Int, margins.count)
            // Median, log loss, Brier and ECE, recomputed here from score's margins.
            let sorted = margins.sorted()
            let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            XCTAssertEqual(metrics["median_margin"] as! Double, median, accuracy: 1e-5, name)
            let sigmoids = margins.map { 1 / (1 + exp(-$0)) }
            XCTAssertEqual(metrics["log_loss"] as! Double, sigmoids.reduce(0) { $0 - log($1) } / count, accuracy: 1e-5, name)
            XCTAssertEqual(metrics["brier"] as! Double, sigmoids.reduce(0) { $0 + (1 - $1) * (1 - $1) } / count, accuracy: 1e-5, name)
            var bins = [(count: Double, confidence: Double, correct: Double)](repeating: (0, 0, 0), count: 10)
            for (margin, probability) in zip(margins, sigmoids) {
                let confidence = max(probability, 1 - probability)
                let bin = min(9, Int((confidence - 0.5) * 20))
                bins[bin].count += 1
                bins[bin].confidence += confidence
                bins[bin].correct += margin > 0 ? 1 : margin == 0 ? 0.5 : 0
            }
            let ece = bins.filter { $0.count > 0 }.reduce(0) { $0 + $1.count / count * abs($1.correct / $1.count - $1.confidence / $1.count) }
            XCTAssertEqual(metrics["ece"] as! Double, ece, accuracy: 1e-4, name)
            let interval = metrics["accuracy_ci95"] as! [Double]
            XCTAssertTrue(interval[0] <= accuracy && accuracy <= interval[1], "\(name): \(interval) around \(accuracy)")
        }
        let worst = report["worst"] as! [String: Any]
        let lowest = categories.min { ($0.value["accuracy"] as! Double) < ($1.value["accuracy"] as! Double) }!
        XCTAssertEqual(worst["category"] as? String, lowest.key)
        let highest = categories.map { $0.value["accuracy"] as! Double }.max()!
        XCTAssertEqual(worst["gap"] as! Double, highest - (lowest.value["accuracy"] as! Double), accuracy: 1e-12)
    }

    func test_eval_compares_sections_baseline_and_writes_every_format() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let model = "\(directory)/model"
        let train = try TestSupport.run(["train", dense, "--out", model, "--l2", "0.01"])
        XCTAssertEqual(train.status, 0, train.stderr)

        let sections = TestSupport.write(#"{"chat": {"categories": ["general", "safety"], "weight": 1}, "hard": {"categories": ["math", "coding"], "weight": 2}}"#,
                                         "sections.json", in: directory)
        let eval = try TestSupport.run(["eval", model, dense, "--format", "json", "--sections", sections, "--baseline", model,
                                        "--ties", "strict", "--bootstrap", "200", "--seed", "3"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let report = try TestSupport.json(eval.stdout) as! [String: Any]
        XCTAssertEqual(report["ties"] as? String, "strict")
        XCTAssertEqual(Set((report["sections"] as! [String: Any]).keys), ["chat", "hard"])
        let baseline = report["baseline"] as! [String: Any]
        XCTAssertEqual((baseline["overall"] as! [String: Any])["accuracy_delta"] as? Double, 0, "a model against itself")
        XCTAssertEqual((baseline["overall"] as! [String: Any])["p_value"] as? Double, 1)

        let unknown = TestSupport.write(#"{"chat": {"categories": ["general", "chitchat"], "weight": 1}}"#, "unknown.json", in: directory)
        let bad = try TestSupport.run(["eval", model, dense, "--sections", unknown, "--quiet"])  // the error alone, without the notes
        XCTAssertEqual(bad.status, 64)
        XCTAssertEqual(bad.stderr, "upweight: \(unknown): unknown category \"chitchat\" (the data has \"coding\", \"general\", \"math\", \"safety\")\n")

        let negative = try TestSupport.run(["eval", model, dense, "--bootstrap=-5"])
        XCTAssertEqual(negative.status, 64)
        XCTAssertTrue(negative.stderr.contains("--bootstrap: expected a whole number from 0 to 1000000, got -5"), negative.stderr)

        for format in ["csv", "markdown", "html", "table"] {
            let path = "\(directory)/report.\(format)"
            let run = try TestSupport.run(["eval", model, dense, "--format", format, "--output", path, "--bootstrap", "50"])
            XCTAssertEqual(run.status, 0, run.stderr)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            XCTAssertFalse(text.contains("\u{1B}["), "no colour in a file")
            if format == "html" {
                // accuracy, reliability, 4 margin histograms, the weight shares from config.json, and
                // the training curves from training_log.jsonl
                XCTAssertEqual(text.components(separatedBy: "<svg").count - 1, 8)
                XCTAssertTrue(text.contains("normalize"), "the training configuration is shown")
            }
        }
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

    func test_stats_prints_the_format_asked_for() throws {
        let csv = try TestSupport.run(["stats", dense, "--format", "csv"])
        XCTAssertEqual(csv.status, 0, csv.stderr)
        let rows = csv.stdout.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(rows.first, ["category", "pairs", "share", "mean_example_weight", "weight_balanced", "weight_sqrt",
                                    "weight_effective:0.9", "weight_effective:0.99", "weight_effective:0.999"])
        XCTAssertEqual(rows.dropFirst().map { $0[0] }, ["coding", "general", "math", "safety"])
        XCTAssertEqual(rows.dropFirst().map { Int($0[1]) }, [300, 1800, 150, 750])
        XCTAssertEqual(rows.dropFirst().compactMap { Double($0[2]) }.reduce(0, +), 1, accuracy: 1e-12)
        XCTAssertEqual(Double(rows[2][4]) ?? 0, 3000.0 / (4 * 1800), accuracy: 1e-12, "balanced = N/(K·n_k)")
        let markdown = try TestSupport.run(["stats", dense, "--format", "markdown"]).stdout
        XCTAssertTrue(markdown.hasPrefix("| category | pairs | share | mean weight | balanced |"), markdown)
        XCTAssertTrue(markdown.contains("|\n\n3000 pairs in 4 categories; effective sample size "), markdown)
        let html = try TestSupport.run(["stats", dense, "--format", "html"]).stdout
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>") && html.contains("<td>general</td><td>1800</td>"), html)
        let table = try TestSupport.run(["stats", dense]).stdout
        XCTAssertTrue(table.hasPrefix("category  pairs  share"), table)
        // One category: "1 category", not "1 categories".
        let one = TestSupport.write("{\"chosen_features\": [1], \"rejected_features\": [0]}\n", "one.jsonl", in: TestSupport.temporaryDirectory(self))
        XCTAssertTrue(try TestSupport.run(["stats", one]).stdout.hasSuffix("1 pair in 1 category; effective sample size 1.0\n"))
    }

    func test_the_shipped_default_config_is_the_default() throws {
        var fromFile = TrainingConfiguration()
        try fromFile.apply(try Files.readJSONObject(TestSupport.repository.appendingPathComponent("configs/default.json").path),
                           from: .file("configs/default.json"))
        XCTAssertEqual(fromFile.l2, TrainingConfiguration().l2)
        XCTAssertEqual(JSONValue.object(fromFile.json).compactText, JSONValue.object(TrainingConfiguration().json).compactText)
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

extension CommandLineTests {
    /// Help text is part of the interface: a change to it shows up here, and the snapshot is updated
    /// on purpose (`COLUMNS=100 upweight --help > Tests/UpweightTests/Fixtures/help/upweight.txt`).
    func test_help_text_matches_its_snapshot() throws {
        for (arguments, snapshot) in [(["--help"], "help/upweight.txt"), (["train", "--help"], "help/train.txt")] {
            let text = try Subprocess(TestSupport.binary, arguments, environment: ["COLUMNS": "100"], replacingEnvironment: true).finish().stdout
            XCTAssertEqual(text, try String(contentsOfFile: TestSupport.fixture(snapshot), encoding: .utf8), snapshot)
        }
    }
}
