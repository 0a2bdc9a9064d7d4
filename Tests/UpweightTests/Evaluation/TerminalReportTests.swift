import Foundation
import Synchronization
import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightEvaluation
@testable import UpweightTraining

/// What `train` and `eval` print on a terminal: a table that fits, lasting epoch lines, warnings.
final class TerminalReportTests: XCTestCase {
    private func report(names: [String]) -> EvaluationReport {
        let categories = names.flatMap { [$0, $0] }
        return EvaluationReport(dataset: syntheticDataset(categories: categories), chosenRewards: categories.indices.map { Float($0 % 3) },
                                rejectedRewards: categories.map { _ in 1 })
    }

    func test_the_default_table_fits_the_width_and_wide_shows_every_metric() {
        let long = String(repeating: "a-very-long-category-name/", count: 6)
        let report = report(names: [long, "short"])
        for width in [120, 80] {
            let lines = report.table(width: width).split(separator: "\n")
            XCTAssertLessThanOrEqual(lines.map(\.count).max() ?? 0, width, lines.joined(separator: "\n"))
            XCTAssertEqual(lines[0].split(separator: " ", omittingEmptySubsequences: true).joined(separator: " "),
                           "category pairs accuracy 95% CI log loss ece")
            XCTAssertTrue(lines.contains { $0.hasPrefix("a-very-long") && $0.contains("…") })
        }
        let wide = report.table(wide: true)
        XCTAssertTrue(wide.contains("mean margin") && wide.contains("reward sd") && wide.contains(long))
    }

    func test_epoch_lines_show_held_out_loss_and_point_at_patience_when_it_rises() {
        func entry(_ epoch: Int, _ train: Double, _ heldOut: Double?) -> JSONObject {
            var object = JSONObject([("epoch", JSONValue(epoch)), ("train_loss", .number(train))])
            if let heldOut { object["eval"] = ["accuracy": 0.75, "log_loss": .number(heldOut)] }
            return object
        }
        XCTAssertEqual(EpochLine.text(log: [entry(1, 0.69, nil)], epochs: 3, patience: nil), "epoch 1/3  train loss 0.6900")
        let log = [entry(1, 0.6, 0.65), entry(2, 0.5, 0.6), entry(3, 0.4, 0.61), entry(4, 0.3, 0.62)]
        XCTAssertEqual(EpochLine.text(log: Array(log.prefix(3)), epochs: 4, patience: nil),
                       "epoch 3/4  train loss 0.4000  held-out loss 0.6100  accuracy 0.750")
        XCTAssertEqual(EpochLine.text(log: log, epochs: 4, patience: nil),
                       "epoch 4/4  train loss 0.3000  held-out loss 0.6200  accuracy 0.750  (held-out loss rising since epoch 2; --patience N stops early and keeps the best epoch)")
        XCTAssertTrue(EpochLine.text(log: log, epochs: 4, patience: 3).hasSuffix("(held-out loss rising since epoch 2)"))
    }

