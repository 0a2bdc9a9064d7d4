import Foundation
import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightData
@testable import UpweightTraining
@testable import upweight

/// `TrainingOption`'s table: every option reaches the configuration from its flag, is written and
/// read back, has help that `train --help` shows, and a closed choice names its values when wrong.
final class OptionTableTests: XCTestCase {
    /// A value for every option's flag that is not its default, with the flags that make
    /// config.json hold it.
    static let samples: [String: [String]] = [
        "model": ["mlp"], "optimizer": ["adamw"], "l2": ["0.5"], "hidden": ["64,32", "--model", "mlp"],
        "activation": ["gelu", "--model", "mlp"], "initialization": ["torch", "--model", "mlp"],
        "warmup-steps": ["10", "--optimizer", "adamw"], "schedule": ["cosine", "--optimizer", "adamw"],
        "patience": ["3", "--optimizer", "adamw"], "learning-rate": ["0.01", "--optimizer", "adamw"],
        "weight-decay": ["0.1", "--optimizer", "adamw"], "batch-size": ["32", "--optimizer", "adamw"],
        "epochs": ["4", "--optimizer", "adamw"], "max-iterations": ["50"], "tolerance": ["1e-5"], "seed": ["7"],
        "hash-bits": ["12"], "include-prompt": [], "standardize": [], "upweight": ["safety=3", "--upweight", "math=0.5"],
        "normalize": ["none"], "category-scheme": ["effective:0.9"], "clip-weights": ["0.1,10"], "noise-aware": ["drop"], "weight-mode": ["sample"],
        "label-smoothing": ["0.1"], "center-rewards": ["0.01"], "focal-gamma": ["2"], "group-dro": ["0.5"],
        "group-dro-adjust": ["1", "--group-dro", "0.5"], "boost": ["3"], "target": ["target.jsonl"],
        "target-clip": ["0.9", "--target", "target.jsonl"], "holdout": ["0.2"],
        "group-by": ["thread", "--holdout", "0.2"], "train-split": ["train"], "eval-split": ["test"],
        "out": ["model"], "eval": ["a.jsonl", "--eval", "b.jsonl"], "save-split": ["split"], "log": ["log.jsonl"],
        "checkpoint-every": ["2"], "resume": [], "stream": [], "shuffle-buffer": ["4096"], "cache": ["/tmp/upweight-cache"], "block-bytes": ["1M"],
        "shape": ["dense"], "on-error": ["skip"], "threads": ["3"],
        "prompt-field": ["q"], "chosen-field": ["good"], "rejected-field": ["bad"], "category-field": ["kind"],
        "weight-field": ["w"], "margin-field": ["m"], "id-field": ["key"], "split-field": ["part"], "max-memory": ["8G"],
    ]

    func test_every_option_round_trips_from_its_flag_through_config_json() throws {
        XCTAssertEqual(Set(Self.samples.keys), Set(TrainingOption.all.map(\.key)), "a sample for every option")
        XCTAssertEqual(TrainingOption.all.count, Set(TrainingOption.all.map(\.key)).count, "no key twice")
        for option in TrainingOption.all {
            guard let sample = Self.samples[option.key] else { continue }
            let command = try Train.parse(["data.jsonl", "--\(option.key)"] + sample)
            var configuration = TrainingConfiguration()
            try configuration.apply(command.settings, from: .commandLine)
            let value = try XCTUnwrap(option.value(in: configuration), "\(option)")
            XCTAssertNotEqual(value, option.value(in: TrainingConfiguration()), "\(option): the flag changed nothing")
            // config.json holds the training and reader options (run options: their own setting).
            var written = option.section == .run ? configuration.settings([option]) : configuration.json
            for (key, value) in configuration.readerJSON.members { written[key] = value }
            XCTAssertEqual(written[option.key], value, "\(option) is written")
            guard case .object(let object) = try JSONParser.parse(JSONValue.object(written).prettyText) else {
                return XCTFail("\(option): not an object")
            }
            var reread = TrainingConfiguration()
            try reread.apply(object, from: .file("config.json"))
            XCTAssertEqual(option.value(in: reread), value, "\(option)")
            XCTAssertEqual(reread.json, configuration.json, "\(option)")
            XCTAssertEqual(reread.readerJSON, configuration.readerJSON, "\(option)")
        }
    }

