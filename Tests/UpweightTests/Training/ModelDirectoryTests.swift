import Foundation
import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightData
@testable import UpweightModels
@testable import UpweightEvaluation
@testable import UpweightTraining

final class ModelDirectoryTests: XCTestCase {
    func trainDense(seed: UInt64 = 0, standardize: Bool = false) throws -> (TrainedModel, PreferenceDataset) {
        var configuration = TrainingConfiguration()
        configuration.l2 = 0.01
        configuration.standardize = standardize
        configuration.seed = seed
        let dataset = try TestSupport.read(paths: [TestSupport.fixture("linear-dense-margin/train.jsonl")])
        return (try Trainer.train(dataset, configuration: configuration).trained, dataset)
    }

    func test_save_load_gives_identical_scores_and_tensors() throws {
        for standardize in [false, true] {
            let (trained, dataset) = try trainDense(standardize: standardize)
            let directory = TestSupport.temporaryDirectory(self) + "/model"
            try ModelDirectory.save(trained, to: directory)
            let loaded = try ModelDirectory.load(directory)
            XCTAssertEqual(loaded.model, trained.model)
            XCTAssertEqual(loaded.featurizer, trained.featurizer)
            let before = try trained.rewards(for: dataset, threads: 2)
            let after = try loaded.rewards(for: dataset, threads: 2)
            XCTAssertEqual(before.chosen, after.chosen)
            XCTAssertEqual(before.rejected, after.rejected)
        }
    }

    func test_same_data_and_seed_give_the_same_model_bytes() throws {
        let directory = TestSupport.temporaryDirectory(self)
        for name in ["a", "b"] { try ModelDirectory.save(try trainDense().0, to: "\(directory)/\(name)") }
        for file in ["model.safetensors", "config.json"] {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/a/\(file)")),
                           try Data(contentsOf: URL(fileURLWithPath: "\(directory)/b/\(file)")), file)
        }
    }

    func test_safetensors_layout_is_the_published_format() throws {
        let bytes = Safetensors.encode([Tensor(name: "b", shape: [2], values: [1, -2]), Tensor(name: "a", shape: [1, 1], values: [0.5])])
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
        XCTAssertEqual(headerLength % 8, 0)
        let header = String(decoding: bytes[8..<8 + headerLength], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        XCTAssertEqual(header, #"{"a":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#)
        XCTAssertEqual(Array(bytes[(8 + headerLength)...]), [0, 0, 0, 0x3F, 0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0])
        let decoded = try Safetensors.decode(bytes, file: "t")
        XCTAssertEqual(decoded.map(\.name), ["a", "b"])
        XCTAssertEqual(decoded[1].values, [1, -2])
        XCTAssertThrowsError(try Safetensors.decode(Array(bytes.prefix(20)), file: "t.safetensors")) { error in
            XCTAssertEqual((error as? DataError)?.description, "t.safetensors: not a valid safetensors file: header length \(headerLength) exceeds the file")
        }
    }

    func test_saving_over_an_existing_model_replaces_it_whole() throws {
        let directory = TestSupport.temporaryDirectory(self) + "/model"
        let (first, _) = try trainDense()
        try ModelDirectory.save(first, to: directory)
        var second = first
        second.model = .linear(LinearRewardModel(weight: [Float](repeating: 1, count: first.model.inputDimension)))
        try ModelDirectory.save(second, to: directory)
        XCTAssertEqual(try ModelDirectory.load(directory).model, second.model)
        let siblings = try FileManager.default.contentsOfDirectory(atPath: (directory as NSString).deletingLastPathComponent)
        XCTAssertEqual(siblings, ["model"], "no staging directory is left behind")
    }

    func test_loading_a_model_that_does_not_fit_the_data_says_why() throws {
        let (trained, _) = try trainDense()
        let text = try TestSupport.read(paths: [TestSupport.fixture("linear-text/train.jsonl")])
        XCTAssertThrowsError(try trained.rewards(for: text, threads: 1)) { error in
            XCTAssertEqual((error as? UsageError)?.message, "the model reads dense feature vectors, but the data holds text")
        }
        XCTAssertThrowsError(try ModelDirectory.load("/nonexistent")) { error in
            XCTAssertEqual((error as? UsageError)?.message, "/nonexistent: not a model directory (expected a directory with config.json and model.safetensors)")
        }
    }
}
