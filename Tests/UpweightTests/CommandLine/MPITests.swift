import Foundation
import XCTest
@testable import Upweight

/// `mpirun -n K upweight train`: K ranks train the single-process model bit for bit (L-BFGS) or
/// within measured tolerances (AdamW, whose batches the ranks share), one rank's
/// data error stops them all with rank 0's message, a killed rank ends the job (no hang), and what
/// does not run under MPI yet is refused.
/// Skipped unless `upweight` was built with `--traits MPI` and `mpirun` is installed (scripts/test
/// builds that binary into .build-mpi and runs these tests against it).
final class MPITests: XCTestCase {
    /// `mpirun` on PATH, or nil.
    static let mpirun: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Whether the binary refused an MPI job for want of the trait (nil: not asked yet).
    nonisolated(unsafe) static var builtWithoutMPI: Bool?

    /// Runs the CLI as `ranks` MPI ranks (root allowed, more ranks than cores allowed).
    func mpirun(_ ranks: Int, _ arguments: [String]) throws -> TestSupport.Run {
        let mpirun = try XCTUnwrap(Self.mpirun)
        return try TestSupport.run(["--oversubscribe", "--allow-run-as-root", "-n", "\(ranks)", TestSupport.binary] + arguments,
                                   executable: mpirun)
    }

    /// Skips unless mpirun exists and the binary joins MPI jobs (it refuses them when built without
    /// the trait); with UPWEIGHT_REQUIRE_MPI set (scripts/test's MPI build), fails instead.
    func requireMPI() throws {
        let required = ProcessInfo.processInfo.environment["UPWEIGHT_REQUIRE_MPI"] != nil
        func missing(_ reason: String) -> Error {
            required ? TestSupport.Failure("UPWEIGHT_REQUIRE_MPI is set, but \(reason)") : XCTSkip(reason)
        }
        guard Self.mpirun != nil else { throw missing("mpirun is not installed (scripts/setup --mpi installs Open MPI)") }
        if Self.builtWithoutMPI == nil {
            Self.builtWithoutMPI = try mpirun(2, ["train", "/nonexistent/probe.jsonl", "--quiet"]).stderr.contains("built without MPI")
        }
        if Self.builtWithoutMPI == true {
            throw missing("\(TestSupport.binary) was built without the MPI trait (swift build --traits MPI --scratch-path .build-mpi; scripts/test runs these tests there)")
        }
    }

    /// 7,000 pairs of 64 numbers: 4 units of 2,048 pairs, so that 2 and 3 ranks each sum a share
    /// (nil `dimension`: that many text pairs).
    func dataFile(in directory: String, seed: UInt64 = 14, pairs: Int = 7000, dimension: Int? = 64, name: String = "train.jsonl") -> String {
        var specification = SyntheticSpecification()
        (specification.pairs, specification.dimension, specification.seed) = (pairs, dimension, seed)
        return TestSupport.write(specification.generate().jsonl, name, in: directory)
    }

    /// Blocks of 1 MiB: each of 3 ranks reads several (L-BFGS ranks read their own blocks).
    let flags = ["--l2", "0.01", "--standardize", "--holdout", "0.2", "--upweight", "safety=3", "--cache", "none", "--format", "json",
                 "--block-bytes", "1M"]

    func test_ranks_train_the_single_process_streamed_model_bit_for_bit() throws {
        try requireMPI()
        let directory = TestSupport.temporaryDirectory(self)
        let data = dataFile(in: directory)
        let single = try TestSupport.run(["train", data, "--stream", "--out", "\(directory)/single"] + flags)
        XCTAssertEqual(single.status, 0, single.stderr)
        let reference = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/single/model.safetensors"))
        for ranks in 1...3 {
            let out = "\(directory)/ranks\(ranks)"
            let run = try mpirun(ranks, ["train", data, "--out", out] + flags)
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(out)/model.safetensors")), reference, "\(ranks) ranks")
            XCTAssertEqual(run.stdout, single.stdout, "\(ranks) ranks: rank 0 prints the single process's report, once")
            XCTAssertTrue(run.stderr.contains("streaming (MPI, \(plural(ranks, "rank", "ranks")))"), run.stderr)
            // 7,000 pairs of 64 numbers take 18 blocks of 1 MiB; rank 0 reads the first third of them.
            if ranks > 1 { XCTAssertTrue(run.stderr.contains("note: MPI rank 0 of \(ranks) reads blocks 0..<\(18 / ranks) of 18 ("), run.stderr) }
        }
    }