    /// --patience stops a linear AdamW run as it stops an MLP's, and the saved model is the best
    /// epoch's: its held-out log loss, evaluated afresh, is the one the log recorded for that epoch.
    /// L-BFGS has no epochs: there the flag is refused by name in a warning, not silently dropped.
    func test_patience_stops_linear_adamw_and_lbfgs_says_it_ignores_it() throws {
        let out = TestSupport.temporaryDirectory(self) + "/model"
        let run = try TestSupport.run(["train", TestSupport.data("llmbar.jsonl"), "--optimizer", "adamw", "--learning-rate", "0.3",
                                       "--epochs", "40", "--holdout", "0.25", "--patience", "2", "--out", out])
        XCTAssertEqual(run.status, 0, run.stderr)
        let stop = try XCTUnwrap(run.stderr.split(separator: "\n").first { $0.hasPrefix("early stop after epoch ") })
        let log = try String(contentsOfFile: out + "/training_log.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertLessThan(log.count, 40)
        let losses = log.map { ($0["eval"] as! [String: Any])["log_loss"] as! Double }
        let best = losses.indices.min { losses[$0] < losses[$1] }!
        XCTAssertEqual(String(stop), "early stop after epoch \(log.count): the held-out loss last improved at epoch \(best + 1)")
        let evaluated = try TestSupport.run(["eval", out, "--holdout-of", out, "--format", "json"])
        let overall = try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as! [String: Any]
        XCTAssertEqual((overall["overall"] as! [String: Any])["log_loss"] as! Double, losses[best], accuracy: 1e-12)

        let lbfgs = try TestSupport.run(["train", TestSupport.data("llmbar.jsonl"), "--patience", "2"])
        XCTAssertTrue(lbfgs.stderr.contains("warning: --patience 2 is ignored: L-BFGS has no epochs to stop after (use --optimizer adamw)\n"), lbfgs.stderr)
    }

    func test_train_warns_about_no_out_an_ignored_holdout_and_a_missing_category_field() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = TestSupport.write("""
            {"prompt":"p","chosen":"good answer","rejected":"bad","split":"train"}
            {"prompt":"q","chosen":"fine answer","rejected":"worse","split":"test"}

            """, "d.jsonl", in: directory)
        let run = try TestSupport.run(["train", data, "--train-split", "train", "--eval-split", "test", "--holdout", "0.5",
                                       "--category-field", "topic"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let lines = run.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(Array(lines.prefix(2)), ["warning: no --out: the model will not be saved",
                                                "warning: --holdout 0.5 is ignored: --eval-split gives the evaluation pairs"])
        XCTAssertTrue(lines.contains("warning: no line has the category field \"topic\" (--category-field): every pair is in category \"default\""), run.stderr)
    }

    func test_argument_parser_errors_quote_values_escaped() throws {
        let run = try TestSupport.run(["stats", TestSupport.data("llmbar.jsonl"), "--format", "\u{1B}]0;pwned\u{7}"])
        XCTAssertEqual(run.status, 64)
        XCTAssertEqual(run.stderr.split(separator: "\n").first.map(String.init),
                       "Error: The value '\\e]0;pwned\\u{7}' is invalid for '--format <format>'. Please provide one of 'table', 'json', 'csv', 'markdown' or 'html'.")
        XCTAssertFalse(run.stderr.contains("\u{1B}"))
    }

    func test_each_file_gets_a_shape_note_and_warnings_name_their_first_lines() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let explicit = TestSupport.write("""
            {"prompt":"p1","chosen":"good answer","rejected":"bad"}
            {"prompt":"p2","chosen":"","rejected":"worse"}
            {"prompt":"p3","chosen":"same","rejected":"same"}

            {"prompt":"p4","chosen":"fine","rejected":""}

            """, "a.jsonl", in: directory)
        let conversational = TestSupport.write("""
            {"chosen":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}],"rejected":[{"role":"user","content":"hi"},{"role":"assistant","content":""}]}
            {"prompt":[{"role":"user","content":"q"}],"chosen":[{"role":"assistant","content":"yes"}],"rejected":[{"role":"assistant","content":"no"}]}

            """, "b.jsonl", in: directory)
        let implicit = TestSupport.write("""
            {"chosen":"\\n\\nHuman: a\\n\\nAssistant: b","rejected":"\\n\\nHuman: a\\n\\nAssistant:"}
            {"chosen":"\\n\\nHuman: c\\n\\nAssistant: d","rejected":"\\n\\nHuman: c\\n\\nAssistant: d"}
            {"chosen":"\\n\\nHuman: e\\n\\nAssistant: f","rejected":"\\n\\nHuman: e\\n\\nAssistant:"}

            """, "c.jsonl", in: directory)
        let run = try TestSupport.run(["train", explicit, conversational, implicit, "--hash-bits", "8", "--format", "json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let lines = run.stderr.split(separator: "\n").map(String.init)
        let read = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("read 9 pairs in ") }, run.stderr)
        XCTAssertEqual(Array(lines[(read + 1)...].prefix(5)), [
            "note: \(explicit): shape explicit (prompt/chosen/rejected strings), 4 pairs",
            "note: \(conversational): shape conversational (chosen/rejected message lists), 2 pairs",
            "note: \(implicit): shape implicit (chosen/rejected transcripts), 3 pairs",
            "warning: 2 of 9 pairs: chosen identical to rejected (\(explicit):3, \(implicit):2)",
            "warning: 5 of 9 pairs: empty response (\(explicit):2, \(explicit):5, \(conversational):1 …and 2 more)",
        ], run.stderr)

        // Dense data and a shape set by --shape; eval and score print the same notes.
        let dense = TestSupport.write(#"{"chosen_features":[1,0],"rejected_features":[0,1]}"# + "\n", "d.jsonl", in: directory)
        let model = "\(directory)/model"
        let trained = try TestSupport.run(["train", dense, "--shape", "dense", "--out", model])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertTrue(trained.stderr.contains("\nnote: \(dense): shape dense (chosen_features/rejected_features vectors; set by --shape), 1 pair\n"), trained.stderr)
        for command in ["eval", "score"] {
            let run = try TestSupport.run([command, model, dense] + (command == "eval" ? ["--bootstrap", "0"] : []))
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertTrue(run.stderr.hasPrefix("note: \(dense): shape dense (chosen_features/rejected_features vectors; set by --shape), 1 pair\n"), "\(command): \(run.stderr)")
        }
    }

    func test_the_final_line_names_the_objective_and_its_terms_which_add_up() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let model = "\(directory)/model"
        let run = try TestSupport.run(["train", TestSupport.fixture("linear-dense/train.jsonl"), "--l2", "0.01", "--out", model, "--format", "json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let line = try XCTUnwrap(run.stderr.split(separator: "\n").first { $0.hasPrefix("trained in ") }, run.stderr)
        let pattern = /trained in [0-9.]+ s: objective ([0-9.]+) = weighted loss ([0-9.]+) \+ L2 term ([0-9.]+)/
        let match = try XCTUnwrap(line.wholeMatch(of: pattern), String(line))
        let (objective, loss, l2Term) = (Double(match.1)!, Double(match.2)!, Double(match.3)!)
        XCTAssertEqual(loss + l2Term, objective, accuracy: 1.5e-4, String(line))  // each printed to 4 decimals
        // The objective is the one the model directory records, and the L2 term is (λ/2)‖θ‖² of the saved θ.
        let trained = try ModelDirectory.load(model)
        guard case .object(let result)? = trained.provenance["result"], let recorded = result["objective"]?.numberValue else {
            return XCTFail("no result.objective in config.json")
        }
        XCTAssertEqual(objective, recorded, accuracy: 5e-5)
        guard case .linear(let linear) = trained.model else { return XCTFail("not a linear model") }
        XCTAssertEqual(l2Term, 0.5 * 0.01 * linear.weight.reduce(0) { $0 + Double($1) * Double($1) }, accuracy: 5e-5)
        XCTAssertGreaterThan(l2Term, 0.001)
        XCTAssertEqual(termText(3.214e-6), "3.21e-06")
        XCTAssertEqual(termText(0.0009996), "1.00e-03")
        XCTAssertEqual(termText(0), "0.0000")
        XCTAssertEqual(termText(0.56612), "0.5661")
    }

    func test_progress_tells_where_the_whole_run_stands() throws {
        let dataset = try TestSupport.read(paths: [TestSupport.fixture("linear-dense/train.jsonl")])
        func updates(_ configure: (inout TrainingConfiguration) -> Void) throws -> [Reporter.Progress] {
            var configuration = TrainingConfiguration()
            configure(&configuration)
            let seen = Mutex([Reporter.Progress]())
            _ = try Trainer.train(dataset, configuration: configuration,
                                  reporter: Reporter(note: { _ in }, progress: { update in seen.withLock { $0.append(update) } }))
            return seen.withLock { $0 }.filter { $0.run != nil }
        }
        // Minibatch epochs: pairs over every epoch, from 0 to all of them.
        let epochs = try updates { $0.optimizer = .adamw; $0.epochs = 3; $0.batchSize = 1000 }
        XCTAssertEqual(epochs.first?.run, Reporter.RunPosition(completed: 0, total: 9000, isLimit: false))
        XCTAssertEqual(epochs.last?.run, Reporter.RunPosition(completed: 9000, total: 9000, isLimit: false))
        XCTAssertEqual(epochs.map { $0.run!.completed }, [0] + (1...9).map { $0 * 1000 })
        XCTAssertEqual(epochs.map(\.phase).last, "epoch 3/3")
        // L-BFGS: iterations against --max-iterations, a limit; boosting's rounds share one run.
        let lbfgs = try updates { $0.maxIterations = 50 }
        XCTAssertEqual(lbfgs.first?.run, Reporter.RunPosition(completed: 0, total: 50, isLimit: true))
        XCTAssertTrue(lbfgs.allSatisfy { $0.run!.total == 50 && $0.run!.isLimit })
        let boosted = try updates { $0.maxIterations = 50; $0.boostRounds = 2 }
        XCTAssertTrue(boosted.allSatisfy { $0.run!.total == 100 && $0.run!.isLimit })
        XCTAssertEqual(boosted.filter { $0.run!.completed == 50 && $0.completed == 0 }.count, 1, "round 2 starts half way")
        // The estimate: the pace since timing began, over what is left of the whole run.
        let position = Reporter.RunPosition(completed: 250, total: 1000, isLimit: false)
        XCTAssertEqual(position.remainingSeconds(startedAt: 0, elapsed: 5), 15)
        XCTAssertEqual(position.remainingSeconds(startedAt: 100, elapsed: 3), 15, "a resumed run is timed from where it resumed")
        XCTAssertNil(position.remainingSeconds(startedAt: 250, elapsed: 1))
    }

    func test_quiet_prints_only_errors() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = TestSupport.write("""
            {"prompt":"p","chosen":"good answer","rejected":""}
            {"prompt":"q","chosen":"same","rejected":"same"}
            {"prompt":"r","chosen":"fine answer","rejected":"worse"}

            """, "d.jsonl", in: directory)
        // Without --quiet this run warns (no --out, an empty response, identical responses) and notes a lot.
        let loud = try TestSupport.run(["train", data, "--holdout", "0.5", "--eval", data, "--hash-bits", "8"])
        XCTAssertEqual(loud.status, 0, loud.stderr)
        XCTAssertTrue(loud.stderr.contains("warning: no --out: the model will not be saved\n"), loud.stderr)
        XCTAssertTrue(loud.stderr.contains("warning: 1 of 3 pairs: empty response (\(data):1)\n"), loud.stderr)
        let model = "\(directory)/model"
        let quiet = try TestSupport.run(["train", data, "--holdout", "0.5", "--eval", data, "--hash-bits", "8", "--out", model, "--quiet"])
        XCTAssertEqual(quiet.status, 0)
        XCTAssertEqual(quiet.stderr, "")
        XCTAssertFalse(quiet.stdout.isEmpty, "the report still goes to stdout")
        let grid = TestSupport.write(#"{"l2": [0.1]}"#, "grid.json", in: directory)
        for arguments in [["eval", model, data], ["compare", data, "--model", model, "--model", model, "--bootstrap", "10"],
                          ["tune", data, "--grid", grid, "--folds", "2", "--group-by", "none", "--out", "\(directory)/best.json"]] {
            let run = try TestSupport.run(arguments + ["--quiet"])
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertEqual(run.stderr, "", arguments[0])
        }
        // An error is still printed.
        let bad = TestSupport.write(#"{"prompt":"p","chosen":"a","rejected":"b","weight":-1}"# + "\n", "bad.jsonl", in: directory)
        let failed = try TestSupport.run(["train", bad, "--quiet"])
        XCTAssertEqual(failed.status, 65)
        XCTAssertEqual(failed.stderr, "\(bad):1:52: expected a finite number ≥ 0, got -1 (field weight)\n")
    }

    /// On a terminal (a pseudo-terminal from script(1)), the progress line's ETA is the whole run's.
    func test_the_progress_line_on_a_terminal_shows_the_runs_eta() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script"),
              (try? TestSupport.run(["--version"]).status) == 0 else { throw XCTSkip("no script(1)") }
        let directory = TestSupport.temporaryDirectory(self)
        let data = "\(directory)/text.jsonl"
        XCTAssertEqual(try TestSupport.run(["synth", "--n", "20000", "--text", "--out", data]).status, 0)
        // L-BFGS on 2^16 features, one thread: over a second, so the line is drawn with an estimate.
        let script: Subprocess
        do {
            script = try Subprocess("/usr/bin/script", ["-qfc", "\(TestSupport.binary) train \(data) --hash-bits 16 --l2 1e-6 --threads 1 --format json > /dev/null", "/dev/null"],
                                    stderr: .discard)
        } catch { throw XCTSkip("script(1) did not run: \(error)") }
        let (status, text, _) = script.finish()
        guard status == 0, text.contains("trained in") else { throw XCTSkip("script(1) gave no terminal: \(text.suffix(200))") }
        let drawn = text.split(separator: "\r").filter { $0.contains("L-BFGS") && $0.contains("ETA") }
        XCTAssertFalse(drawn.isEmpty, text)
        XCTAssertTrue(drawn.allSatisfy { $0.contains("/1000 iterations") && $0.contains("ETA ≤ ") }, drawn.joined(separator: "\n"))
    }
}
