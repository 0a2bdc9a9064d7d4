import Foundation
import XCTest
@testable import Upweight
@testable import UpweightData
@testable import UpweightTraining
@testable import UpweightModels

/// Streamed text (rows hashed once as read, kept in units of CSR rows): L-BFGS finds the in-memory
/// optimum, AdamW trains close to the in-memory run, the model does not depend on the threads or the
/// chunk size, the cache is reused and a damaged entry rebuilt, and eval and score print what they
/// print in memory. The in-memory run is the reference throughout.
final class StreamedTextTests: XCTestCase {
    /// 6,000 text pairs (2.2 MB; about 5.4 MB of rows and texts, so five units of ~1 MiB of rows).
    let textData = TestSupport.data("synthetic-text.jsonl")

    func configuration(stream: Bool, threads: Int = 2, chunkBytes: Int = 32 << 20) -> TrainingConfiguration {
        var configuration = TrainingConfiguration()
        configuration.stream = stream
        configuration.reading.cache = "none"  // each run reads the file (the cache is tested below)
        configuration.tolerance = 1e-10
        configuration.hashBits = 14  // fewer columns, a faster fit: the rows (and units) are as many
        configuration.holdout = 0.2
        configuration.weighting.upweight = ["safety": 3]
        configuration.reading.threads = threads
        configuration.reading.chunkBytes = chunkBytes
        return configuration
    }

    func mlp(_ configuration: TrainingConfiguration, epochs: Int) -> TrainingConfiguration {
        var configuration = configuration
        configuration.model = .mlp
        configuration.hidden = [16]
        configuration.epochs = epochs
        configuration.batchSize = 64
        configuration.learningRate = 0.003
        configuration.holdout = 0
        configuration.trainSplit = "train"
        configuration.evalSplit = "test"
        configuration.shuffleBuffer = 2048
        return configuration
    }

    func train(_ configuration: TrainingConfiguration) throws -> TrainingSession.Finished {
        try TrainingSession(configuration: configuration, data: [textData]).run()
    }

    func test_streamed_text_lbfgs_optimum_equals_the_in_memory_one() throws {
        let inMemory = try train(configuration(stream: false))
        let streamed = try train(configuration(stream: true))
        assertSameLinearOptimum(streamed, inMemory)
        // The same pairs (split by prompt as in memory) trained and reported on, with the same texts.
        XCTAssertEqual(streamed.trained.provenance["data"]?.compactText, inMemory.trained.provenance["data"]?.compactText)
        XCTAssertEqual(streamed.reportedPairsFingerprint, inMemory.reportedPairsFingerprint)
        XCTAssertEqual(streamed.trained.heldOut?.fingerprint, inMemory.trained.heldOut?.fingerprint)
        XCTAssertEqual(streamed.trained.trainingTexts, inMemory.trained.trainingTexts)
        XCTAssertEqual(streamed.report.overall.accuracy, inMemory.report.overall.accuracy, accuracy: 1e-12)
        XCTAssertEqual(streamed.report.overall.lengthBaselineAccuracy, inMemory.report.overall.lengthBaselineAccuracy)
        XCTAssertEqual(streamed.trained.featurizer, inMemory.trained.featurizer)
    }

    /// More than one unit, sized by the data: so the threads and chunks below really split the work.
    func test_text_units_are_about_a_mebibyte_of_rows_whatever_the_chunks() throws {
        var counts: [Int] = []
        for chunkBytes in [32 << 20, 70_001] {
            var options = ReadOptions()
            options.cache = "none"
            options.chunkBytes = chunkBytes
            let (pairs, _) = try StreamedPairs.read(paths: [textData], options: options, hashing: .hashed(hashBits: 18, includePrompt: false),
                                                    directory: nil)
            guard case .hashed(18, false, let units) = pairs.layout else { return XCTFail("hashed rows expected") }
            XCTAssertEqual(units.firstPairs.last, 6000)
            XCTAssertGreaterThan(units.count, 2)
            counts.append(units.count)
            // Every unit's rows are the in-memory rows of its pairs, chosen and rejected interleaved.
            let inMemory = try XCTUnwrap(try PreferenceReader.read(paths: [textData], featurizingWith: .hashed(hashBits: 18, includePrompt: false)).0.hashedTexts)
            guard case .sparse(let rows) = try pairs.rows(ofUnit: 1) else { return XCTFail("sparse rows expected") }
            let range = pairs.pairs(ofUnit: 1)
            XCTAssertEqual(rows.subset(range.indices.map { 2 * ($0 - range.lowerBound) }), inMemory.chosen.subset(Array(range)))
            XCTAssertEqual(rows.subset(range.indices.map { 2 * ($0 - range.lowerBound) + 1 }), inMemory.rejected.subset(Array(range)))
        }
        XCTAssertEqual(counts[0], counts[1])
    }

