import Foundation
import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightData
@testable import UpweightEvaluation

/// Smaller input surfaces from issue 10: the split field's type, sections files, field flags that
/// collide, UTF-16 files, and objects with very many keys.
final class InputSurfaceTests: XCTestCase {
    /// A split that is not a string was ignored (the pair then belonged to no split); it is a wrong
    /// type on every path: the explicit fast path, the flat-object path, jansson's, and dense lines.
    func test_a_split_that_is_not_a_string_is_a_located_error() throws {
        let cases: [(line: String, got: String, location: String)] = [
            (#"{"prompt":"p","chosen":"a","rejected":"b","split":3}"#, "a number", "1:51"),
            (#"{"chosen":"a","rejected":"b","split":true}"#, "a boolean", "1:38"),
            (#"{"chosen":[{"role":"user","content":"a"}],"rejected":[{"role":"user","content":"b"}],"split":[1]}"#, "an array", "1:94"),
            (#"{"chosen_features":[1,2],"rejected_features":[3,4],"split":{"a":1}}"#, "an object", "1:60"),
        ]
        for (line, got, location) in cases {
            XCTAssertThrowsError(try PreferenceReader.read(bytes: Array((line + "\n").utf8), name: "f.jsonl"), line) { error in
                XCTAssertEqual((error as? DataError)?.description, "f.jsonl:\(location): expected a string, got \(got) (field split)", line)
            }
        }
        let valid = #"{"prompt":"p","chosen":"a","rejected":"b","split":null}"# + "\n"
        XCTAssertEqual(try PreferenceReader.read(bytes: Array(valid.utf8), name: "f.jsonl").0.count, 1, "null is no split")
    }

    func test_the_cli_exits_65_on_a_wrong_split_type() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = TestSupport.write(#"{"prompt":"p","chosen":"a","rejected":"b","split":3}"# + "\n", "data.jsonl", in: directory)
        let run = try TestSupport.run(["stats", data])
        XCTAssertEqual(run.status, 65)
        XCTAssertEqual(run.stderr, "\(data):1:51: expected a string, got a number (field split)\n")
    }

    /// A misspelt key in a section was ignored (a "wieght" left the weight at 1).
    func test_an_unknown_key_in_a_sections_file_is_an_error_with_a_suggestion() throws {
        guard case .object(let json) = try JSONParser.parse(#"{"chat": {"categories": ["a"], "wieght": 2}}"#) else { return XCTFail() }
        XCTAssertThrowsError(try Sections(json: json, file: "sections.json")) { error in
            XCTAssertEqual((error as? UsageError)?.message, "sections.json: section \"chat\": unknown key \"wieght\" (did you mean \"weight\"?)")
        }
        let directory = TestSupport.temporaryDirectory(self)
        let data = TestSupport.fixture("linear-dense/train.jsonl")
        XCTAssertEqual(try TestSupport.run(["train", data, "--out", "\(directory)/model"]).status, 0)
        let sections = TestSupport.write(#"{"chat": {"categories": ["general"], "weight": 1, "notes": "x"}}"#, "sections.json", in: directory)
        let run = try TestSupport.run(["eval", "\(directory)/model", data, "--sections", sections, "--quiet"])  // the error alone
        XCTAssertEqual(run.status, 64)
        XCTAssertEqual(run.stderr, "upweight: \(sections): section \"chat\": unknown key \"notes\"\n")
    }

    func test_two_roles_read_from_one_field_are_refused() throws {
        let data = TestSupport.fixture("linear-dense/train.jsonl")
        let cases: [([String], String)] = [
            (["--weight-field", "chosen"], "--weight-field and --chosen-field both name the field \"chosen\"; give one of them another name"),
            (["--category-field", "split"], "--category-field and --split-field both name the field \"split\"; give one of them another name"),
            (["--margin-field", "w", "--id-field", "w"], "--margin-field and --id-field both name the field \"w\"; give one of them another name"),
            (["--id-field", "chosen_features"], "--id-field names \"chosen_features\", the field of the dense features; give it another name"),
        ]
        for (flags, message) in cases {
            let run = try TestSupport.run(["stats", data] + flags)
            XCTAssertEqual(run.status, 64, flags.joined(separator: " "))
            XCTAssertEqual(run.stderr, "upweight: \(message)\n", flags.joined(separator: " "))
        }
        // Moving the other field out of the way is the way out.
        let moved = try TestSupport.run(["stats", data, "--category-field", "split", "--split-field", "none"])
        XCTAssertEqual(moved.status, 0, moved.stderr)
        XCTAssertTrue(moved.stdout.contains("train"), moved.stdout)
    }

    /// UTF-16 read as UTF-8 said "invalid UTF-8" or complained of a NUL; now it says what to do.
    func test_a_utf16_file_gets_a_hint_to_convert_it() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let line = #"{"prompt":"p","chosen":"a","rejected":"b"}"# + "\n"
        let littleEndian = line.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let bigEndian = line.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        let files = [("le-bom.jsonl", [0xFF, 0xFE] + littleEndian), ("be-bom.jsonl", [0xFE, 0xFF] + bigEndian),
                     ("le.jsonl", littleEndian), ("be.jsonl", bigEndian)]
        for (name, bytes) in files {
            let path = "\(directory)/\(name)"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            for policy in ["fail", "skip"] {
                let run = try TestSupport.run(["stats", path, "--on-error", policy])
                XCTAssertEqual(run.status, 65, name)
                XCTAssertEqual(run.stderr, "\(path):1:1: looks like UTF-16; convert to UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)\n", name)
            }
        }
        XCTAssertFalse(UTF16Detection.looksLikeUTF16(UnsafeRawBufferPointer(start: nil, count: 0)))
        for plain in ["{}", "{\"a\":\"\u{1}\"}", "x"] {
            XCTAssertFalse(Array(plain.utf8).withUnsafeBytes(UTF16Detection.looksLikeUTF16), plain)
        }
    }

    /// Lookups in a JSON object were linear: a 1.1 MB line of 100k keys took over a minute (the
    /// fast scanner's duplicate check was quadratic too). Both are now hashed: this takes well under a second.
    func test_an_object_of_100k_keys_parses_and_reads_in_linear_time() throws {
        let keys = (0..<100_000).map { "key\($0)" }
        let members = keys.map { "\"\($0)\":0" }.joined(separator: ",")
        // Bounds far above linear time (tenths of a second) and far below quadratic (minutes), so a
        // loaded machine does not fail them.
        var started = ContinuousClock.now
        guard case .object(let object) = try JSONParser.parse("{\(members)}") else { return XCTFail("expected an object") }
        XCTAssertEqual(object.count, 100_000)
        XCTAssertTrue(keys.allSatisfy { object[$0] == .integer(0) })
        XCTAssertEqual(Array(object.keys.prefix(3)), ["key0", "key1", "key2"], "file order kept")
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2), "parse and look up")
        started = ContinuousClock.now
        let line = "{\(members),\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"b\"}\n"
        XCTAssertEqual(try PreferenceReader.read(bytes: Array(line.utf8), name: "wide.jsonl").0.count, 1)
        let duplicate = "{\(members),\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"b\",\"key99999\":1}\n"
        XCTAssertThrowsError(try PreferenceReader.read(bytes: Array(duplicate.utf8), name: "wide.jsonl")) { error in
            XCTAssertTrue((error as? DataError)?.description.hasPrefix("wide.jsonl:1:") ?? false, "\(error)")
            XCTAssertTrue((error as? DataError)?.description.contains("duplicate object key") ?? false, "\(error)")
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(8), "read, both paths, twice")
    }

    /// The index follows insertions, replacements and removals, and order is what makes objects equal.
    func test_an_indexed_object_keeps_order_through_edits() {
        var object = JSONObject((0..<40).map { ("k\($0)", JSONValue($0)) })
        object["k5"] = nil
        object["k6"] = "six"
        object["new"] = true
        XCTAssertNil(object["k5"])
        XCTAssertEqual(object["k6"], "six")
        XCTAssertEqual(object["k39"], 39)
        XCTAssertEqual(object.keys.count, 40)
        XCTAssertEqual(Array(object.keys.suffix(2)), ["k39", "new"])
        XCTAssertEqual(object, JSONObject(Array(object.members)))
        XCTAssertNotEqual(JSONObject([("a", 1), ("b", 2)]), JSONObject([("b", 2), ("a", 1)]))
        for key in object.keys { object[key] = nil }
        XCTAssertEqual(object, JSONObject())
    }
}
