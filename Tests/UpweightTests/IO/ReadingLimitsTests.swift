import Foundation
import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightData
@testable import UpweightEvaluation

/// What is read is bounded whatever the file claims: gzip by its magic bytes and by the bytes it
/// really decompresses to, endless devices and settings files refused, a file that changes while
/// it is read an error instead of a SIGBUS.
final class ReadingLimitsTests: XCTestCase {
    private let pair = #"{"prompt":"p","chosen":"a b c","rejected":"d e"}"#

    private func gzip(_ text: String) throws -> [UInt8] { Array(try TestSupport.gzip(text, self)) }

    private func write(_ bytes: [UInt8], _ name: String, in directory: String) throws -> String {
        let path = "\(directory)/\(name)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    func test_gzip_is_recognised_by_its_magic_bytes_not_its_name() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let text = String(repeating: pair + "\n", count: 500)
        let plain = TestSupport.write(text, "plain.jsonl", in: directory)
        let disguised = try write(try gzip(text), "disguised.jsonl", in: directory)
        XCTAssertEqual(fingerprint(of: try TestSupport.read(paths: [disguised])), fingerprint(of: try TestSupport.read(paths: [plain])))
        // The memory estimate reads the trailer of a gzip file whatever its name.
        XCTAssertEqual(MemoryBudget.uncompressedSize(disguised), text.utf8.count)
    }

