import Foundation
import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightData

/// Inputs from outside and resources that run out: each gets a clear error, or is handled.
final class FailureTests: XCTestCase {
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

    func test_dense_data_of_another_dimension_than_the_model_is_bad_data() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let train = TestSupport.write("{\"chosen_features\":[1,2],\"rejected_features\":[0,0]}\n{\"chosen_features\":[0,1],\"rejected_features\":[1,0]}\n",
                                      "train.jsonl", in: directory)
        let other = TestSupport.write("\n{\"chosen_features\":[1,2,3],\"rejected_features\":[0,0,0]}\n", "other.jsonl", in: directory)
        XCTAssertEqual(try TestSupport.run(["train", train, "--out", "\(directory)/model"]).status, 0)
        let run = try TestSupport.run(["eval", "\(directory)/model", other, "--quiet"])  // the error alone, without the notes
        XCTAssertEqual(run.status, 65)
        XCTAssertEqual(run.stderr, "\(other):2:1: expected 2 numbers as the model was trained on, got 3 (field chosen_features)\n")
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

    func test_divergence_stops_with_the_epoch_step_and_advice_and_writes_nothing() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let run = try TestSupport.run(["train", TestSupport.fixture("linear-dense/train.jsonl"), "--optimizer", "adamw",
                                       "--learning-rate", "1e300", "--epochs", "2", "--out", "\(directory)/model"])
        XCTAssertEqual(run.status, 70)
        XCTAssertTrue(run.stderr.contains("upweight: training diverged at epoch 1, step 2: the loss or a parameter is not finite. The learning rate (1e+300) is probably too high: try --learning-rate 1e+299, or raise --l2"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/model"))
    }
}

extension FailureTests {
    /// The memory-saving split gives exactly what two subsets would.
    func test_split_equals_two_subsets() throws {
        let dense = try TestSupport.read(paths: [TestSupport.fixture("linear-dense-margin/train.jsonl")])
        let text = try TestSupport.read(paths: [TestSupport.data("llmbar.jsonl")])
        let hashed = try PreferenceReader.read(paths: [TestSupport.data("llmbar.jsonl")],
                                               featurizingWith: .hashed(hashBits: 10, includePrompt: true)).0
        for original in [dense, text, hashed] {
            for (first, second) in [(Array(stride(from: 0, to: 400, by: 3)), [1, 5, 9]), ([7, 2, 5], [0, 1])] {
                var consumed = original
                let (a, b) = consumed.split(first, second)
                XCTAssertEqual(fingerprint(of: a), fingerprint(of: original.subset(first)))
                XCTAssertEqual(fingerprint(of: b), fingerprint(of: original.subset(second)))
                XCTAssertEqual(a.ids, original.subset(first).ids)
                // Hashed rows stay with their pairs (compacted in place for the first part).
                XCTAssertEqual(a.hashedTexts, original.subset(first).hashedTexts)
                XCTAssertEqual(b.hashedTexts, original.subset(second).hashedTexts)
                XCTAssertEqual(a.hashedTexts?.chosen.count, original.hashedTexts.map { _ in first.count })
                XCTAssertEqual(consumed.count, 0)
            }
        }
    }
}