    func test_streamed_text_model_does_not_depend_on_threads_or_chunk_size() throws {
        for base in [configuration(stream: true, threads: 1), mlp(configuration(stream: true, threads: 1), epochs: 1)] {
            let reference = try ModelBytes(train(base))
            for (threads, chunkBytes) in [(2, 70_001)] {
                var variant = base
                variant.reading.threads = threads
                variant.reading.chunkBytes = chunkBytes
                XCTAssertEqual(try ModelBytes(train(variant)), reference, "\(base.model), \(threads) threads, chunks of \(chunkBytes) bytes")
            }
        }
    }

    /// The streamed order (units shuffled, pairs within windows of 2,048) differs from the in-memory
    /// full shuffle, so the models differ; on the 1,183 test pairs their accuracies stay within 2 points.
    func test_streamed_text_adamw_mlp_accuracy_is_within_tolerance_of_in_memory() throws {
        let inMemory = try train(mlp(configuration(stream: false), epochs: 3))
        let streamed = try train(mlp(configuration(stream: true), epochs: 3))
        print("text MLP: held-out accuracy in memory \(inMemory.report.overall.accuracy), streamed \(streamed.report.overall.accuracy)")
        XCTAssertLessThanOrEqual(abs(streamed.report.overall.accuracy - inMemory.report.overall.accuracy), 0.02)
        XCTAssertGreaterThan(streamed.report.overall.accuracy, 0.6, "learned something")
        XCTAssertEqual(streamed.trained.trainingLog.count, 3)
        XCTAssertEqual(streamed.reportedPairsFingerprint, inMemory.reportedPairsFingerprint)
    }

    /// The streamed MLP's reported objective is the in-memory objective of the same model over the
    /// same training pairs: the loss summed unit by unit, and the L2 term over every row of W₁ that a
    /// training pair touches (not only the last unit's rows).
    func test_streamed_mlp_reports_the_in_memory_objective_of_its_model() throws {
        var configuration = mlp(configuration(stream: true), epochs: 1)
        configuration.l2 = 0.01
        configuration.weighting.upweight = [:]  // every weight 1, as below
        let streamed = try train(configuration)
        guard case .mlp(let model) = streamed.trained.model else { return XCTFail("expected an MLP") }
        let dataset = try TestSupport.read(paths: [textData])
        let training = dataset.subset(dataset.splits.indices.filter { dataset.splits[$0] == "train" })
        let features = try streamed.trained.featurizer.features(of: training, threads: 1)
        let inMemory = MLPObjective(features: features, weights: [Double](repeating: 1, count: training.count), margins: training.margins,
                                    loss: configuration.loss, l2: configuration.l2, threads: 1)
        var gradient = MLPGradient()
        let expected = inMemory.evaluate(model, pairs: nil, categoryScale: nil, gradient: &gradient)
        XCTAssertGreaterThan(expected.l2Term, 0.01 * expected.value, "the L2 term matters here")
        XCTAssertEqual(streamed.recordedObjective, expected.value, accuracy: 1e-9 * expected.value)
    }

