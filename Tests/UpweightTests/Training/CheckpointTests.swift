import Foundation
import XCTest
@testable import UpweightData
@testable import UpweightEvaluation
@testable import UpweightTraining

/// Checkpoints, resuming, signals and determinism: no interruption ever loses a run or leaves a
/// model directory that cannot be loaded.
final class CheckpointTests: XCTestCase {
    /// Dense synthetic pairs, with training slow enough (batches of 16) to be interrupted.
    func data() -> String {
        var specification = SyntheticSpecification()
        specification.pairs = 20_000
        specification.dimension = 64
        specification.seed = 2
        return TestSupport.write(specification.generate().jsonl, "pairs.jsonl", in: TestSupport.temporaryDirectory(self))
    }

    func trainArguments(_ data: String, out: String, epochs: Int = 150) -> [String] {
        ["train", data, "--optimizer", "adamw", "--epochs", String(epochs), "--batch-size", "16", "--out", out, "--checkpoint-every", "3"]
    }

    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// Starts training, waits until `ready` holds of what it has written to standard error so far,
    /// sends `signal`, and returns the exit status and all of standard error. Standard error goes to
    /// a file that this thread polls: no other thread shares state with the test.
    func interrupt(_ arguments: [String], signal: Int32, when ready: (String) -> Bool) throws -> (status: Int32, stderr: String) {
        let errorsPath = "\(TestSupport.temporaryDirectory(self))/stderr-\(UUID().uuidString)"
        func written() -> String { String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: errorsPath))) ?? Data(), as: UTF8.self) }
        let child = try Subprocess(TestSupport.binary, arguments, stdout: .discard, stderr: .file(errorsPath))
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline && !ready(written()) {
            if let status = child.ended() { return (status, written()) }  // it ended before being ready
            usleep(20_000)
        }
        kill(child.pid, signal)
        return (child.wait(), written())
    }

    /// Starts training, waits for its first checkpoint, and sends `signal`.
    func interrupt(_ arguments: [String], out: String, signal: Int32) throws -> (status: Int32, stderr: String) {
        try interrupt(arguments, signal: signal) { _ in FileManager.default.fileExists(atPath: "\(out)/checkpoint.json") }
    }

    func test_runs_without_checkpoints_stop_on_a_signal_and_say_nothing_was_saved() throws {
        let directory = TestSupport.temporaryDirectory(self)
        // L-BFGS under group DRO: many full solves, so the signal lands inside one.
        var out = "\(directory)/lbfgs"
        var stopped = try interrupt(["train", TestSupport.data("llmbar.jsonl"), "--group-dro", "1", "--out", out],
                                    signal: SIGTERM) { $0.contains("training on") }
        XCTAssertEqual(stopped.status, 143, stopped.stderr)
        XCTAssertTrue(stopped.stderr.contains("upweight: interrupted by SIGTERM at group DRO round "), stopped.stderr)
        XCTAssertTrue(stopped.stderr.hasSuffix("; nothing was saved (L-BFGS runs are not checkpointed; run the command again, or use --optimizer adamw with --checkpoint-every)\n"), stopped.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))

        out = "\(directory)/boost"
        stopped = try interrupt(trainArguments(data(), out: out).dropLast(2) + ["--boost", "3"], signal: SIGINT) { $0.contains("training on") }
        XCTAssertEqual(stopped.status, 130, stopped.stderr)
        XCTAssertTrue(stopped.stderr.contains("upweight: interrupted by SIGINT at epoch 1, step "), stopped.stderr)
        XCTAssertTrue(stopped.stderr.hasSuffix("; nothing was saved (--boost runs are not checkpointed)\n"), stopped.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func test_sigterm_checkpoints_and_resume_ends_with_the_same_bytes() throws {
        let data = data()
        let directory = TestSupport.temporaryDirectory(self)
        let reference = try TestSupport.run(trainArguments(data, out: "\(directory)/reference"))
        XCTAssertEqual(reference.status, 0, reference.stderr)

        let out = "\(directory)/interrupted"
        let stopped = try interrupt(trainArguments(data, out: out), out: out, signal: SIGTERM)
        XCTAssertEqual(stopped.status, 143, stopped.stderr)
        XCTAssertTrue(stopped.stderr.contains("interrupted by SIGTERM at epoch"), stopped.stderr)
        XCTAssertTrue(stopped.stderr.contains("checkpoint written to \(out). To continue, run the same command with --resume"), stopped.stderr)
        XCTAssertNoThrow(try ModelDirectory.load(out), "the interrupted directory holds a loadable model")

        let resumed = try TestSupport.run(trainArguments(data, out: out) + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try bytes("\(out)/model.safetensors"), try bytes("\(directory)/reference/model.safetensors"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(out)/checkpoint.json"), "a finished run leaves no checkpoint")
    }

    /// With one batch per epoch every signal lands after an epoch's last batch: the checkpoint says
    /// "step 1" of 1, and resuming only closes that epoch (it used to be refused as out of range).
    func test_a_signal_during_an_epochs_last_batch_resumes_to_the_same_bytes() throws {
        let data = data()
        let directory = TestSupport.temporaryDirectory(self)
        func arguments(_ out: String) -> [String] {
            // --quiet: a line per epoch would fill the pipe the test reads only at the end.
            ["train", data, "--optimizer", "adamw", "--epochs", "600", "--batch-size", "20000", "--out", out, "--checkpoint-every", "50", "--quiet"]
        }
        let reference = try TestSupport.run(arguments("\(directory)/reference"))
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let out = "\(directory)/interrupted"
        let stopped = try interrupt(arguments(out), out: out, signal: SIGINT)
        XCTAssertEqual(stopped.status, 130, stopped.stderr)
        XCTAssertTrue(stopped.stderr.contains(", step 1; checkpoint written to"), stopped.stderr)
        let resumed = try TestSupport.run(arguments(out) + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try bytes("\(out)/model.safetensors"), try bytes("\(directory)/reference/model.safetensors"))
        // Every epoch logged once, the resumed one included (the log's timings differ, so not its bytes).
        let lines = { (path: String) in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count }
        XCTAssertEqual(try lines("\(out)/training_log.jsonl"), 600)
    }

    func test_mlp_sigint_with_schedule_and_early_stopping_resumes_to_the_same_bytes() throws {
        let data = data()
        let directory = TestSupport.temporaryDirectory(self)
        let arguments = { (out: String) in
            ["train", data, "--model", "mlp", "--hidden", "32", "--epochs", "60", "--batch-size", "32", "--schedule", "cosine",
             "--warmup-steps", "50", "--holdout", "0.1", "--patience", "50", "--out", out, "--checkpoint-every", "2"]
        }
        XCTAssertEqual(try TestSupport.run(arguments("\(directory)/reference")).status, 0)
        let out = "\(directory)/interrupted"
        let stopped = try interrupt(arguments(out), out: out, signal: SIGINT)
        XCTAssertEqual(stopped.status, 130, stopped.stderr)
        let resumed = try TestSupport.run(arguments(out) + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try bytes("\(out)/model.safetensors"), try bytes("\(directory)/reference/model.safetensors"))
    }

    /// Streamed AdamW: a run stopped mid-epoch redraws the epoch's unit order and window shuffles (or
    /// sample mode's draws) from
    /// the saved generator and ends with the bytes of a run never stopped (with early stopping's best state too).
    func test_streamed_adamw_resumes_mid_epoch_to_the_same_bytes() throws {
        let data = data()
        let directory = TestSupport.temporaryDirectory(self)
        // Sample mode's draws and group DRO's q are redrawn and restored too.
        for model in [["--optimizer", "adamw"], ["--model", "mlp", "--hidden", "16"],
                      ["--optimizer", "adamw", "--weight-mode", "sample", "--upweight", "math=4", "--group-dro", "0.5"]] {
            let arguments = { (out: String) in
                ["train", data, "--stream", "--epochs", "8", "--batch-size", "16", "--shuffle-buffer", "5000", "--holdout", "0.1",
                 "--patience", "6", "--out", out, "--checkpoint-every", "1", "--quiet"] + model
            }
            let name = model.joined(separator: "-")
            let reference = try TestSupport.run(arguments("\(directory)/reference\(name)"))
            XCTAssertEqual(reference.status, 0, reference.stderr)
            let out = "\(directory)/interrupted\(name)"
            let stopped = try interrupt(arguments(out), out: out, signal: SIGINT)
            XCTAssertEqual(stopped.status, 130, stopped.stderr)
            XCTAssertTrue(stopped.stderr.contains("checkpoint written to \(out)"), stopped.stderr)
            let resumed = try TestSupport.run(arguments(out) + ["--resume"])
            XCTAssertEqual(resumed.status, 0, resumed.stderr)
            XCTAssertEqual(try bytes("\(out)/model.safetensors"), try bytes("\(directory)/reference\(name)/model.safetensors"), name)
        }
    }

    func test_sigkill_at_any_moment_leaves_a_loadable_directory() throws {
        let data = data()
        let out = TestSupport.temporaryDirectory(self) + "/model"
        var arguments = trainArguments(data, out: out)
        arguments[arguments.count - 1] = "1"  // a checkpoint every epoch: kills land during writes too
        for attempt in 0..<5 {
            let child = try Subprocess(TestSupport.binary, arguments + (attempt > 0 ? ["--resume"] : []), stdout: .discard, stderr: .discard)
            usleep(useconds_t(400_000 + 150_000 * attempt))
            kill(child.pid, SIGKILL)
            _ = child.wait()
            guard FileManager.default.fileExists(atPath: out) else { continue }
            XCTAssertNoThrow(try ModelDirectory.load(out), "attempt \(attempt)")
        }
        let parent = (out as NSString).deletingLastPathComponent
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: parent).filter { $0.contains(".tmp-") }
        XCTAssertLessThanOrEqual(leftovers.count, 1, "at most the last killed process's staging directory")
    }

    func test_resume_refuses_other_settings_and_missing_checkpoints() throws {
        let data = data()
        let out = TestSupport.temporaryDirectory(self) + "/model"
        XCTAssertEqual(try TestSupport.run(trainArguments(data, out: out, epochs: 2)).status, 0)
        var run = try TestSupport.run(trainArguments(data, out: out, epochs: 2) + ["--resume"])
        XCTAssertEqual(run.status, 64)
        XCTAssertTrue(run.stderr.hasSuffix("upweight: \(out): no checkpoint to resume from (training there finished, or never checkpointed)\n"), run.stderr)
        run = try TestSupport.run(["train", data, "--optimizer", "adamw", "--resume"])
        XCTAssertEqual(run.status, 64)
        XCTAssertTrue(run.stderr.hasSuffix("upweight: --checkpoint-every and --resume need --out: checkpoints live in the model directory\n"), run.stderr)
    }

    func test_every_optimizer_and_model_is_deterministic() throws {
        let data = data()
        let directory = TestSupport.temporaryDirectory(self)
        let variants: [[String]] = [[], ["--optimizer", "adamw", "--epochs", "2"], ["--weight-mode", "sample"],
                                    ["--model", "mlp", "--hidden", "16,8", "--epochs", "2", "--activation", "gelu"],
                                    ["--boost", "2"], ["--group-dro", "0.5", "--optimizer", "adamw", "--epochs", "2"]]
        for (index, flags) in variants.enumerated() {
            for copy in ["a", "b"] {
                let run = try TestSupport.run(["train", data, "--out", "\(directory)/\(index)\(copy)"] + flags)
                XCTAssertEqual(run.status, 0, run.stderr)
            }
            XCTAssertEqual(try bytes("\(directory)/\(index)a/model.safetensors"), try bytes("\(directory)/\(index)b/model.safetensors"), "\(flags)")
        }
    }
}
