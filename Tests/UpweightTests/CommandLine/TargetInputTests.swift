import Foundation
import XCTest

/// `train --target FILE` as the binary shows it: each bad target file or clip with its exact
/// message and exit code, config.json's summary, the same bytes twice, and `tune` over `target-clip`.
final class TargetInputTests: XCTestCase {
    let dense = TestSupport.fixture("linear-dense/train.jsonl")  // 16 numbers a side
    let text = TestSupport.fixture("linear-text/train.jsonl")

    func test_every_bad_target_file_names_its_file_line_and_field() throws {
        let directory = TestSupport.temporaryDirectory(self)
        func file(_ name: String, _ contents: String) -> String { TestSupport.write(contents, name, in: directory) }
        let sixteen = Array(repeating: "0.1", count: 16).joined(separator: ",")
        let fifteen = Array(repeating: "0.1", count: 15).joined(separator: ",")
        let cases: [(data: String, target: String, message: String)] = [
            (dense, "\(directory)/missing.jsonl", "\(directory)/missing.jsonl: cannot open: No such file or directory"),
            (dense, file("empty.jsonl", ""), "\(directory)/empty.jsonl: no target items: the file is empty or holds only blank lines"),
            (dense, file("blank.jsonl", "\n  \n"), "\(directory)/blank.jsonl: no target items: the file is empty or holds only blank lines"),
            (dense, file("text.jsonl", #"{"prompt":"hello"}"# + "\n"),
             "\(directory)/text.jsonl:1:1: the training data is dense feature vectors, but this target line holds text; expected an array of 16 numbers, the training data's dimension (field chosen_features)"),
            (dense, file("string.jsonl", #""hello""# + "\n"),
             "\(directory)/string.jsonl:1:1: expected an object with chosen_features and rejected_features, got a prompt string: the training data is dense feature vectors"),
            (dense, file("dimension.jsonl", #"{"chosen_features":[\#(sixteen)],"rejected_features":[\#(sixteen)]}"# + "\n"
                                            + #"{"chosen_features":[\#(fifteen)],"rejected_features":[\#(sixteen)]}"# + "\n"),
             "\(directory)/dimension.jsonl:2:1: expected an array of 16 numbers, the training data's dimension, got 15 numbers (field chosen_features)"),
            (dense, file("infinite.jsonl", #"{"chosen_features":[\#(sixteen)],"rejected_features":[1e300,\#(fifteen)]}"# + "\n"),
             "\(directory)/infinite.jsonl:1:1: a vector of length 1e+300 is too large to compute with in Float32 (at most 1.8e19); scale the features down (field rejected_features)"),
            (text, file("dense.jsonl", #"{"chosen_features":[1,2],"rejected_features":[3,4]}"# + "\n"),
             "\(directory)/dense.jsonl:1:1: the training data is text, but this target line holds dense feature vectors; expected a prompt string (field prompt)"),
            (text, file("number.jsonl", #"{"prompt":3}"# + "\n"),
             "\(directory)/number.jsonl:1:1: expected the prompt as a string, got a number (field prompt)"),
            (text, file("invalid.jsonl", #"{"prompt":"a"}"# + "\n" + #"{"prompt": nope}"# + "\n"),
             "\(directory)/invalid.jsonl:2:15: invalid JSON: invalid token near 'nope'"),
            (text, file("one.jsonl", #"{"prompt":"a"}"# + "\n"),
             "\(directory)/one.jsonl: 1 target item against 2000 training pairs: the domain classifier needs at least 2 of each to hold some out"),
        ]
        for (data, target, message) in cases {
            let run = try TestSupport.run(["train", data, "--target", target, "--quiet"])
            XCTAssertEqual(run.status, 65, target)
            XCTAssertEqual(run.stderr, message + "\n")
        }
    }

    func test_a_clip_outside_zero_to_one_is_a_usage_error() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let target = TestSupport.write(#"{"prompt":"a"}"# + "\n", "target.jsonl", in: directory)
        for value in ["0", "1.5", "-0.5", "nan"] {
            let run = try TestSupport.run(["train", text, "--target", target, "--target-clip", value, "--quiet"])
            XCTAssertEqual(run.status, 64, value)
            XCTAssertEqual(run.stderr, "upweight: --target-clip: expected a number > 0 and ≤ 1, got \(value)\n")
        }
        let config = TestSupport.write(#"{"target-clip": 2}"#, "config.json", in: directory)
        let run = try TestSupport.run(["train", text, "--config", config, "--quiet"])
        XCTAssertEqual(run.status, 64)
        XCTAssertEqual(run.stderr, "upweight: \(config): key \"target-clip\": expected a number > 0 and ≤ 1, got 2\n")
    }

    /// The text fixture's prompts begin with a verb per category; the target is one category's prompts.
    func targetPrompts(category: String, in directory: String) throws -> String {
        let lines = try String(contentsOfFile: text, encoding: .utf8).split(separator: "\n")
        let prompts = try lines.compactMap { line -> String? in
            let object = try XCTUnwrap(try TestSupport.json(String(line)) as? [String: Any])
            guard object["category"] as? String == category, let prompt = object["prompt"] as? String else { return nil }
            return #"{"prompt": \#(String(decoding: try JSONSerialization.data(withJSONObject: [prompt]), as: UTF8.self).dropFirst().dropLast())}"#
        }
        return TestSupport.write(prompts.prefix(200).joined(separator: "\n") + "\n", "target.jsonl", in: directory)
    }

    func test_config_json_keeps_the_classifier_summary_and_runs_repeat_byte_for_byte() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let target = try targetPrompts(category: "coding", in: directory)
        var models: [Data] = []
        for name in ["first", "second"] {
            let run = try TestSupport.run(["train", text, "--target", target, "--holdout", "0.2", "--out", "\(directory)/\(name)", "--format", "json",
                                           "--report", "\(directory)/\(name).html", "--hash-bits", "14"])
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertTrue(run.stderr.contains("target: domain classifier (hashed prompt text, 2^14 features) tells 1600 training pairs from 200 target items with held-out AUC"),
                          "fit on the training pairs only, not the 400 held out: \(run.stderr)")
            models.append(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)/model.safetensors")))
        }
        XCTAssertEqual(models[0], models[1])
        let html = try String(contentsOfFile: "\(directory)/first.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<tr><td>target_items</td><td>200</td></tr>"), "the HTML report's weighting section shows the classifier")
        let config = try XCTUnwrap(try TestSupport.json(String(contentsOfFile: "\(directory)/first/config.json", encoding: .utf8)) as? [String: Any])
        let summary = try XCTUnwrap(config["target"] as? [String: Any])
        XCTAssertEqual(summary["file"] as? String, target)
        XCTAssertEqual(summary["training_pairs"] as? Int, 1600)
        XCTAssertEqual(summary["target_items"] as? Int, 200)
        XCTAssertEqual(summary["clip_quantile"] as? Double, 0.99)
        XCTAssertEqual(summary["featurizer"] as? String, "hashed prompt text, 2^14 features")
        let auc = try XCTUnwrap(summary["auc"] as? Double)
        XCTAssertGreaterThan(auc, 0.6, "coding prompts are told from the rest")
        let share = try XCTUnwrap(summary["effective_share"] as? Double)
        XCTAssertEqual(try XCTUnwrap(summary["effective_sample_size"] as? Double) / 1600, share, accuracy: 1e-12)
        let training = try XCTUnwrap(config["training"] as? [String: Any])
        XCTAssertEqual(training["target"] as? String, target)
        XCTAssertEqual(training["target-clip"] as? Double, 0.99)
    }

    /// `audit` shares train's flags, but judges labels: a target would skew its per-category models.
    func test_audit_ignores_a_target_and_says_so() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let lines = try String(contentsOfFile: dense, encoding: .utf8).split(separator: "\n").prefix(50)
        let target = TestSupport.write(lines.joined(separator: "\n") + "\n", "target.jsonl", in: directory)
        let run = try TestSupport.run(["audit", dense, "--target", target, "--top", "1"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("warning: --target \(target) is ignored: the audit judges labels, not the target domain\n"), run.stderr)
    }

    func test_tune_searches_the_clip_like_any_other_key() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let target = try targetPrompts(category: "coding", in: directory)
        let grid = TestSupport.write(#"{"target-clip": [0.5, 1]}"#, "grid.json", in: directory)
        // 300 of the fixture's pairs and 2^14 features: 2 candidates × 2 folds × 5 classifier fits stay quick.
        let lines = try String(contentsOfFile: text, encoding: .utf8).split(separator: "\n").prefix(300)
        let data = TestSupport.write(lines.joined(separator: "\n") + "\n", "data.jsonl", in: directory)
        let run = try TestSupport.run(["tune", data, "--grid", grid, "--target", target, "--folds", "2", "--hash-bits", "14",
                                       "--out", "\(directory)/best.json", "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("target-clip"), run.stdout)
        let winner = try XCTUnwrap(try TestSupport.json(String(contentsOfFile: "\(directory)/best.json", encoding: .utf8)) as? [String: Any])
        XCTAssertEqual(winner["target"] as? String, target)
        let clip = try XCTUnwrap(winner["target-clip"] as? Double)
        XCTAssertTrue(clip == 0.5 || clip == 1, "\(clip)")
    }
}