    func test_concatenated_members_are_read_and_trailing_data_is_an_error() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let first = try gzip(String(repeating: pair + "\n", count: 3))
        let second = try gzip(String(repeating: pair + "\n", count: 4))
        let both = try write(first + second, "both.jsonl.gz", in: directory)
        XCTAssertEqual(try TestSupport.read(paths: [both]).count, 7)
        let trailing = try write(first + Array("garbage".utf8), "trailing.jsonl.gz", in: directory)
        XCTAssertEqual(message { _ = try TestSupport.read(paths: [trailing]) },
                       "\(trailing): unexpected data after the end of the gzip stream (at byte \(first.count)); the file is damaged or is not one gzip file")
        let zeros = try write(first + [0, 0, 0, 0], "padded.jsonl.gz", in: directory)
        XCTAssertEqual(message { _ = try TestSupport.read(paths: [zeros]) },
                       "\(zeros): unexpected data after the end of the gzip stream (at byte \(first.count)); the file is damaged or is not one gzip file")
    }

    func test_decompressed_bytes_are_counted_whatever_the_trailer_says() throws {
        let directory = TestSupport.temporaryDirectory(self)
        var bomb = try gzip(String(repeating: pair + "\n", count: 100_000))  // 4.9 MB of text
        bomb.replaceSubrange(bomb.count - 4..<bomb.count, with: [10, 0, 0, 0])  // ISIZE claims 10 bytes
        let path = try write(bomb, "bomb.jsonl", in: directory)
        let chunks = try LineChunks(path: path, chunkBytes: 1 << 16, byteLimit: 1 << 20)
        XCTAssertEqual(message { while try chunks.next() != nil {} },
                       "\(path): more data than --max-memory allows (over 0.00 GiB decompressed); use less data or raise --max-memory")
        // Through the reader the budget is --max-memory: 130 MiB passes the estimate (128 MiB + 4 × the
        // compressed size); the zlib check of the false ISIZE shows the data was read to its end.
        var options = ReadOptions()
        options.maxMemory = 130 << 20
        XCTAssertEqual(message { _ = try PreferenceReader.read(paths: [path], options: options) },
                       "\(path): corrupt gzip data: incorrect length check")
    }

    /// Runs the CLI with `arguments(FIFO)` while `cat /dev/zero` writes into the FIFO without end.
    private func runWithEndlessPipe(named name: String, _ arguments: (String) -> [String]) throws -> (run: TestSupport.Run, fifo: String) {
        let fifo = TestSupport.temporaryDirectory(self) + "/" + name
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let writer = try Subprocess("/bin/sh", ["-c", "exec cat /dev/zero > '\(fifo)' 2>/dev/null"], stdout: .discard, stderr: .discard)
        defer {
            kill(writer.pid, SIGTERM)
            _ = writer.wait()
        }
        return (try TestSupport.run(arguments(fifo)), fifo)
    }

    func test_an_endless_pipe_stops_at_the_budget() throws {
        let (run, fifo) = try runWithEndlessPipe(named: "endless") { ["stats", $0, "--max-memory", "140M"] }
        XCTAssertEqual(run.status, 64)
        XCTAssertEqual(run.stderr, "upweight: \(fifo): more data than --max-memory allows (over 0.14 GiB); use less data or raise --max-memory\n")
    }

    func test_endless_devices_are_refused_as_data_and_as_settings() throws {
        let model = TestSupport.temporaryDirectory(self) + "/model"
        let data = TestSupport.fixture("linear-dense/train.jsonl")
        XCTAssertEqual(try TestSupport.run(["train", data, "--out", model]).status, 0)
        var run = try TestSupport.run(["stats", "/dev/zero"])
        XCTAssertEqual(run.status, 65)
        XCTAssertEqual(run.stderr, "/dev/zero: is a device, expected a JSONL file\n")
        for arguments in [["train", data, "--config", "/dev/zero"], ["eval", model, data, "--sections", "/dev/zero"],
                          ["tune", data, "--grid", "/dev/zero", "--out", model + ".json"], ["eval", model, data, "--baseline", "/dev/zero"]] {
            run = try TestSupport.run(arguments + ["--quiet"])  // the error alone, without the data file's notes
            XCTAssertEqual(run.status, 64, arguments.joined(separator: " "))
            XCTAssertTrue(run.stderr.hasPrefix("upweight: /dev/zero: "), run.stderr)
        }
        XCTAssertEqual(message { _ = try Files.readJSONObject("/dev/zero") }, "/dev/zero: is a device, expected a file")
        XCTAssertEqual(message { _ = try Files.read(model) }, "\(model): is a directory, expected a file")
    }

    func test_a_file_truncated_or_grown_while_read_is_an_error_not_a_signal() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let text = String(repeating: pair + "\n", count: 2000)
        for change in ["truncate", "append"] {
            let path = TestSupport.write(text, "\(change).jsonl", in: directory)
            let chunks = try LineChunks(path: path, chunkBytes: 4096)
            XCTAssertNotNil(try chunks.next())
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            if change == "truncate" { try handle.truncate(atOffset: 5000) } else { try handle.seekToEnd(); try handle.write(contentsOf: Data(text.utf8)) }
            try handle.close()
            XCTAssertEqual(message { while try chunks.next() != nil {} },
                           "\(path): changed while being read (truncated, rewritten or appended to); read it again once it is complete", change)
        }
    }

    func test_settings_files_are_capped_even_as_an_endless_pipe() throws {
        let (run, fifo) = try runWithEndlessPipe(named: "config.json") { ["train", TestSupport.fixture("linear-dense/train.jsonl"), "--config", $0] }
        XCTAssertEqual(run.status, 64)
        XCTAssertEqual(run.stderr, "upweight: \(fifo): more than 16 MiB, too large for a JSON file of settings (is it the right file?)\n")
        let directory = TestSupport.temporaryDirectory(self)
        let large = TestSupport.write("{\"l2\": 1" + String(repeating: " ", count: 17 << 20) + "}", "large.json", in: directory)
        XCTAssertEqual(message { _ = try Files.readJSONObject(large) },
                       "\(large): more than 16 MiB, too large for a JSON file of settings (is it the right file?)")
        XCTAssertEqual(try Files.read(large).count, (17 << 20) + 9)  // data files have no such cap
    }
    func test_data_larger_than_max_memory_is_refused_before_reading() throws {
        let path = TestSupport.data("llmbar.jsonl")
        var options = ReadOptions()
        options.maxMemory = 20 << 20
        XCTAssertThrowsError(try PreferenceReader.read(paths: [path], options: options)) { error in
            XCTAssertEqual((error as? UsageError)?.message,
                           "reading \(path) needs about 0.04 GiB of memory, more than --max-memory (0.02 GiB); use less data or raise --max-memory")
        }
        XCTAssertEqual(MemoryBudget.parse("8G"), 8 << 30)
        XCTAssertEqual(MemoryBudget.parse("512m"), 512 << 20)
        XCTAssertNil(MemoryBudget.parse("lots"))
        // The gzip trailer gives the uncompressed size.
        XCTAssertEqual(MemoryBudget.uncompressedSize(TestSupport.data("hh-rlhf-harmless-base-test.jsonl.gz")), 3_280_164)
    }

}
