import Foundation
import XCTest
@testable import Upweight

/// Streamed training (feature rows in a scratch file, one pass per L-BFGS evaluation) finds the
/// optimum the in-memory fit finds, whatever the threads or the reading's chunk size.
final class StreamingTests: XCTestCase {
    let denseFixture = TestSupport.fixture("linear-dense/train.jsonl")

    func configuration(stream: Bool, threads: Int = 2, chunkBytes: Int = 32 << 20) -> TrainingConfiguration {
        var configuration = TrainingConfiguration()
        configuration.stream = stream
        configuration.reading.cache = "none"  // each run reads the file: the reading itself is under test (CacheTests test the cache)
        configuration.l2 = 0.01
        configuration.standardize = true
        configuration.tolerance = 1e-10
        configuration.holdout = 0.2
        configuration.weighting.upweight = ["safety": 3]
        configuration.reading.threads = threads
        configuration.reading.chunkBytes = chunkBytes
        return configuration
    }

    /// A synthetic dense JSONL file (6000 pairs of 32 numbers: 7.8 MB, past a 4 MB budget).
    func syntheticFile(pairs: Int, seed: UInt64, in directory: String) -> String {
        var specification = SyntheticSpecification()
        specification.pairs = pairs
        specification.seed = seed
        return TestSupport.write(specification.generate().jsonl, "big.jsonl", in: directory)
    }

    func train(_ configuration: TrainingConfiguration, data: [String]? = nil) throws -> TrainingSession.Finished {
        try TrainingSession(configuration: configuration, data: data ?? [denseFixture]).run()
    }

    func test_streamed_lbfgs_optimum_equals_the_in_memory_one() throws {
        let inMemory = try train(configuration(stream: false))
        let streamed = try train(configuration(stream: true))
        assertSameLinearOptimum(streamed, inMemory)
        // The same pairs trained and reported on: the fingerprints (over every row) agree, and so does the report.
        XCTAssertEqual(streamed.trained.provenance["data"]?.compactText, inMemory.trained.provenance["data"]?.compactText)
        XCTAssertEqual(streamed.reportedPairsFingerprint, inMemory.reportedPairsFingerprint)
        XCTAssertEqual(streamed.trained.heldOut?.fingerprint, inMemory.trained.heldOut?.fingerprint)
        XCTAssertEqual(streamed.report.overall.accuracy, inMemory.report.overall.accuracy, accuracy: 1e-12)
        XCTAssertEqual(streamed.trained.featurizer, inMemory.trained.featurizer)
    }

    func test_streamed_model_does_not_depend_on_threads_or_chunk_size() throws {
        let reference = try ModelBytes(train(configuration(stream: true, threads: 1)))
        for (threads, chunkBytes) in [(2, 32 << 20), (3, 4096), (2, 70_001)] {
            XCTAssertEqual(try ModelBytes(train(configuration(stream: true, threads: threads, chunkBytes: chunkBytes))), reference,
                           "\(threads) threads, chunks of \(chunkBytes) bytes")
        }
    }

