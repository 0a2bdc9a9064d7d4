import Foundation
import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightData
@testable import UpweightEvaluation
@testable import UpweightTraining

/// A checkpoint is untrusted input too: positions outside the run, numbers that are not whole or
/// finite, and state that does not fit the model are refused (DataError, exit 65) before any step.
final class UntrustedCheckpointTests: XCTestCase {
    /// 3000 pairs in batches of 500: 6 batches an epoch, 3 epochs, a checkpoint after each of the first two.
    func configuration(out: String, resume: Bool) -> TrainingConfiguration {
        var configuration = TrainingConfiguration()
        configuration.optimizer = .adamw
        configuration.epochs = 3
        configuration.batchSize = 500
        configuration.checkpointEvery = 1
        configuration.out = out
        configuration.resume = resume
        return configuration
    }

    /// A model directory holding the checkpoint after epoch 2 (Trainer.train writes checkpoints, not the final model).
    func checkpointed() throws -> (out: String, dataset: PreferenceDataset) {
        let dataset = try TestSupport.read(paths: [TestSupport.fixture("linear-dense/train.jsonl")])
        let out = TestSupport.temporaryDirectory(self) + "/model"
        _ = try Trainer.train(dataset, configuration: configuration(out: out, resume: false))
        return (out, dataset)
    }

    func resume(_ out: String, _ dataset: PreferenceDataset) throws {
        _ = try Trainer.train(dataset, configuration: configuration(out: out, resume: true))
    }

    func assertRefused(_ change: (String) throws -> Void, _ message: (String) -> String, line: UInt = #line) throws {
        let (out, dataset) = try checkpointed()
        try change(out)
        XCTAssertThrowsError(try resume(out, dataset), line: line) { error in
            XCTAssertEqual((error as? DataError)?.description, message(out), line: line)
        }
    }

    /// Replaces `old` by `new` in checkpoint.json.
    func editJSON(_ old: String, _ new: String) -> (String) throws -> Void {
        { out in
            let path = "\(out)/checkpoint.json"
            let text = try String(contentsOfFile: path, encoding: .utf8)
            XCTAssertTrue(text.contains(old), text)
            try text.replacingOccurrences(of: old, with: new).write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    /// Rewrites checkpoint.safetensors with `change` applied to its tensors.
    func editState(_ change: @escaping (inout [Tensor64]) -> Void) -> (String) throws -> Void {
        { out in
            let path = "\(out)/checkpoint.safetensors"
            var state = try Safetensors.decodeAll(Array(Data(contentsOf: URL(fileURLWithPath: path))), file: path).doubles
            change(&state)
            try Data(Safetensors.encode([], doubles: state)).write(to: URL(fileURLWithPath: path))
        }
    }

    func test_an_untouched_checkpoint_resumes() throws {
        let (out, dataset) = try checkpointed()
        XCTAssertNoThrow(try resume(out, dataset))
    }

    func test_batch_1e15_and_minus_3() throws {
        try assertRefused(editJSON(#""batch": 0"#, #""batch": 1e15"#)) {
            "\($0)/checkpoint.json: \"batch\" must be a whole number from 0 to 2147483647, got 1e15"
        }
        try assertRefused(editJSON(#""batch": 0"#, #""batch": -3"#)) {
            "\($0)/checkpoint.json: \"batch\" must be a whole number from 0 to 2147483647, got -3"
        }
    }

    func test_epoch_1e300() throws {
        try assertRefused(editJSON(#""epoch": 2"#, #""epoch": 1e300"#)) {
            "\($0)/checkpoint.json: \"epoch\" must be a whole number from 0 to 1000000, got 1e300"
        }
    }

    func test_positions_outside_the_run() throws {
        try assertRefused(editJSON(#""epoch": 2"#, #""epoch": 3"#)) {
            "\($0)/checkpoint.json: epoch 3 is not before the run's last epoch (3); nothing is left to resume"
        }
        try assertRefused(editJSON(#""batch": 0"#, #""batch": 7"#)) {
            "\($0)/checkpoint.json: batch 7 is beyond the 6 batches of an epoch"
        }
    }

    func test_step_nan_or_1e300() throws {
        func step(_ value: Double) -> (inout [Tensor64]) -> Void {
            { state in state = state.map { $0.name == "adam.step" ? Tensor64(name: $0.name, values: [value]) : $0 } }
        }
        try assertRefused(editState(step(.nan))) {
            "\($0)/checkpoint.safetensors: not a valid safetensors file: tensor adam.step holds nan at index 0 (every value must be finite)"
        }
        try assertRefused(editState(step(1e300))) {
            "\($0)/checkpoint.safetensors: the checkpoint's optimizer step count (adam.step) is 1e+300, not a whole number from 0 to 2147483647"
        }
    }

    func test_state_that_does_not_fit_the_model() throws {
        try assertRefused(editState { state in state = state.map { $0.name == "theta" ? Tensor64(name: "theta", values: [1]) : $0 } }) {
            "\($0)/checkpoint.safetensors: the checkpoint does not hold this model's parameters (theta of 16 values)"
        }
        try assertRefused(editState { state in state = state.map { $0.name == "adam.v" ? Tensor64(name: "adam.v", values: $0.values.map { -$0 - 1 }) : $0 } }) {
            "\($0)/checkpoint.safetensors: the checkpoint's adam.v holds a negative value"
        }
    }
}
