import Foundation
import XCTest
@testable import UpweightData

/// The cache of streamed data (`--cache DIR`): a later run on the same files reuses the entry
/// without reading them and gives the same bytes; a changed file or a damaged entry is rebuilt with
/// a note; a directory holding someone else's files is refused.
final class CacheTests: XCTestCase {
    /// A dense file of `pairs` pairs in `directory`.
    func dataFile(pairs: Int = 3000, in directory: String) -> String {
        var specification = SyntheticSpecification()
        specification.pairs = pairs
        specification.seed = 11
        return TestSupport.write(specification.generate().jsonl, "data.jsonl", in: directory)
    }

    func train(_ data: String, cache: String, out: String, environment: [String: String] = [:]) throws -> TestSupport.Run {
        let run = try TestSupport.run(["train", data, "--stream", "--holdout", "0.2", "--standardize", "--threads", "2",
                                       "--cache", cache, "--out", out, "--format", "json"], environment: environment)
        XCTAssertEqual(run.status, 0, run.stderr)
        return run
    }

    func tool(_ path: String, _ arguments: [String]) throws {
        let finished = try Subprocess(path, arguments).finish()
        XCTAssertEqual(finished.status, 0, "\(path) \(arguments): \(finished.stderr)")
    }

    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    /// The entry's path, from the note that built it.
    func entry(in stderr: String) throws -> String {
        let line = try XCTUnwrap(stderr.split(separator: "\n").first { $0.hasPrefix("note: cache: built ") })
        return String(line.dropFirst("note: cache: built ".count).prefix { $0 != " " })
    }