    func test_a_text_cache_entry_is_reused_and_a_damaged_one_rebuilt() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let cache = "\(directory)/cache"
        func train(_ out: String, _ extra: [String] = []) throws -> TestSupport.Run {
            let run = try TestSupport.run(["train", textData, "--stream", "--holdout", "0.2", "--threads", "2", "--cache", cache,
                                           "--out", "\(directory)/\(out)", "--format", "json"] + extra)
            XCTAssertEqual(run.status, 0, run.stderr)
            return run
        }
        let built = try train("built")
        let line = try XCTUnwrap(built.stderr.split(separator: "\n").first { $0.hasPrefix("note: cache: built ") })
        let entry = String(line.dropFirst("note: cache: built ".count).prefix { $0 != " " })
        XCTAssertTrue(line.hasPrefix("note: cache: built \(entry) (6000 pairs, "), String(line))
        let header = try String(contentsOfFile: "\(entry)/header.json", encoding: .utf8)
        XCTAssertTrue(header.contains("\"layout\": \"hashed\""), header)
        XCTAssertTrue(header.contains("hashed: 2^18 columns, word 1- and 2-grams, prompt left out"), header)

        let reused = try train("reused")
        XCTAssertTrue(reused.stderr.contains("note: cache: reusing \(entry) (built "), reused.stderr)
        XCTAssertEqual(reused.stdout, built.stdout)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/reused/model.safetensors")),
                       try Data(contentsOf: URL(fileURLWithPath: "\(directory)/built/model.safetensors")))

        // Other hashing settings are another entry: the rows would be other features.
        let otherBits = try train("bits", ["--hash-bits", "12"])
        XCTAssertTrue(otherBits.stderr.contains("note: cache: built \(cache)/pairs-"), otherBits.stderr)
        XCTAssertFalse(otherBits.stderr.contains(entry), otherBits.stderr)

        let damages: [(String, String)] = [("rows.f32", "corrupt (rows.f32 does not match its checksum)"),
                                           ("metadata.bin", "corrupt (metadata.bin does not match its checksum)")]
        for (file, reason) in damages {
            var bytes = try Data(contentsOf: URL(fileURLWithPath: "\(entry)/\(file)"))
            bytes[bytes.count / 3] ^= 0x10
            try bytes.write(to: URL(fileURLWithPath: "\(entry)/\(file)"))
            let rebuilt = try train("rebuilt")
            XCTAssertTrue(rebuilt.stderr.contains("note: cache: \(entry) is \(reason), rebuilding\nnote: cache: built \(entry) (6000 pairs, "),
                          rebuilt.stderr)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/rebuilt/model.safetensors")),
                           try Data(contentsOf: URL(fileURLWithPath: "\(directory)/built/model.safetensors")), file)
        }
    }

    /// eval and score of a text model on text past the budget stream it, and print what they print in memory.
    func test_eval_and_score_stream_text_past_max_memory_with_the_same_output() throws {
        let directory = TestSupport.temporaryDirectory(self)
        for (name, flags) in [("linear", ["--holdout", "0.2"]), ("mlp", ["--model", "mlp", "--hidden", "8", "--epochs", "1"])] {
            let trained = try TestSupport.run(["train", textData, "--out", "\(directory)/\(name)", "--quiet"] + flags)
            XCTAssertEqual(trained.status, 0, trained.stderr)
        }
        let commands = [
            ["eval", "\(directory)/linear", textData, "--format", "json"],
            ["eval", "\(directory)/linear", "--holdout-of", "\(directory)/linear", "--format", "csv"],
            ["compare", "--model", "\(directory)/linear", "--model", "\(directory)/mlp", textData],
            ["score", "\(directory)/mlp", textData],
        ]
        for command in commands {
            let inMemory = try TestSupport.run(command + ["--cache", "none"])
            let streamed = try TestSupport.run(command + ["--cache", "none", "--max-memory", "4M"])
            XCTAssertEqual(inMemory.status, 0, inMemory.stderr)
            XCTAssertEqual(streamed.status, 0, streamed.stderr)
            XCTAssertTrue(streamed.stderr.hasPrefix("streaming (the data needs about "), streamed.stderr)
            XCTAssertEqual(streamed.stdout, inMemory.stdout, command.joined(separator: " "))
            // The contamination check and every other note agree too.
            XCTAssertEqual(streamed.stderr.split(separator: "\n").dropFirst().joined(separator: "\n"), inMemory.stderr.split(separator: "\n").joined(separator: "\n"))
            XCTAssertFalse(inMemory.stdout.isEmpty)
        }
    }
}
