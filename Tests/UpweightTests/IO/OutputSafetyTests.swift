import Foundation
import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightEvaluation

/// Where results are written: nothing of the user's is ever replaced or deleted, a bad path is
/// refused before any data is read, and a full disk is exit 74 with no temporary left behind.
final class OutputSafetyTests: XCTestCase {
    private let data = TestSupport.fixture("linear-dense/train.jsonl")

    /// Runs the CLI and asserts exit 64 with exactly `message`.
    private func assertRefused(_ arguments: [String], _ message: String, line: UInt = #line) throws {
        let run = try TestSupport.run(arguments)
        XCTAssertEqual(run.status, 64, arguments.joined(separator: " "), line: line)
        XCTAssertEqual(run.stderr, "upweight: \(message)\n", arguments.joined(separator: " "), line: line)
    }

    private func names(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    func test_out_refuses_a_directory_that_is_not_a_model_and_deletes_nothing() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let folder = "\(directory)/data"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in ["train.jsonl", "notes.txt", "b.txt", "a.txt"] { TestSupport.write(name, name, in: folder) }
        // The data path does not exist: the --out error must come first, before any reading.
        try assertRefused(["train", "\(directory)/missing.jsonl", "--out", folder],
                          "--out \(folder): exists and is not an Upweight model directory (it holds a.txt, b.txt, notes.txt, …); choose another path or remove it")
        XCTAssertEqual(names(folder), ["a.txt", "b.txt", "notes.txt", "train.jsonl"])
        XCTAssertEqual(names(directory), ["data"])
    }

