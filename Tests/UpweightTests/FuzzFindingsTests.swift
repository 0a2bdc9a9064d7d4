import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightData

/// Inputs the fuzzer (Sources/UpweightFuzz, scripts/fuzz) found wrong, each with its exact outcome.
final class FuzzFindingsTests: XCTestCase {
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