    func test_streams_automatically_past_max_memory_and_says_so() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = syntheticFile(pairs: 6000, seed: 4, in: directory)
        let common = ["train", data, "--holdout", "0.2", "--standardize", "--threads", "2"]
        let automatic = try TestSupport.run(common + ["--max-memory", "4M", "--out", "\(directory)/auto"])
        XCTAssertEqual(automatic.status, 0, automatic.stderr)
        XCTAssertTrue(automatic.stderr.contains("streaming (the data needs about "), automatic.stderr)
        XCTAssertTrue(automatic.stderr.contains(" GiB in memory, more than --max-memory): feature rows go to the cache in "), automatic.stderr)
        let asked = try TestSupport.run(common + ["--stream", "--quiet", "--out", "\(directory)/asked"])
        XCTAssertEqual(asked.status, 0, asked.stderr)
        XCTAssertEqual(asked.stdout, automatic.stdout)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/auto/model.safetensors")),
                       try Data(contentsOf: URL(fileURLWithPath: "\(directory)/asked/model.safetensors")))
        // What streaming does not take yet is read into memory, and the same budget refuses it, as before.
        let refused = try TestSupport.run(common + ["--max-memory", "4M", "--noise-aware", "drop", "--quiet"])
        XCTAssertEqual(refused.status, 64)
        XCTAssertTrue(refused.stderr.hasPrefix("upweight: reading \(data) needs about"), refused.stderr)
    }

    /// eval, compare and score on data past the budget stream it, and print exactly what they print in memory.
    func test_eval_compare_and_score_stream_past_max_memory_with_the_same_output() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = syntheticFile(pairs: 6000, seed: 5, in: directory)
        for (name, flags) in [("linear", ["--holdout", "0.2", "--standardize"]), ("mlp", ["--model", "mlp", "--hidden", "8", "--epochs", "1", "--standardize"])] {
            let trained = try TestSupport.run(["train", data, "--out", "\(directory)/\(name)", "--quiet"] + flags)
            XCTAssertEqual(trained.status, 0, trained.stderr)
        }
        let commands: [[String]] = [
            ["eval", "\(directory)/mlp", data, "--format", "json", "--baseline", "\(directory)/linear"],
            ["eval", "\(directory)/linear", "--holdout-of", "\(directory)/linear", "--format", "csv"],
            ["compare", "--model", "\(directory)/linear", "--model", "\(directory)/mlp", data],
            ["score", "\(directory)/mlp", data],
        ]
        for command in commands {
            let inMemory = try TestSupport.run(command + (command[0] == "score" ? [] : ["--quiet"]))
            let streamed = try TestSupport.run(command + ["--max-memory", "4M"] + (command[0] == "score" ? [] : ["--quiet"]))
            XCTAssertEqual(inMemory.status, 0, inMemory.stderr)
            XCTAssertEqual(streamed.status, 0, streamed.stderr)
            XCTAssertEqual(streamed.stdout, inMemory.stdout, command.joined(separator: " "))
            XCTAssertFalse(inMemory.stdout.isEmpty)
        }
        let score = try TestSupport.run(["score", "\(directory)/mlp", data, "--max-memory", "4M"])
        XCTAssertTrue(score.stderr.hasPrefix("streaming (the data needs about "), score.stderr)
    }

    func test_what_streaming_does_not_take_yet_is_a_usage_error() throws {
        let mlp = try TestSupport.run(["train", denseFixture, "--stream", "--model", "mlp", "--optimizer", "adamw", "--noise-aware", "drop", "--quiet"])
        XCTAssertEqual(mlp.status, 64)
        XCTAssertEqual(mlp.stderr, "upweight: streamed training (--stream, or data larger than the memory budget) does not take --noise-aware yet\n")
        // Text streams (StreamedTextTests), but not into a model that reads dense vectors.
        let directory = TestSupport.temporaryDirectory(self)
        XCTAssertEqual(try TestSupport.run(["train", denseFixture, "--out", "\(directory)/dense", "--quiet"]).status, 0)
        let text = TestSupport.fixture("linear-text/train.jsonl")
        let eval = try TestSupport.run(["eval", "\(directory)/dense", text, "--max-memory", "1M", "--cache", "none", "--quiet"])
        XCTAssertEqual(eval.status, 64)
        XCTAssertEqual(eval.stderr, "upweight: the model reads dense feature vectors, but \(text) holds text\n")
    }

    func test_a_bad_line_is_located_as_when_read_into_memory() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let lines = try String(contentsOfFile: denseFixture, encoding: .utf8).split(separator: "\n").prefix(50).map(String.init)
        // A number JSON cannot hold, and a vector too long for Float32 arithmetic (a rejected one at
        // line 30 and a chosen one at line 42: the chosen side is reported first, as in memory).
        // The first number of a vector replaced, keeping its dimension.
        func replacingFirst(of side: String, in line: String, with number: String) -> String {
            let key = "\"\(side)_features\":["
            let start = line.range(of: key)!.upperBound
            let end = line[start...].firstIndex(of: ",")!
            return line.replacingCharacters(in: start..<end, with: number)
        }
        for (line, side, number) in [(42, "rejected", "1e999"), (42, "chosen", "3e30"), (30, "rejected", "3e30")] {
            var broken = lines
            broken[line - 1] = replacingFirst(of: side, in: broken[line - 1], with: number)
            if line == 30 { broken[41] = replacingFirst(of: "chosen", in: broken[41], with: "3e30") }
            let data = TestSupport.write(broken.joined(separator: "\n") + "\n", "bad.jsonl", in: directory)
            let streamed = try TestSupport.run(["train", data, "--stream", "--quiet"])
            let inMemory = try TestSupport.run(["train", data, "--quiet"])
            XCTAssertEqual(streamed.status, 65)
            XCTAssertEqual(streamed.stderr, inMemory.stderr)
            XCTAssertTrue(streamed.stderr.hasPrefix("\(data):42:"), streamed.stderr)
        }
    }

    func test_eval_files_stream_too_and_must_match_the_dimension() throws {
        let directory = TestSupport.temporaryDirectory(self)
        var base = configuration(stream: false)
        base.holdout = 0
        base.eval = [TestSupport.fixture("linear-dense-margin/train.jsonl")]
        let margins = try String(contentsOfFile: base.eval[0], encoding: .utf8)
        let dimensionOf = { (text: String) in text.split(separator: "\n")[0].split(separator: "]")[0].split(separator: ",").count - 3 }
        if dimensionOf(margins) == dimensionOf(try String(contentsOfFile: denseFixture, encoding: .utf8)) {
            var streamed = base
            streamed.stream = true
            let (a, b) = (try train(base), try train(streamed))
            XCTAssertEqual(a.reportedPairsFingerprint, b.reportedPairsFingerprint)
            XCTAssertEqual(a.report.overall.accuracy, b.report.overall.accuracy, accuracy: 1e-12)
        }
        let other = TestSupport.write(#"{"chosen_features":[1,2],"rejected_features":[3,4]}"# + "\n", "two.jsonl", in: directory)
        let run = try TestSupport.run(["train", denseFixture, "--stream", "--eval", other, "--quiet"])
        XCTAssertEqual(run.status, 65)
        XCTAssertTrue(run.stderr.contains("\(other): has 2 numbers per vector, the training data 16"), run.stderr)
    }
}

/// A trained model's safetensors bytes, for comparing runs.
struct ModelBytes: Equatable {
    let bytes: [UInt8]
    init(_ finished: TrainingSession.Finished) throws {
        bytes = Safetensors.encode(finished.trained.model.tensors)
    }
}