    func test_out_replaces_an_empty_directory_and_its_own_model_but_not_one_with_a_user_file() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let out = "\(directory)/model"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        XCTAssertEqual(try TestSupport.run(["train", data, "--out", out]).status, 0)
        XCTAssertEqual(names(out), ["config.json", "model.safetensors", "training_hashes.bin", "training_log.jsonl"])
        XCTAssertEqual(try TestSupport.run(["train", data, "--out", out + "/"]).status, 0)
        TestSupport.write("mine", "notes.txt", in: out)
        try assertRefused(["train", data, "--out", out],
                          "--out \(out): exists and is not an Upweight model directory (it holds notes.txt); choose another path or remove it")
        XCTAssertEqual(names(out), ["config.json", "model.safetensors", "notes.txt", "training_hashes.bin", "training_log.jsonl"])
        XCTAssertEqual(names(directory), ["model"])
    }

    func test_out_refuses_a_config_json_that_is_not_upweights() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let out = "\(directory)/other"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        TestSupport.write(#"{"model_type": "bert"}"#, "config.json", in: out)
        try assertRefused(["train", data, "--out", out],
                          "--out \(out): exists and is not an Upweight model directory (it holds config.json); choose another path or remove it")
        XCTAssertEqual(try String(contentsOfFile: "\(out)/config.json", encoding: .utf8), #"{"model_type": "bert"}"#)
    }

    func test_out_refuses_a_symbolic_link_and_a_file_and_leaves_the_target_alone() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let target = "\(directory)/target"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        TestSupport.write("keep", "keep.txt", in: target)
        let link = "\(directory)/link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        try assertRefused(["train", data, "--out", link],
                          "--out \(link): is a symbolic link; choose another path or remove the link (Upweight does not write through links)")
        XCTAssertEqual(names(target), ["keep.txt"])
        XCTAssertEqual(names(directory), ["link", "target"])
        let file = TestSupport.write("x", "file", in: directory)
        try assertRefused(["train", data, "--out", file],
                          "--out \(file): exists and is not a directory; choose another path or remove it")
    }

    func test_saving_refuses_a_directory_that_changed_after_the_check() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let out = "\(directory)/model"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        TestSupport.write("mine", "notes.txt", in: out)
        XCTAssertThrowsError(try Files.replaceDirectory(out, with: [("config.json", Array("{}".utf8))])) { error in
            XCTAssertEqual((error as? UsageError)?.message,
                          "--out \(out): exists and is not an Upweight model directory (it holds notes.txt); choose another path or remove it")
        }
        XCTAssertEqual(names(directory), ["model"])
        XCTAssertEqual(names(out), ["notes.txt"])
    }

    func test_abandoned_staging_is_removed_only_when_it_holds_nothing_but_our_files() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let deadPID = "999999999"  // above any pid_max: no such process
        let ours = "\(directory)/model.tmp-\(deadPID)"
        try FileManager.default.createDirectory(atPath: ours, withIntermediateDirectories: true)
        TestSupport.write("{}", "config.json", in: ours)
        TestSupport.write("", "model.safetensors", in: ours)
        let foreign = "\(directory)/model.tmp-999999998"
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: true)
        TestSupport.write("mine", "thesis.tex", in: foreign)
        let target = "\(directory)/elsewhere"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        TestSupport.write("{}", "config.json", in: target)
        try FileManager.default.createSymbolicLink(atPath: "\(directory)/model.tmp-999999997", withDestinationPath: target)
        let staleReport = TestSupport.write("half", "report.html.tmp-\(deadPID)", in: directory)
        try Files.replaceDirectory("\(directory)/model", with: [("config.json", Array(#"{"format": "upweight-reward-model"}"#.utf8))])
        try Files.writeAtomically("whole", to: "\(directory)/report.html")
        XCTAssertEqual(names(directory), ["elsewhere", "model", "model.tmp-999999997", "model.tmp-999999998", "report.html"])
        XCTAssertEqual(names(foreign), ["thesis.tex"])
        XCTAssertEqual(names(target), ["config.json"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: staleReport))
    }

    func test_bad_output_paths_are_refused_before_any_data_is_read() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let file = TestSupport.write("x", "file", in: directory)
        let config = TestSupport.write("{}", "config.json", in: directory)
        let missing = "\(directory)/missing.jsonl"
        let model = "\(directory)/model"
        XCTAssertEqual(try TestSupport.run(["train", data, "--out", model]).status, 0)
        let cases: [(arguments: [String], message: String)] = [
            (["train", missing, "--log", directory], "--log \(directory): is a directory; expected the path of a file to write"),
            (["train", missing, "--report", "\(file)/report.html"], "--report \(file)/report.html: \(file) is not a directory"),
            (["train", missing, "--out", "\(file)/deeper/model"], "--out \(file)/deeper/model: \(file) is not a directory"),
            (["eval", model, missing, "--output", directory], "--output \(directory): is a directory; expected the path of a file to write"),
            (["score", model, missing, "--output", "\(file)/scores.jsonl"], "--output \(file)/scores.jsonl: \(file) is not a directory"),
            (["tune", missing, "--grid", missing, "--out", directory], "--out \(directory): is a directory; expected the path of a file to write"),
            (["synth", "--out", directory], "--out \(directory): is a directory; expected the path of a file to write"),
            (["train", missing, "--out", "/"], "--out /: names no new file or directory; give a path such as /model"),
            (["synth", "--out", ""], "--out: expected a path, got an empty string"),
            (["train", data, "--config", config, "--log", config], "--log \(config): is the input \(config); choose another path, or it would be overwritten"),
            // An output may not overwrite an input, nor land inside a model directory.
            (["score", model, data, "--output", data], "--output \(data): is the input \(data); choose another path, or it would be overwritten"),
            (["train", file, "--log", "\(directory)/../\((directory as NSString).lastPathComponent)/file"],
             "--log \(directory)/../\((directory as NSString).lastPathComponent)/file: is the input \(file); choose another path, or it would be overwritten"),
            (["eval", model, data, "--output", "\(model)/config.json"],
             "--output \(model)/config.json: is inside the model directory \(model); choose a path outside it (a model directory holds only Upweight's files)"),
            (["train", data, "--out", "\(directory)/new", "--report", "\(directory)/./new/report.html"],
             "--report \(directory)/./new/report.html: is inside the model directory \(directory)/new; choose a path outside it (a model directory holds only Upweight's files)"),
        ]
        for (arguments, message) in cases { try assertRefused(arguments, message) }
        // A directory that does not exist yet is created.
        XCTAssertEqual(try TestSupport.run(["eval", model, data, "--output", "\(directory)/new/deeper/report.txt"]).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(directory)/new/deeper/report.txt"))
    }

    func test_a_full_device_is_exit_74_naming_the_file() throws {
        let run = try TestSupport.run(["synth", "--n", "100", "--out", "/dev/full"])
        XCTAssertEqual(run.status, 74)
        XCTAssertEqual(run.stderr, "upweight: /dev/full: cannot write: No space left on device\n")
        // /dev/null is written into, not replaced.
        XCTAssertEqual(try TestSupport.run(["synth", "--n", "100", "--out", "/dev/null"]).status, 0)
    }

    /// A 64 KiB tmpfs (`options` added), unmounted when the test ends; skips unless root.
    private func tinyDisk(_ options: String = "") throws -> String {
        guard getuid() == 0 else { throw XCTSkip("mounting a tmpfs needs root") }
        let disk = TestSupport.temporaryDirectory(self) + "/disk"
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        let mount = try Subprocess("/bin/mount", ["-t", "tmpfs", "-o", "size=64k" + options, "tmpfs", disk]).finish()
        guard mount.status == 0 else { throw XCTSkip("cannot mount a tmpfs here: \(mount.stderr)") }
        addTeardownBlock { _ = try? Subprocess("/bin/umount", [disk]).finish() }
        return disk
    }

    func test_a_read_only_disk_is_refused_before_reading() throws {
        let disk = try tinyDisk(",ro")
        try assertRefused(["train", "\(disk)/missing.jsonl", "--out", "\(disk)/runs/model"],
                          "--out \(disk)/runs/model: cannot write in \(disk): Read-only file system")
        try assertRefused(["synth", "--out", "\(disk)/pairs.jsonl"], "--out \(disk)/pairs.jsonl: cannot write in \(disk): Read-only file system")
    }

    func test_a_full_disk_is_exit_74_and_leaves_no_temporary() throws {
        let disk = try tinyDisk()
        var run = try TestSupport.run(["synth", "--n", "2000", "--out", "\(disk)/pairs.jsonl"])
        XCTAssertEqual(run.status, 74)
        XCTAssertEqual(run.stderr, "upweight: \(disk)/pairs.jsonl: cannot write: No space left on device\n")
        XCTAssertEqual(names(disk), [])
        // A text model of 2^18 hashed features (1 MiB of weights) does not fit in 64 KiB.
        run = try TestSupport.run(["train", TestSupport.data("llmbar.jsonl"), "--out", "\(disk)/model"])
        XCTAssertEqual(run.status, 74)
        XCTAssertTrue(run.stderr.hasSuffix("upweight: \(disk)/model/model.safetensors: cannot write: No space left on device\n"), run.stderr)
        XCTAssertEqual(names(disk), [])
    }
}