    func test_a_second_run_reuses_the_entry_without_reading_the_file_and_trains_the_same_model() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = dataFile(in: directory)
        let cache = "\(directory)/cache"
        let built = try train(data, cache: cache, out: "\(directory)/built")
        let entry = try entry(in: built.stderr)
        XCTAssertTrue(entry.hasPrefix("\(cache)/pairs-"), entry)
        XCTAssertTrue(built.stderr.contains("note: cache: built \(entry) (3000 pairs, "), built.stderr)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: entry)), ["header.json", "rows.f32", "metadata.bin"])
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: cache)), ["CACHEDIR.TAG", URL(fileURLWithPath: entry).lastPathComponent])

        // Edit the file in place (same size, same inode) and put its modification time back: the key
        // cannot tell, so a run that reused the entry still trains on the original numbers.
        try tool("/bin/cp", ["-p", data, "\(directory)/reference"])  // -p: keeps the modification time, to the nanosecond
        var text = try bytes(data)
        for index in text.indices where text[index] == UInt8(ascii: "1") { text[index] = UInt8(ascii: "2") }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: data))
        try handle.write(contentsOf: text)
        try handle.close()
        try tool("/usr/bin/touch", ["-r", "\(directory)/reference", data])

        let reused = try train(data, cache: cache, out: "\(directory)/reused")
        XCTAssertTrue(reused.stderr.contains("note: cache: reusing \(entry) (built "), reused.stderr)
        XCTAssertFalse(reused.stderr.contains("note: cache: built"), reused.stderr)
        XCTAssertEqual(reused.stdout, built.stdout)
        for file in ["model.safetensors", "config.json", "held_out.json"] {
            XCTAssertEqual(try bytes("\(directory)/reused/\(file)"), try bytes("\(directory)/built/\(file)"), file)
        }
        // The edited file, read afresh (no cache), gives another model: the reuse did not read it.
        _ = try train(data, cache: "none", out: "\(directory)/fresh")
        XCTAssertNotEqual(try bytes("\(directory)/fresh/model.safetensors"), try bytes("\(directory)/built/model.safetensors"))
    }

    func test_eval_past_max_memory_reuses_the_entry_with_the_same_report() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = dataFile(pairs: 6000, in: directory)
        XCTAssertEqual(try TestSupport.run(["train", data, "--out", "\(directory)/model", "--quiet"]).status, 0)
        let command = ["eval", "\(directory)/model", data, "--format", "json", "--max-memory", "4M", "--cache", "\(directory)/cache"]
        let built = try TestSupport.run(command)
        let reused = try TestSupport.run(command)
        XCTAssertEqual(built.status, 0, built.stderr)
        XCTAssertEqual(reused.status, 0, reused.stderr)
        XCTAssertTrue(built.stderr.contains("note: cache: built \(directory)/cache/pairs-"), built.stderr)
        XCTAssertTrue(reused.stderr.contains("note: cache: reusing \(directory)/cache/pairs-"), reused.stderr)
        XCTAssertEqual(reused.stdout, built.stdout)
        let inMemory = try TestSupport.run(["eval", "\(directory)/model", data, "--format", "json", "--quiet"])
        XCTAssertEqual(reused.stdout, inMemory.stdout)
    }

    func test_a_touched_file_makes_its_entry_stale_and_it_is_rebuilt_in_place() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = dataFile(in: directory)
        let cache = "\(directory)/cache"
        let built = try train(data, cache: cache, out: "\(directory)/built")
        let entry = try entry(in: built.stderr)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: data)
        let stale = try train(data, cache: cache, out: "\(directory)/stale")
        XCTAssertTrue(stale.stderr.contains("note: cache: \(entry) is stale (\(resolved(data)) changed), rebuilding\n"), stale.stderr)
        XCTAssertTrue(stale.stderr.contains("note: cache: built \(entry) (3000 pairs, "), stale.stderr)
        XCTAssertEqual(try bytes("\(directory)/stale/model.safetensors"), try bytes("\(directory)/built/model.safetensors"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache).count, 2, "the tag and one entry")
    }

    func test_a_damaged_entry_is_never_trusted_it_is_rebuilt_with_a_note() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = dataFile(in: directory)
        let cache = "\(directory)/cache"
        let reference = try train(data, cache: "none", out: "\(directory)/reference")
        XCTAssertTrue(reference.stderr.contains("feature rows go to a scratch file in "), reference.stderr)
        let damages: [(String, (String) throws -> Void)] = [
            ("corrupt (rows.f32 is not the 768000 bytes the header says)", { entry in
                try FileHandle(forWritingTo: URL(fileURLWithPath: "\(entry)/rows.f32")).truncate(atOffset: 1000)
            }),
            ("corrupt (metadata.bin does not match its checksum)", { entry in
                var metadata = try self.bytes("\(entry)/metadata.bin")
                metadata[metadata.count / 2] ^= 0x01
                try metadata.write(to: URL(fileURLWithPath: "\(entry)/metadata.bin"))
            }),
            ("corrupt (rows.f32 does not match its checksum)", { entry in
                var rows = try self.bytes("\(entry)/rows.f32")
                rows[rows.count - 1] ^= 0x40
                try rows.write(to: URL(fileURLWithPath: "\(entry)/rows.f32"))
            }),
            ("corrupt (header.json is not a JSON object)", { entry in
                try Data("{\"format\": ".utf8).write(to: URL(fileURLWithPath: "\(entry)/header.json"))
            }),
            ("stale (format version 99, this build writes 3)", { entry in
                let header = try String(contentsOfFile: "\(entry)/header.json", encoding: .utf8)
                try header.replacingOccurrences(of: "\"version\": 3,", with: "\"version\": 99,").write(toFile: "\(entry)/header.json", atomically: true, encoding: .utf8)
            }),
            ("corrupt (header.json lacks a count, size, date or summary)", { entry in
                let header = try String(contentsOfFile: "\(entry)/header.json", encoding: .utf8)
                try header.replacingOccurrences(of: "\"pairs\": 3000,", with: "\"pairs\": 9223372036854775807,").write(toFile: "\(entry)/header.json", atomically: true, encoding: .utf8)
            }),
            ("corrupt (a symbolic link, not followed)", { entry in
                try FileManager.default.moveItem(atPath: entry, toPath: "\(directory)/moved")
                try FileManager.default.createSymbolicLink(atPath: entry, withDestinationPath: "\(directory)/moved")
            }),
        ]
        for (reason, damage) in damages {
            let entry = try entry(in: try train(data, cache: cache, out: "\(directory)/model").stderr)
            try damage(entry)
            let rebuilt = try train(data, cache: cache, out: "\(directory)/model")
            XCTAssertTrue(rebuilt.stderr.contains("note: cache: \(entry) is \(reason), rebuilding\nnote: cache: built \(entry) (3000 pairs, "), rebuilt.stderr)
            XCTAssertEqual(try bytes("\(directory)/model/model.safetensors"), try bytes("\(directory)/reference/model.safetensors"), reason)
            let reused = try train(data, cache: cache, out: "\(directory)/model")
            XCTAssertTrue(reused.stderr.contains("note: cache: reusing \(entry)"), reused.stderr)
            try FileManager.default.removeItem(atPath: entry)  // the next damage starts from a fresh build
        }
        // The link was removed, never followed: what it pointed to is untouched.
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: "\(directory)/moved")), ["header.json", "rows.f32", "metadata.bin"])
    }

    func test_a_cache_directory_holding_other_files_is_refused_and_left_alone() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = dataFile(in: directory)
        let cache = "\(directory)/mine"
        try FileManager.default.createDirectory(atPath: "\(cache)/pairs-0123456789abcdef", withIntermediateDirectories: true)
        TestSupport.write("keep", "notes.txt", in: "\(cache)/pairs-0123456789abcdef")
        TestSupport.write("keep", "todo.txt", in: cache)
        let run = try TestSupport.run(["train", data, "--stream", "--cache", cache, "--quiet"])
        XCTAssertEqual(run.status, 64)
        XCTAssertEqual(run.stderr, "upweight: --cache \(cache): holds files that are not Upweight's cache (pairs-0123456789abcdef, todo.txt); choose another directory or remove them\n")
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: cache)), ["pairs-0123456789abcdef", "todo.txt"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(cache)/pairs-0123456789abcdef"), ["notes.txt"])
    }

    func test_the_default_location_is_under_xdg_cache_home() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = dataFile(in: directory)
        let home = "\(directory)/xdg"
        let run = try TestSupport.run(["train", data, "--stream"], environment: ["XDG_CACHE_HOME": home])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("streaming (--stream): feature rows go to the cache in \(home)/upweight (--cache none: a scratch file instead)\n"), run.stderr)
        XCTAssertTrue(run.stderr.contains("note: cache: built \(home)/upweight/pairs-"), run.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(home)/upweight").count, 2)
    }
}