    /// Group DRO (global per-category losses), sample mode (the same resample on every rank) and
    /// boosting (each round's margins) on 3 ranks, against one process.
    func test_group_dro_sample_mode_and_boosting_on_ranks_give_the_single_process_model() throws {
        try requireMPI()
        let directory = TestSupport.temporaryDirectory(self)
        let data = dataFile(in: directory)
        for (name, extra) in [("dro", ["--group-dro", "0.5"]), ("sample", ["--weight-mode", "sample"]), ("boost", ["--boost", "2"])] {
            let single = try TestSupport.run(["train", data, "--stream", "--out", "\(directory)/\(name)-single"] + flags + extra)
            XCTAssertEqual(single.status, 0, single.stderr)
            let run = try mpirun(3, ["train", data, "--out", "\(directory)/\(name)-ranks"] + flags + extra)
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)-ranks/model.safetensors")),
                           try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)-single/model.safetensors")), name)
            XCTAssertEqual(run.stdout, single.stdout, name)
        }
    }

    func test_a_data_error_stops_every_rank_with_rank_0_printing_where() throws {
        try requireMPI()
        let directory = TestSupport.temporaryDirectory(self)
        let good = String(decoding: try Data(contentsOf: URL(fileURLWithPath: dataFile(in: directory))), as: UTF8.self)
        let lines = good.split(separator: "\n")
        let bad = TestSupport.write((lines[..<4000] + ["{\"chosen\": [1, 2], \"rejected\": "] + lines[4000...]).joined(separator: "\n") + "\n",
                                    "bad.jsonl", in: directory)
        let run = try mpirun(3, ["train", bad, "--out", "\(directory)/model"] + flags)
        XCTAssertEqual(run.status, 65, run.stderr)
        let located = run.stderr.split(separator: "\n").filter { $0.hasPrefix("\(bad):4001:") }
        XCTAssertEqual(located.count, 1, "rank 0 alone prints the located message: \(run.stderr)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/model"))
    }

    func test_a_killed_rank_ends_the_job_within_seconds_and_the_survivors_say_why() throws {
        try requireMPI()
        let directory = TestSupport.temporaryDirectory(self)
        let data = dataFile(in: directory)
        let errors = "\(directory)/stderr.txt"
        let job = try Subprocess(try XCTUnwrap(Self.mpirun), ["--oversubscribe", "--allow-run-as-root", "-n", "3", TestSupport.binary, "train", data,
                                                               "--cache", "none", "--tolerance", "0", "--max-iterations", "100000"],
                                 stdout: .discard, stderr: .file(errors))
        // Rank 1 is the child of mpirun whose environment says so; killed once rank 0 has read the
        // data (every rank has then set up its signal handlers; the others read after rank 0).
        var victim: Int32?
        for _ in 0..<400 where victim == nil {
            usleep(50_000)
            guard (try? String(contentsOfFile: errors, encoding: .utf8))?.contains("read 7000 pairs") == true else { continue }
            victim = Self.children(of: job.pid).first { Self.environment(of: $0).contains("OMPI_COMM_WORLD_RANK=1") }
        }
        let rank1 = try XCTUnwrap(victim, "rank 0 did not read the data, or rank 1 did not start")
        kill(rank1, SIGKILL)
        let killed = Date()
        XCTAssertNotEqual(job.wait(), 0)
        XCTAssertLessThan(Date().timeIntervalSince(killed), 15, "the other ranks must not wait forever for rank 1")
        // The survivors say why they stop (mpirun sends them SIGTERM), beside mpirun's own message.
        let stderr = try String(contentsOfFile: errors, encoding: .utf8)
        for survivor in [0, 2] {
            XCTAssertTrue(stderr.contains("upweight: rank \(survivor) of 3 stopping on a signal from the MPI launcher: it stops every rank when one fails (mpirun's message says which) or the job is cancelled\n"), stderr)
        }
        XCTAssertTrue(stderr.contains("process rank 1"), stderr)
    }

    static func children(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let afterName = stat.range(of: ") ", options: .backwards) else { return false }
            return stat[afterName.upperBound...].split(separator: " ").dropFirst().first == "\(parent)"
        }
    }

    static func environment(of pid: Int32) -> [String] {
        let bytes = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))) ?? Data()
        return bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The launcher's environment is untrusted: a machine said to hold 0 ranks is ignored (the
    /// threads default to every core), not a division by zero.
    func test_a_launcher_announcing_zero_ranks_on_this_machine_trains_normally() throws {
        try requireMPI()
        let directory = TestSupport.temporaryDirectory(self)
        let run = try TestSupport.run(["train", dataFile(in: directory), "--cache", "none", "--quiet", "--out", "\(directory)/model"],
                                      environment: ["OMPI_COMM_WORLD_SIZE": "1", "OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_LOCAL_SIZE": "0"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(directory)/model/model.safetensors"), run.stderr)
    }

    func test_a_build_without_the_trait_refuses_to_run_as_several_ranks() throws {
        guard Self.mpirun != nil else { throw XCTSkip("mpirun is not installed (scripts/setup --mpi installs Open MPI)") }
        let run = try mpirun(2, ["train", "/nonexistent/probe.jsonl", "--quiet"])
        guard run.stderr.contains("built without MPI") else { throw XCTSkip("\(TestSupport.binary) was built with the MPI trait") }
        XCTAssertEqual(run.status, 64, run.stderr)
        XCTAssertEqual(run.stderr.split(separator: "\n").filter { $0.contains("built without MPI") }.count, 1, "rank 0 alone prints: \(run.stderr)")
    }

    /// Hashed text streams in units of about 1 MiB of sparse rows (40,000 pairs: tens of units).
    func test_text_on_ranks_gives_the_single_process_model() throws {
        try requireMPI()
        let directory = TestSupport.temporaryDirectory(self)
        let data = dataFile(in: directory, seed: 4, pairs: 40000, dimension: nil, name: "text.jsonl")
        let blocks = ["--block-bytes", "1M"]
        let single = try TestSupport.run(["train", data, "--stream", "--cache", "none", "--out", "\(directory)/single", "--format", "json"] + blocks)
        XCTAssertEqual(single.status, 0, single.stderr)
        let run = try mpirun(3, ["train", data, "--cache", "none", "--out", "\(directory)/ranks", "--format", "json"] + blocks)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/ranks/model.safetensors")),
                       try Data(contentsOf: URL(fileURLWithPath: "\(directory)/single/model.safetensors")))
        XCTAssertEqual(run.stdout, single.stdout)
    }

    /// Ranks started with other flags or other files (mpirun's `A : B` form) stop before training.
    func test_ranks_with_other_settings_or_data_are_refused() throws {
        try requireMPI()
        let directory = TestSupport.temporaryDirectory(self)
        let data = dataFile(in: directory)
        let otherData = dataFile(in: directory, seed: 15, name: "other.jsonl")
        let train = ["train", "--cache", "none", "--quiet"]
        for (what, second) in [("settings", [data, "--l2", "0.2"]), ("training data", [otherData])] {
            try assertRankOneRefused(first: train + [data], second: train + second, for: what)
        }
    }

    /// One rank with `first`'s arguments and one with `second`'s (mpirun's `:`): refused, exit 64,
    /// the message naming `what` rank 1 holds differently.
    func assertRankOneRefused(first: [String], second: [String], for what: String, line: UInt = #line) throws {
        let rank = ["-n", "1", TestSupport.binary]
        let run = try TestSupport.run(["--allow-run-as-root"] + rank + first + [":"] + rank + second, executable: try XCTUnwrap(Self.mpirun))
        XCTAssertEqual(run.status, 64, run.stderr, line: line)
        XCTAssertTrue(run.stderr.contains("MPI rank 1 has other \(what) than rank 0"), run.stderr, line: line)
    }

    func test_what_does_not_run_on_ranks_yet_is_refused() throws {
        try requireMPI()
        let directory = TestSupport.temporaryDirectory(self)
        let data = dataFile(in: directory)
        let split = try mpirun(2, ["train", data, "--optimizer", "adamw", "--save-split", "\(directory)/split", "--quiet"])
        XCTAssertEqual(split.status, 64, split.stderr)
        XCTAssertEqual(split.stderr.split(separator: "\n").filter { $0.contains("not yet: streamed training") && $0.contains("--save-split") }.count, 1,
                       split.stderr)
        let stats = try mpirun(2, ["stats", data])
        XCTAssertEqual(stats.status, 64, stats.stderr)
        XCTAssertTrue(stats.stderr.contains("only `upweight train`, `eval` and `score` run on several MPI ranks yet"), stats.stderr)
    }

    /// A model trained in one process on `data`, in `directory`/`name`.
    func trainedModel(_ data: String, _ name: String, in directory: String, _ extra: [String] = []) throws -> String {
        let out = "\(directory)/\(name)"
        let run = try TestSupport.run(["train", data, "--out", out, "--cache", "none", "--quiet"] + extra)
        XCTAssertEqual(run.status, 0, run.stderr)
        return out
    }

    /// `command` as one process and on each of `ranks`: the same status, stdout and `--out` file.
    func assertRanksPrintTheSingleProcessOutput(_ command: [String], ranks: ClosedRange<Int>, file: StaticString = #filePath, line: UInt = #line) throws {
        let out = command.firstIndex(of: "--out").map { command[$0 + 1] }
        let single = try TestSupport.run(command)
        XCTAssertEqual(single.status, 0, single.stderr, file: file, line: line)
        XCTAssertFalse(single.stdout.isEmpty && out == nil, file: file, line: line)
        let written = try out.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        for count in ranks {
            if let out { try FileManager.default.removeItem(atPath: out) }
            let run = try mpirun(count, command)
            let what = "\(count) ranks: \(command.joined(separator: " "))"
            XCTAssertEqual(run.status, 0, "\(what): \(run.stderr)", file: file, line: line)
            XCTAssertEqual(run.stdout, single.stdout, what, file: file, line: line)
            if let out { XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), written, what, file: file, line: line) }
        }
    }

    /// eval (bootstrap, medians, calibration, a baseline) and score on 1–3 ranks, each scoring a
    /// share of the pairs (in memory) or its own blocks' units (streamed past --max-memory, 18
    /// blocks): rank 0 prints and writes the single process's output byte for byte.
    func test_eval_and_score_on_ranks_give_the_single_process_output() throws {
        try requireMPI()
        let directory = TestSupport.temporaryDirectory(self)
        let data = dataFile(in: directory)
        let model = try trainedModel(data, "model", in: directory, ["--standardize", "--holdout", "0.2"])
        let streamed = ["--max-memory", "1M", "--cache", "none", "--block-bytes", "1M"]
        let streaming = try TestSupport.run(["score", model, data] + streamed)
        XCTAssertTrue(streaming.stderr.hasPrefix("streaming (the data needs about "), streaming.stderr)
        try assertRanksPrintTheSingleProcessOutput(["eval", model, data, "--format", "json", "--baseline", model, "--quiet"], ranks: 1...3)
        try assertRanksPrintTheSingleProcessOutput(["score", model, data] + streamed, ranks: 1...3)
        try assertRanksPrintTheSingleProcessOutput(["eval", model, data, "--format", "csv", "--out", "\(directory)/report.csv", "--quiet"] + streamed,
                                                   ranks: 3...3)
        try assertRanksPrintTheSingleProcessOutput(["eval", model, "--holdout-of", model, "--wide", "--quiet"], ranks: 2...2)
        try assertRanksPrintTheSingleProcessOutput(["score", model, data, "--out", "\(directory)/scores.jsonl"], ranks: 3...3)
    }

    /// Hashed text, in memory and streamed (where 3,000 pairs make one unit: ranks with no share).
    func test_eval_and_score_of_text_on_ranks_give_the_single_process_output() throws {
        try requireMPI()
        let directory = TestSupport.temporaryDirectory(self)
        let data = dataFile(in: directory, seed: 4, pairs: 3000, dimension: nil, name: "text.jsonl")
        let model = try trainedModel(data, "text", in: directory)
        try assertRanksPrintTheSingleProcessOutput(["eval", model, data, "--format", "json", "--quiet"], ranks: 3...3)
        try assertRanksPrintTheSingleProcessOutput(["score", model, data, "--max-memory", "1M", "--cache", "none"], ranks: 3...3)
        try assertRanksPrintTheSingleProcessOutput(["score", model, data, "--max-memory", "1M", "--cache", "none", "--block-bytes", "100K"], ranks: 3...3)
    }

    /// A pair too large to score in the last rank's share (found only by that rank) stops every
    /// rank: rank 0 prints the single process's located message, once, and nothing is written.
    func test_a_data_error_in_a_ranks_share_stops_eval_and_score_on_every_rank() throws {
        try requireMPI()
        let directory = TestSupport.temporaryDirectory(self)
        let data = dataFile(in: directory)
        let model = try trainedModel(data, "model", in: directory)
        var lines = String(decoding: try Data(contentsOf: URL(fileURLWithPath: data)), as: UTF8.self).split(separator: "\n").map(String.init)
        let huge = Array(repeating: "1e20", count: 64).joined(separator: ", ")
        lines[6500] = lines[6500].replacingOccurrences(of: #""chosen_features": ?\[[^\]]*\]"#, with: "\"chosen_features\": [\(huge)]",
                                                       options: .regularExpression)
        XCTAssertTrue(lines[6500].contains("1e20"), lines[6500])
        let bad = TestSupport.write(lines.joined(separator: "\n") + "\n", "bad.jsonl", in: directory)
        for command in [["eval", model, bad, "--quiet", "--out", "\(directory)/report.txt"], ["score", model, bad, "--out", "\(directory)/scores.jsonl"]] {
            let single = try TestSupport.run(command)
            XCTAssertEqual(single.status, 65, single.stderr)
            let message = single.stderr.split(separator: "\n").filter { $0.hasPrefix("\(bad):6501:") }
            XCTAssertEqual(message.count, 1, single.stderr)
            let run = try mpirun(3, command)
            XCTAssertEqual(run.status, 65, run.stderr)
            XCTAssertEqual(run.stderr.split(separator: "\n").filter { $0.hasPrefix("\(bad):6501:") }, message, "rank 0 alone prints it: \(run.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: command.last!))
        }
    }

    /// Ranks given other pairs or another model (mpirun's `A : B` form) stop before scoring.
    func test_ranks_evaluating_other_pairs_or_another_model_are_refused() throws {
        try requireMPI()
        let directory = TestSupport.temporaryDirectory(self)
        let data = dataFile(in: directory)
        let model = try trainedModel(data, "model", in: directory)
        let otherModel = try trainedModel(data, "other", in: directory, ["--l2", "0.5"])
        let otherData = dataFile(in: directory, seed: 15, name: "other.jsonl")
        for (what, second) in [("pairs", ["eval", model, otherData]), ("model", ["score", otherModel, data])] {
            try assertRankOneRefused(first: [second[0], model, data], second: second, for: what)
        }
    }

    // MARK: AdamW

    /// Linear and MLP AdamW on dense data, each batch's gradient summed over the ranks' shares.
    func test_adamw_on_ranks_is_close_to_the_single_process() throws {
        try requireMPI()
        let directory = TestSupport.temporaryDirectory(self)
        let data = dataFile(in: directory)
        let adamw = flags + ["--optimizer", "adamw", "--epochs", "3", "--batch-size", "128"]
        try assertRanksClose(data, adamw, name: "linear", in: directory)
        try assertRanksClose(data, adamw + ["--model", "mlp", "--hidden", "16"], name: "mlp", in: directory, relativeTolerance: 1e-4)
    }

    /// Sample mode, boosting and early stopping with linear AdamW on 3 ranks.
    func test_adamw_modes_on_ranks_are_close_to_the_single_process() throws {
        try requireMPI()
        let directory = TestSupport.temporaryDirectory(self)
        let data = dataFile(in: directory)
        let adamw = flags + ["--optimizer", "adamw", "--batch-size", "128"]
        for (name, extra) in [("sample", ["--weight-mode", "sample", "--epochs", "3"]), ("boost", ["--boost", "2", "--epochs", "3"]),
                              ("patience", ["--patience", "1", "--epochs", "6", "--learning-rate", "0.05"])] {
            try assertRanksClose(data, adamw + extra, name: name, in: directory, ranks: [3])
        }
    }

    /// The hashed first layer's touched rows are what the ranks exchange (4,000 text pairs, 2^14 rows;
    /// blocks of 200 KB, so that each rank reads some).
    func test_text_mlp_adamw_on_ranks_is_close_to_the_single_process() throws {
        try requireMPI()
        let directory = TestSupport.temporaryDirectory(self)
        let data = dataFile(in: directory, seed: 4, pairs: 4000, dimension: nil, name: "text.jsonl")
        let arguments = ["--cache", "none", "--format", "json", "--holdout", "0.2", "--optimizer", "adamw", "--epochs", "2",
                         "--batch-size", "128", "--hash-bits", "14", "--l2", "0.001", "--block-bytes", "200K"]
        try assertRanksClose(data, arguments, name: "text linear", in: directory, ranks: [1, 3])
        try assertRanksClose(data, arguments + ["--model", "mlp", "--hidden", "8"], name: "text mlp", in: directory, ranks: [1, 3])
    }

    /// Rank 0 writes the checkpoints (SIGINT to mpirun reaches the ranks as SIGTERM); a resume on as
    /// many ranks ends with the uninterrupted run's bytes, on another count it is refused. Small
    /// batches and 150 epochs (about 6 s), so that the signal lands well before the end: it takes
    /// mpirun a second or so to pass it on, and 20 epochs ended before it did.
    func test_adamw_checkpoints_on_ranks_resume_on_as_many_ranks() throws {
        try requireMPI()
        let directory = TestSupport.temporaryDirectory(self)
        let data = dataFile(in: directory)
        let arguments = { (out: String) in
            ["train", data, "--out", out, "--quiet", "--checkpoint-every", "1"] + self.flags + ["--optimizer", "adamw", "--epochs", "150", "--batch-size", "16"]
        }
        let reference = try mpirun(2, arguments("\(directory)/reference"))
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let out = "\(directory)/interrupted"
        let job = try Subprocess(try XCTUnwrap(Self.mpirun), ["--oversubscribe", "--allow-run-as-root", "-n", "2", TestSupport.binary] + arguments(out),
                                 stdout: .discard, stderr: .discard)
        let deadline = Date().addingTimeInterval(120)
        var ended: Int32?
        while ended == nil && Date() < deadline && !FileManager.default.fileExists(atPath: "\(out)/checkpoint.json") {
            usleep(20_000)
            ended = job.ended()
        }
        if ended == nil { kill(job.pid, SIGINT) }
        XCTAssertNotEqual(ended ?? job.wait(), 0, "interrupted before the end")
        let other = try mpirun(3, arguments(out) + ["--resume"])
        XCTAssertEqual(other.status, 64, other.stderr)
        XCTAssertTrue(other.stderr.contains("the checkpoint was made by 2 MPI ranks, this run has 3 MPI ranks"), other.stderr)
        let single = try TestSupport.run(arguments(out) + ["--stream", "--resume"])
        XCTAssertEqual(single.status, 64, single.stderr)
        XCTAssertTrue(single.stderr.contains("this run has 1 process"), single.stderr)
        let resumed = try mpirun(2, arguments(out) + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(out)/model.safetensors")),
                       try Data(contentsOf: URL(fileURLWithPath: "\(directory)/reference/model.safetensors")))
    }

    /// `arguments` on `ranks` ranks against one streamed process: 1 rank byte for byte; more ranks add
    /// each batch's gradient in other groups (a rank's share, then the shares in rank order), so the
    /// parameters differ by rounding, which AdamW's steps carry on: within `relativeTolerance` (the
    /// largest parameter difference over the largest parameter) and the held-out accuracy within
    /// 0.2 points.
    func assertRanksClose(_ data: String, _ arguments: [String], name: String, in directory: String, ranks: [Int] = [1, 2, 3],
                          relativeTolerance: Double = 1e-5, file: StaticString = #filePath, line: UInt = #line) throws {
        let slug = name.replacingOccurrences(of: " ", with: "-")
        let single = try TestSupport.run(["train", data, "--stream", "--out", "\(directory)/\(slug)-single"] + arguments)
        XCTAssertEqual(single.status, 0, single.stderr, file: file, line: line)
        let reference = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(slug)-single/model.safetensors"))
        for count in ranks {
            let out = "\(directory)/\(slug)-ranks\(count)"
            let run = try mpirun(count, ["train", data, "--out", out] + arguments)
            XCTAssertEqual(run.status, 0, run.stderr, file: file, line: line)
            if count == 1 {
                XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(out)/model.safetensors")), reference, name, file: file, line: line)
                XCTAssertEqual(run.stdout, single.stdout, name, file: file, line: line)
                continue
            }
            let difference = try Self.parameters(out).maxRelativeDifference(to: Self.parameters("\(directory)/\(slug)-single"))
            let accuracy = (try Self.accuracy(run.stdout), try Self.accuracy(single.stdout))
            print("\(name), \(count) ranks: max relative parameter difference \(difference), held-out accuracy \(accuracy.0) against \(accuracy.1)")
            XCTAssertLessThanOrEqual(difference, relativeTolerance, "\(name), \(count) ranks", file: file, line: line)
            XCTAssertEqual(accuracy.0, accuracy.1, accuracy: 0.002, "\(name), \(count) ranks", file: file, line: line)
        }
    }

    /// Every parameter of the model saved in `directory`, boosted rounds and MLP tensors one after another.
    static func parameters(_ directory: String) throws -> [Double] {
        func values(_ model: RewardModel) -> [Double] {
            switch model {
            case .linear(let linear): return linear.weight.map(Double.init)
            case .mlp(let mlp): return mlp.parameters.joined().map(Double.init)
            case .boosted(let boosted): return boosted.members.flatMap(values) + boosted.coefficients.map(Double.init)
            }
        }
        return values(try ModelDirectory.load(directory).model)
    }

    static func accuracy(_ report: String) throws -> Double {
        let overall = try XCTUnwrap((try TestSupport.json(report) as? [String: Any])?["overall"] as? [String: Any])
        return try XCTUnwrap(overall["accuracy"] as? Double)
    }
}

extension [Double] {
    /// max |a_i − b_i| / max |b_i|: how far these parameters are from `reference`, on its scale.
    func maxRelativeDifference(to reference: [Double]) -> Double {
        precondition(count == reference.count, "parameters of one shape")
        let largest = reference.map(abs).max() ?? 0
        return zip(self, reference).map { abs($0 - $1) }.max().map { $0 / largest } ?? 0
    }
}