    func test_every_option_has_help_that_train_help_shows() throws {
        let run = try TestSupport.run(["train", "--help"])
        XCTAssertEqual(run.status, 0, run.stderr)
        // Help lines wrap: read them as one text.
        let help = run.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for option in TrainingOption.all {
            XCTAssertTrue(option.help.count > 10 && option.help.hasSuffix("."), "\(option): \(option.help)")
            XCTAssertTrue(help.contains("--\(option.key) "), "\(option) is not in train --help")
            XCTAssertTrue(help.contains(option.help.split(separator: " ").joined(separator: " ")), "\(option)'s help")
            if !option.choices.isEmpty {
                XCTAssertTrue(help.contains("(values: \(option.choices.joined(separator: ", "))"), "\(option)'s values")
            }
        }
        XCTAssertEqual(Set(TrainingOption.all.filter { !$0.choices.isEmpty }.map(\.key)),
                       ["model", "optimizer", "activation", "initialization", "schedule", "normalize", "noise-aware", "weight-mode", "shape", "on-error"])
    }

    func test_a_bad_choice_names_the_valid_values() throws {
        for option in TrainingOption.all where !option.choices.isEmpty {
            var configuration = TrainingConfiguration()
            XCTAssertThrowsError(try configuration.apply(JSONObject([(option.key, "bogus")]), from: .file("c.json"))) { error in
                XCTAssertEqual((error as? UsageError)?.message, "c.json: key \"\(option.key)\": expected one of "
                               + option.choices.map { "\"\($0)\"" }.joined(separator: ", ") + ", got \"bogus\"")
            }
        }
        let directory = TestSupport.temporaryDirectory(self)
        let config = TestSupport.write(#"{"model": "cnn"}"#, "bad.json", in: directory)
        let run = try TestSupport.run(["train", TestSupport.fixture("linear-dense/train.jsonl"), "--config", config])
        XCTAssertEqual(run.status, 64)
        XCTAssertEqual(run.stderr, "upweight: \(config): key \"model\": expected one of \"linear\", \"mlp\", got \"cnn\"\n")
    }

    /// `--out` names every command's output; `--output`, its old name, still works, but not both.
    func test_out_names_every_output_and_output_is_its_old_name() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = TestSupport.fixture("linear-dense/train.jsonl")
        let model = "\(directory)/model"
        XCTAssertEqual(try TestSupport.run(["train", data, "--out", model, "--quiet"]).status, 0)
        for (index, flag) in ["--out", "--output"].enumerated() {
            let path = "\(directory)/scores\(index).jsonl"
            let run = try TestSupport.run(["score", model, data, flag, path])
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count, 3000)
        }
        let both = try TestSupport.run(["eval", model, data, "--out", "\(directory)/a.txt", "--output", "\(directory)/b.txt"])
        XCTAssertEqual(both.status, 64)
        XCTAssertTrue(both.stderr.hasPrefix("Error: --output is the old name of --out: give one of them\n"), both.stderr)
        let help = try TestSupport.run(["eval", "--help"]).stdout
        XCTAssertFalse(help.contains("  --output"), "the old name is hidden")
        XCTAssertTrue(help.split(whereSeparator: \.isWhitespace).joined(separator: " ").contains("(--output, the old name of this flag, still works)"), help)
    }

    /// `tune` takes the training flags: every candidate starts from them, and the winner keeps them.
    func test_tune_takes_the_training_flags_and_writes_them_into_the_winner() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = TestSupport.fixture("linear-dense/train.jsonl")
        let grid = TestSupport.write(#"{"focal-gamma": [0, 1]}"#, "grid.json", in: directory)
        let winner = "\(directory)/winner.json"
        let run = try TestSupport.run(["tune", data, "--grid", grid, "--folds", "2", "--l2", "0.5", "--seed", "3",
                                       "--threads", "2", "--out", winner, "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let written = try TestSupport.json(String(contentsOfFile: winner, encoding: .utf8)) as! [String: Any]
        XCTAssertEqual(written["l2"] as? Double, 0.5)
        XCTAssertEqual(written["seed"] as? Int, 3)
        XCTAssertNotNil(written["focal-gamma"])
        XCTAssertNil(written["threads"], "how to read this machine's data is not a training setting")
        let bad = try TestSupport.run(["tune", data, "--grid", grid, "--l2=-1", "--out", winner])
        XCTAssertEqual(bad.stderr, "upweight: --l2: expected a number ≥ 0, got -1\n")
    }
}
