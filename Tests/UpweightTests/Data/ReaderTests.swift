import Foundation
import XCTest
@testable import UpweightIO
@testable import UpweightSupport
@testable import UpweightData

final class ReaderTests: XCTestCase {
    let pair = #"{"prompt":"p","chosen":"a","rejected":"b"}"#

    /// Every bad input gets its exact message, naming file, line, column and field ("@" stands for the file's path).
    func test_bad_inputs_give_exact_messages() throws {
        let cases: [(name: String, content: String, expected: String)] = [
            ("malformed", pair + "\n" + #"{"prompt": "p", "chosen": "a",, "rejected":"b"}"#,
             "@:2:31: invalid JSON: string or '}' expected near ','"),
            ("truncated final line", pair + "\n" + #"{"prompt":"p","chosen":"a","rej"#,
             "@:2:31: invalid JSON: premature end of input near '\"rej'"),
            ("not an object", pair + "\n[1,2,3]\n", "@:2:1: expected a JSON object, got an array"),
            ("string weight", #"{"prompt":"p","chosen":"a","rejected":"b","weight":"2"}"#,
             "@:1:52: expected a number, got a string (field weight)"),
            ("numeric category", #"{"prompt":"p","chosen":"a","rejected":"b","category":7}"#,
             "@:1:54: expected a string, got a number (field category)"),
            ("object for a string", #"{"prompt":"p","chosen":{"x":1},"rejected":"b"}"#,
             "@:1:24: expected a string, got an object (field chosen)"),
            ("missing rejected", #"{"prompt":"p","chosen":"a"}"#, "@:1:1: missing required field (field rejected)"),
            ("missing chosen", pair + "\n" + #"{"prompt":"p","rejected":"b"}"#, "@:2:1: missing required field (field chosen)"),
            ("both empty", #"{"prompt":"p","chosen":"","rejected":""}"#, "@:1:24: chosen and rejected are both empty (field chosen)"),
            ("negative weight", #"{"prompt":"p","chosen":"a","rejected":"b","weight":-1}"#,
             "@:1:52: expected a finite number ≥ 0, got -1 (field weight)"),
            ("overflowing weight", #"{"prompt":"p","chosen":"a","rejected":"b","weight":1e999}"#,
             "@:1:56: invalid JSON: real number overflow near '1e999'"),
            ("NaN literal", #"{"prompt":"p","chosen":"a","rejected":"b","weight":NaN}"#,
             "@:1:54: invalid JSON: invalid token near 'NaN'"),
            ("Infinity literal", #"{"prompt":"p","chosen":"a","rejected":"b","margin":Infinity}"#,
             "@:1:59: invalid JSON: invalid token near 'Infinity'"),
            ("string margin", #"{"prompt":"p","chosen":"a","rejected":"b","margin":"1"}"#,
             "@:1:52: expected a number, got a string (field margin)"),
            ("array id", #"{"prompt":"p","chosen":"a","rejected":"b","id":[1]}"#,
             "@:1:48: expected a string or an integer, got an array (field id)"),
            ("dense dimension changes", "{\"chosen_features\":[1,2],\"rejected_features\":[3,4]}\n{\"chosen_features\":[1,2,3],\"rejected_features\":[3,4,5]}",
             "@:2:1: expected 2 numbers as on @:1, got 3 (field chosen_features)"),
            ("dense sides differ", #"{"chosen_features":[1,2],"rejected_features":[3]}"#,
             "@:1:46: expected 2 numbers as in chosen_features, got 1 (field rejected_features)"),
            ("non-number in array", #"{"chosen_features":[1,"x"],"rejected_features":[3,4]}"#,
             "@:1:20: element 1 is a string, expected a number (field chosen_features)"),
            ("empty array", #"{"chosen_features":[],"rejected_features":[]}"#,
             "@:1:20: expected a non-empty array of numbers, got an empty array (field chosen_features)"),
            ("beyond Float32", #"{"chosen_features":[1,1e39],"rejected_features":[3,4]}"#,
             "@:1:20: element 1 (1e+39) is outside the Float32 range (field chosen_features)"),
            ("text after dense", "{\"chosen_features\":[1,2],\"rejected_features\":[3,4]}\n" + pair,
             "@:2:24: expected dense features like the file's first pair, got text (field chosen)"),
            ("dense after text", pair + "\n{\"chosen_features\":[1,2],\"rejected_features\":[3,4]}",
             "@:2:20: expected text like the file's first pair, got dense features (field chosen_features)"),
            ("escaped NUL", #"{"prompt":"p","chosen":"a\u0000","rejected":"b"}"#,
             #"@:1:32: invalid JSON: \u0000 is not allowed in a string near '"a\u0000"'"#),
            ("duplicate key", #"{"prompt":"p","chosen":"a","chosen":"c","rejected":"b"}"#,
             "@:1:35: invalid JSON: duplicate object key near '\"chosen\"'"),
            ("bad message", #"{"prompt":[{"role":"user","content":"hi"}],"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":5}]}"#,
             #"@:1:101: message 0 is not a {"role": string, "content": string} object (field rejected)"#),
            ("empty file", "", "@: no pairs: the file is empty or holds only blank lines"),
            ("blank lines only", "\n  \n\t\n", "@: no pairs: the file is empty or holds only blank lines"),
        ]
        let directory = TestSupport.temporaryDirectory(self)
        for (index, testCase) in cases.enumerated() {
            let path = TestSupport.write(testCase.content, "case\(index).jsonl", in: directory)
            XCTAssertThrowsError(try TestSupport.read(paths: [path]), testCase.name) { error in
                let message = (error as? DataError)?.description ?? "not a DataError: \(error)"
                XCTAssertEqual(message, testCase.expected.replacing("@", with: path), testCase.name)
            }
        }
        XCTAssertGreaterThanOrEqual(cases.count, 15)
    }

    func test_invalid_utf8_names_the_byte() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let path = "\(directory)/bad.jsonl"
        try Data(Array(#"{"prompt":"p","chosen":"a"#.utf8) + [0xFF] + Array(#"","rejected":"b"}"#.utf8)).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try TestSupport.read(paths: [path])) { error in
            XCTAssertEqual((error as? DataError)?.description, "\(path):1:25: invalid JSON: unable to decode byte 0xff near '\"a'")
        }
    }

    func test_missing_file_directory_and_corrupt_gzip() throws {
        let directory = TestSupport.temporaryDirectory(self)
        func message(_ path: String) -> String? {
            do { _ = try TestSupport.read(paths: [path]); return nil } catch { return (error as? DataError)?.description }
        }
        XCTAssertEqual(message("\(directory)/nope.jsonl"), "\(directory)/nope.jsonl: cannot open: No such file or directory")
        XCTAssertEqual(message(directory), "\(directory): is a directory, expected a JSONL file")
        let gzipped = try gzip(String(repeating: pair + "\n", count: 200))
        let truncated = "\(directory)/truncated.jsonl.gz"
        try gzipped.prefix(gzipped.count / 2).write(to: URL(fileURLWithPath: truncated))
        XCTAssertEqual(message(truncated), "\(truncated): truncated gzip file (unexpected end of file)")
        let corrupt = "\(directory)/corrupt.jsonl.gz"
        try Data([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3] + Array("garbagegarbage".utf8)).write(to: URL(fileURLWithPath: corrupt))
        XCTAssertEqual(message(corrupt), "\(corrupt): corrupt gzip data: invalid block type")
    }

    func test_skip_mode_counts_each_reason_and_keeps_good_lines() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let path = TestSupport.write([pair, "xx", #"{"prompt":"p","chosen":"a","rejected":"b","weight":-2}"#,
                                      #"{"prompt":"p","chosen":"a","rejected":"a"}"#, #"{"prompt":"p","chosen":"","rejected":"b"}"#]
                                        .joined(separator: "\n"), "mixed.jsonl", in: directory)
        var options = ReadOptions()
        options.onError = .skip
        let (dataset, summary) = try PreferenceReader.read(paths: [path], options: options)
        XCTAssertEqual(dataset.count, 3)
        XCTAssertEqual(summary.lines, 5)
        XCTAssertEqual(summary.skipped, ["invalid JSON": 1, "invalid weight": 1])
        XCTAssertEqual(summary.warnings, ["chosen identical to rejected": 1, "empty response": 1])
        XCTAssertEqual(dataset.sources.map(\.line), [1, 4, 5])
    }

    func test_explicit_shape_with_optional_fields_bom_and_crlf() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let text = "\u{FEFF}" + #"{"id":"a1","prompt":"P","chosen":"yes","rejected":"no","category":"safety","weight":2.5,"margin":0.5}"#
            + "\r\n\r\n" + #"{"id":7,"prompt":"Q","chosen":"x y","rejected":"z"}"#  // no final newline
        let path = TestSupport.write(text, "explicit.jsonl", in: directory)
        let dataset = try TestSupport.read(paths: [path])
        XCTAssertEqual(dataset.count, 2)
        XCTAssertEqual(dataset.ids, ["a1", "7"])
        XCTAssertEqual(dataset.categoryNames, ["safety", "default"])
        XCTAssertEqual(dataset.exampleWeights, [2.5, 1])
        XCTAssertEqual(dataset.margins, [0.5, 0])
        XCTAssertEqual(dataset.sources.map(\.line), [1, 3])
        guard case .text(let prompts, let chosen, let rejected) = dataset.responses else { return XCTFail("expected text") }
        XCTAssertEqual(prompts, ["P", "Q"])
        XCTAssertEqual(chosen, ["yes", "x y"])
        XCTAssertEqual(rejected, ["no", "z"])
    }

    func test_conversational_shape_joins_assistant_contents() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let explicit = #"{"prompt":[{"role":"system","content":"S"},{"role":"user","content":"U"}],"chosen":[{"role":"assistant","content":"A1"},{"role":"assistant","content":"A2"}],"rejected":[{"role":"assistant","content":"B"}]}"#
        let implicit = #"{"chosen":[{"role":"user","content":"U"},{"role":"assistant","content":"good"}],"rejected":[{"role":"user","content":"U"},{"role":"assistant","content":"bad"}]}"#
        let path = TestSupport.write(explicit + "\n" + implicit, "chat.jsonl", in: directory)
        let dataset = try TestSupport.read(paths: [path])
        guard case .text(let prompts, let chosen, let rejected) = dataset.responses else { return XCTFail("expected text") }
        XCTAssertEqual(prompts, ["S\nU", "U"])
        XCTAssertEqual(chosen, ["A1\nA2", "good"])
        XCTAssertEqual(rejected, ["B", "bad"])
    }

    func test_implicit_prompt_splits_at_the_last_shared_assistant_turn() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let lines = [
            // Shared up to the last assistant turn: the usual HH-RLHF line.
            #"{"chosen":"\n\nHuman: hi\n\nAssistant: hello\n\nHuman: joke?\n\nAssistant: sure","rejected":"\n\nHuman: hi\n\nAssistant: hello\n\nHuman: joke?\n\nAssistant: no"}"#,
            // They differ inside an earlier assistant turn: cut after the last shared assistant marker.
            #"{"chosen":"\n\nHuman: hi\n\nAssistant: hello\n\nHuman: q\n\nAssistant: a","rejected":"\n\nHuman: hi\n\nAssistant: howdy\n\nHuman: q\n\nAssistant: b"}"#,
            // They differ in the first human turn: cut at the last turn boundary, never rejected.
            #"{"chosen":"\n\nHuman: one\n\nAssistant: x","rejected":"\n\nHuman: two\n\nAssistant: y"}"#,
        ]
        let path = TestSupport.write(lines.joined(separator: "\n"), "hh.jsonl", in: directory)
        let dataset = try TestSupport.read(paths: [path])
        guard case .text(let prompts, let chosen, let rejected) = dataset.responses else { return XCTFail("expected text") }
        XCTAssertEqual(prompts, ["\n\nHuman: hi\n\nAssistant: hello\n\nHuman: joke?\n\nAssistant:", "\n\nHuman: hi\n\nAssistant:", ""])
        XCTAssertEqual(chosen, [" sure", " hello\n\nHuman: q\n\nAssistant: a", "\n\nHuman: one\n\nAssistant: x"])
        XCTAssertEqual(rejected, [" no", " howdy\n\nHuman: q\n\nAssistant: b", "\n\nHuman: two\n\nAssistant: y"])
    }

    func test_dense_shape_and_renamed_fields() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let path = TestSupport.write(#"{"q":"p","good":"a b","bad":"c","subset":"math","w":3,"m":1.5,"key":"k"}"#, "renamed.jsonl", in: directory)
        let dataset = try TestSupport.read(paths: [path]) { options in
            options.fields.prompt = "q"; options.fields.chosen = "good"; options.fields.rejected = "bad"
            options.fields.category = "subset"; options.fields.weight = "w"; options.fields.margin = "m"; options.fields.id = "key"
        }
        XCTAssertEqual(dataset.categoryNames, ["math"])
        XCTAssertEqual(dataset.exampleWeights, [3])
        XCTAssertEqual(dataset.margins, [1.5])
        XCTAssertEqual(dataset.ids, ["k"])
        let dense = TestSupport.write("{\"chosen_features\":[1,2.5],\"rejected_features\":[-1,0]}\n{\"chosen_features\":[3,4],\"rejected_features\":[5,6]}\n",
                                      "dense.jsonl", in: directory)
        let denseSet = try TestSupport.read(paths: [dense])
        guard case .dense(let dimension, let chosen, let rejected) = denseSet.responses else { return XCTFail("expected dense") }
        XCTAssertEqual(dimension, 2)
        XCTAssertEqual(chosen, [1, 2.5, 3, 4])
        XCTAssertEqual(rejected, [-1, 0, 5, 6])
    }

    func test_gzip_reads_like_plain_and_results_do_not_depend_on_threads_or_chunks() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let plain = TestSupport.data("llmbar.jsonl")
        let gzipped = "\(directory)/llmbar.jsonl.gz"
        try gzip(String(decoding: try Data(contentsOf: URL(fileURLWithPath: plain)), as: UTF8.self)).write(to: URL(fileURLWithPath: gzipped))
        let one = try TestSupport.read(paths: [plain]) { $0.threads = 1 }
        let two = try TestSupport.read(paths: [gzipped]) { $0.threads = 2; $0.chunkBytes = 4096 }
        XCTAssertEqual(one.count, 1198)
        XCTAssertEqual(fingerprint(of: one), fingerprint(of: two))
        XCTAssertEqual(one.categoryNames, two.categoryNames)
    }

    func test_line_numbers_are_right_across_chunks_and_threads() throws {
        // ~400 KB of lines, some blank, some CRLF, some bad: every split into chunks and threads must
        // number each pair and each error by its line in the file.
        var lines: [String] = []
        var badLines: [Int] = []
        var goodLines: [Int] = []
        for number in 1...3000 {
            switch number % 97 {
            case 5: lines.append("")
            case 11: lines.append("{\"chosen\": \"broken"); badLines.append(number)
            default:
                let text = String(repeating: "word\(number % 7) ", count: 10 + number % 13)
                lines.append("{\"chosen\": \"\(text)\", \"rejected\": \"r\(number)\"}" + (number % 5 == 0 ? "\r" : ""))
                goodLines.append(number)
            }
        }
        let directory = TestSupport.temporaryDirectory(self)
        let text = lines.joined(separator: "\n") + "\n"
        // A plain file is read with pread, a gzip file through zlib: both paths.
        let plain = TestSupport.write(text, "numbered.jsonl", in: directory)
        let gzipped = "\(directory)/numbered.jsonl.gz"
        try gzip(text).write(to: URL(fileURLWithPath: gzipped))
        for path in [plain, gzipped] {
            for threads in [1, 2, 3, 5] {
                for chunkBytes in [100, 1 << 16, 100_000, 32 << 20] {  // 100: shorter than most lines
                    var options = ReadOptions()
                    options.threads = threads
                    options.chunkBytes = chunkBytes
                    options.onError = .skip
                    let (dataset, summary) = try PreferenceReader.read(paths: [path], options: options)
                    let setting = "\(path): threads \(threads), chunks of \(chunkBytes) bytes"
                    let numbers = dataset.sources.map { Int($0.line) }
                    XCTAssertTrue(numbers == goodLines, "\(setting): pair \(firstDifference(numbers, goodLines)) is numbered wrong")
                    guard case .text(_, _, let rejected) = dataset.responses else { return XCTFail("expected text") }
                    XCTAssertTrue(Array(rejected) == goodLines.map { "r\($0)" }, "\(setting): pair \(firstDifference(Array(rejected), goodLines.map { "r\($0)" })) differs")
                    XCTAssertEqual(summary.skippedCount, badLines.count, setting)
                    XCTAssertEqual(summary.firstSkipped.map(\.line), Array(badLines.prefix(5)), setting)
                    XCTAssertEqual(summary.lines, goodLines.count + badLines.count, setting)
                }
            }
        }
    }

    func test_dense_dimensions_are_checked_against_the_first_pair_in_any_split() throws {
        // The first valid dense pair (line 4, after bad lines) sets the dimension; pairs of another
        // dimension are scattered through the file, and a run of them opens a later stretch, so
        // that some thread's share starts with the wrong dimension. Every split must skip the same
        // lines with the same messages (naming line 4) and keep the same vectors.
        var lines: [String] = []
        for number in 1...2500 {
            let dimension = number < 4 ? 0 : (number % 31 == 0 || (1200...1260).contains(number)) ? 3 : 2
            if dimension == 0 {
                lines.append(#"{"chosen_features": "no", "rejected_features": [1]}"#)
            } else {
                let values = (0..<dimension).map { String(number * 10 + $0) }.joined(separator: ",")
                lines.append(#"{"chosen_features": [\#(values)], "rejected_features": [\#(values)], "category": "c\#(number % 3)"}"#)
            }
        }
        let path = TestSupport.write(lines.joined(separator: "\n") + "\n", "dims.jsonl", in: TestSupport.temporaryDirectory(self))
        func read(threads: Int, chunkBytes: Int) throws -> (PreferenceDataset, ReadSummary) {
            var options = ReadOptions()
            options.threads = threads
            options.chunkBytes = chunkBytes
            options.minimumPartBytes = 1
            options.onError = .skip
            return try PreferenceReader.read(paths: [path], options: options)
        }
        let (expected, expectedSummary) = try read(threads: 1, chunkBytes: 32 << 20)
        guard case .dense(2, let chosen, _) = expected.responses else { return XCTFail("expected dimension 2") }
        XCTAssertEqual(chosen[0], 40)
        XCTAssertEqual(expectedSummary.skipped, ["wrong type": 3, "dimension mismatch": 2500 - 3 - expected.count])
        XCTAssertEqual(expectedSummary.firstSkipped.last?.description, "\(path):62:1: expected 2 numbers as on \(path):4, got 3 (field chosen_features)")
        for threads in [2, 3, 5] {
            for chunkBytes in [3000, 50_000, 32 << 20] {
                let (dataset, summary) = try read(threads: threads, chunkBytes: chunkBytes)
                XCTAssertEqual(String(describing: dataset), String(describing: expected), "threads \(threads), chunks of \(chunkBytes)")
                XCTAssertEqual(summary, expectedSummary, "threads \(threads), chunks of \(chunkBytes)")
            }
        }
    }

    func test_text_hashed_as_it_is_read_equals_hashing_afterwards() throws {
        func rows(_ matrix: FeatureMatrix) -> SparseRows? {
            if case .sparse(let rows) = matrix { return rows }
            return nil
        }
        let path = TestSupport.data("llmbar.jsonl")
        let plain = try PreferenceReader.read(paths: [path]).0
        XCTAssertNil(plain.hashedTexts)
        for includePrompt in [false, true] {
            let featurizer = Featurizer.hashed(hashBits: 12, includePrompt: includePrompt)
            let expected = try featurizer.features(of: plain, threads: 1)
            for (threads, chunkBytes) in [(1, 32 << 20), (2, 50_000), (3, 7_000)] {
                var options = ReadOptions()
                options.threads = threads
                options.chunkBytes = chunkBytes
                options.minimumPartBytes = 1
                let dataset = try PreferenceReader.read(paths: [path], options: options, featurizingWith: featurizer).0
                let setting = "prompt \(includePrompt), threads \(threads), chunks of \(chunkBytes)"
                let hashed = try XCTUnwrap(dataset.hashedTexts, setting)
                XCTAssertEqual(hashed.chosen.count, 1198)
                XCTAssertTrue(hashed.chosen == rows(expected.chosen) && hashed.rejected == rows(expected.rejected), setting)
                // The rows travel with their pairs through a subset, and the featurizer takes them.
                let picked = [5, 3, 1100, 3, 0]
                let fromRead = try featurizer.features(of: dataset.subset(picked), threads: 2)
                let fromScratch = try featurizer.features(of: plain.subset(picked), threads: 2)
                XCTAssertEqual(rows(fromRead.chosen), rows(fromScratch.chosen), setting)
                XCTAssertEqual(rows(fromRead.rejected), rows(fromScratch.rejected), setting)
            }
        }
        // A featurizer with other settings hashes again rather than taking rows that are not its own.
        let dataset = try PreferenceReader.read(paths: [path], featurizingWith: .hashed(hashBits: 12, includePrompt: false)).0
        let other = Featurizer.hashed(hashBits: 10, includePrompt: false)
        XCTAssertEqual(rows(try other.features(of: dataset, threads: 2).chosen), rows(try other.features(of: plain, threads: 2).chosen))
        XCTAssertEqual(rows(try other.features(of: dataset, threads: 2).chosen)?.dimension, 1 << 10)
    }

    func firstDifference<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
        a.indices.first { $0 >= b.count || a[$0] != b[$0] } ?? a.count
    }

    func test_shipped_real_datasets_read_without_a_single_error() throws {
        let (hh, hhSummary) = try PreferenceReader.read(paths: [TestSupport.data("hh-rlhf-harmless-base-test.jsonl.gz")])
        XCTAssertEqual(hh.count, 2312)
        XCTAssertEqual(hhSummary.skippedCount, 0)
        let (llmbar, llmbarSummary) = try PreferenceReader.read(paths: [TestSupport.data("llmbar.jsonl")])
        XCTAssertEqual(llmbar.count, 1198)
        XCTAssertEqual(llmbar.categoryNames.count, 13)
        XCTAssertEqual(llmbarSummary.skippedCount, 0)
        // Every HH prompt ends at an assistant turn or a turn boundary, and no response is lost.
        guard case .text(let prompts, let chosen, _) = hh.responses else { return XCTFail("expected text") }
        XCTAssertEqual(prompts.filter { $0.hasSuffix("\n\nAssistant:") }.count + prompts.filter { !$0.hasSuffix("\n\nAssistant:") }.count, 2312)
        XCTAssertGreaterThan(prompts.filter { $0.hasSuffix("\n\nAssistant:") }.count, 2250)
        XCTAssertTrue(chosen.allSatisfy { !$0.isEmpty })
    }

    private func gzip(_ text: String) throws -> Data { try TestSupport.gzip(text, self) }
    func test_a_100_megabyte_line_is_read_whole() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let response = String(repeating: "word ", count: 20_000_000)
        let path = TestSupport.write(#"{"prompt":"p","chosen":"\#(response)","rejected":"b"}"# + "\n" + #"{"prompt":"p","chosen":"a","rejected":"b"}"#,
                                     "big.jsonl", in: directory)
        let dataset = try TestSupport.read(paths: [path])
        XCTAssertEqual(dataset.count, 2)
        guard case .text(_, let chosen, _) = dataset.responses else { return XCTFail("expected text") }
        XCTAssertEqual(chosen[0].utf8.count, 100_000_000)
        XCTAssertEqual(dataset.sources.map(\.line), [1, 2])
    }
    /// Under `skip`, a dense line whose length differs from the first dense line stopped the whole
    /// run (the check ran after decoding, outside the skip policy); it is now skipped and counted.
    func test_skip_skips_a_dense_line_of_another_dimension() throws {
        let text = "{\"chosen_features\":[1,2],\"rejected_features\":[3,4]}\n"
            + "{\"chosen_features\":[1,2,3],\"rejected_features\":[3,4,5]}\n"
            + "{\"chosen_features\":[5,6],\"rejected_features\":[7,8]}\n"
        var options = ReadOptions()
        options.onError = .skip
        let (dataset, summary) = try PreferenceReader.read(bytes: Array(text.utf8), name: "dense.jsonl", options: options)
        XCTAssertEqual(dataset.count, 2)
        XCTAssertEqual(dataset.sources.map(\.line), [1, 3])
        XCTAssertEqual(summary.skipped, ["dimension mismatch": 1])
        XCTAssertEqual(summary.firstSkipped.map(\.description),
                       ["dense.jsonl:2:1: expected 2 numbers as on dense.jsonl:1, got 3 (field chosen_features)"])
        options.onError = .fail
        XCTAssertThrowsError(try PreferenceReader.read(bytes: Array(text.utf8), name: "dense.jsonl", options: options)) { error in
            XCTAssertEqual((error as? DataError)?.description,
                           "dense.jsonl:2:1: expected 2 numbers as on dense.jsonl:1, got 3 (field chosen_features)")
        }
    }
    /// A carriage return between a key and its colon (JSON whitespace) put the error's column at the
    /// CR instead of at the value (found by `scripts/fuzz 660`, after 123,872 inputs).
    func test_the_column_skips_carriage_returns_before_the_value() throws {
        let text = "{\"chosen\"\r\r: \"hi\", \"rejected\"\r:\r[{\"role\": \"assistant\", \"content\": \"x\"}]}\n"
        var options = ReadOptions()
        options.shape = .conversational
        XCTAssertThrowsError(try PreferenceReader.read(bytes: Array(text.utf8), name: "fuzz.jsonl", options: options)) { error in
            XCTAssertEqual((error as? DataError)?.description,
                           "fuzz.jsonl:1:14: expected a list of {\"role\", \"content\"} messages, got a string (field chosen)")
        }
    }
    /// The in-memory entry point the fuzzer uses reads exactly as the file path does, in any chunking.
    func test_reading_bytes_matches_reading_the_file() throws {
        let path = TestSupport.data("llmbar.jsonl")
        let bytes = try Files.read(path)
        let fromFile = try TestSupport.read(paths: [path])
        var options = ReadOptions()
        options.chunkBytes = 4096
        let fromBytes = try PreferenceReader.read(bytes: bytes, name: path, options: options).0
        XCTAssertEqual(String(describing: fromFile), String(describing: fromBytes))
    }

}
