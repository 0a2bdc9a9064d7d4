import Foundation
import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightEvaluation
@testable import UpweightTraining

/// Model directories and checkpoints are untrusted input: every damaged or hostile field is a
/// message naming the file and exit 65, never a trap.
final class UntrustedModelTests: XCTestCase {
    /// A safetensors file with this header (padded to 8 bytes) and data.
    func safetensors(_ header: String, data: [UInt8] = [0, 0, 0x80, 0x3F]) -> [UInt8] {
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(UInt8(ascii: " ")) }
        return withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian, Array.init) + headerBytes + data
    }

    func assertRefused(_ bytes: [UInt8], _ message: String, line: UInt = #line) {
        XCTAssertThrowsError(try Safetensors.decodeAll(bytes, file: "m.safetensors"), line: line) { error in
            XCTAssertEqual((error as? DataError)?.description, "m.safetensors: not a valid safetensors file: \(message)", line: line)
        }
    }

    func test_a_valid_hand_made_file_decodes() throws {
        let decoded = try Safetensors.decode(safetensors(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#), file: "m")
        XCTAssertEqual(decoded, [Tensor(name: "w", shape: [1], values: [1])])
    }

    func test_header_length_beyond_the_file_or_2_to_the_64() {
        assertRefused([UInt8](repeating: 0xFF, count: 16), "header length 18446744073709551615 exceeds the file")
        assertRefused(withUnsafeBytes(of: UInt64(1 << 62).littleEndian, Array.init) + [0x7B, 0x7D], "header length 4611686018427387904 exceeds the file")
    }

    func test_offsets_negative_huge_or_fractional() {
        for offsets in ["[-4,0]", "[0,1e300]", "[0,4.5]", "[0,9223372036854775807]"] {
            assertRefused(safetensors(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":\#(offsets)}}"#),
                          "tensor w has data offsets that are not whole numbers from 0 to 4 (the data bytes in the file)")
        }
        assertRefused(safetensors(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#),
                      "tensor w has data offsets [0, 4] that do not match its shape [2] (8 bytes)")
    }

    func test_shapes_negative_huge_or_overflowing() {
        for shape in ["[-1]", "[1e300]", "[4294967296,4294967296]", "[2305843009213693952]", "[\"1\"]"] {
            assertRefused(safetensors(#"{"w":{"dtype":"F32","shape":\#(shape),"data_offsets":[0,4]}}"#),
                          "tensor w has a shape that is not a list of whole numbers ≥ 0 with a size that fits in memory")
        }
    }

    func test_overlapping_tensors_and_non_finite_values() {
        assertRefused(safetensors(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#),
                      "tensors a and b overlap in the file")
        assertRefused(safetensors(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0xC0, 0x7F]),
                      "tensor w holds nan at index 0 (every value must be finite)")
        assertRefused(safetensors(#"{"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0, 0, 0, 0xF0, 0x7F]),
                      "tensor w holds inf at index 0 (every value must be finite)")
    }

    // MARK: - Model directories, through the CLI

    /// A linear model (standardized, so config.json holds mean and std) trained on the dense fixture.
    func savedModel() throws -> String {
        var configuration = TrainingConfiguration()
        configuration.standardize = true
        let dataset = try TestSupport.read(paths: [TestSupport.fixture("linear-dense/train.jsonl")])
        let directory = TestSupport.temporaryDirectory(self) + "/model"
        try ModelDirectory.save(try Trainer.train(dataset, configuration: configuration).trained, to: directory)
        return directory
    }

    /// Rewrites a model file with `change` applied to its text.
    func edit(_ path: String, _ change: (String) -> String) throws {
        try change(try String(contentsOfFile: path, encoding: .utf8)).write(toFile: path, atomically: true, encoding: .utf8)
    }

    func eval(_ model: String, baseline: String? = nil) throws -> TestSupport.Run {
        // --quiet: the error alone, without the data file's notes.
        try TestSupport.run(["eval", model, TestSupport.fixture("linear-dense/train.jsonl"), "--bootstrap", "0", "--quiet"] + (baseline.map { ["--baseline", $0] } ?? []))
    }

    func test_the_untouched_model_evaluates() throws {
        XCTAssertEqual(try eval(try savedModel()).status, 0)
    }

    func test_input_dimension_1e300_in_config_json() throws {
        let model = try savedModel()
        try edit("\(model)/config.json") { $0.replacingOccurrences(of: #""input_dimension": 16"#, with: #""input_dimension": 1e300"#) }
        let run = try eval(model)
        XCTAssertEqual(run.status, 65)
        XCTAssertEqual(run.stderr, "\(model)/config.json: architecture.input_dimension must be a whole number from 1 to 268435456\n")
    }

    func test_a_standard_deviation_of_zero() throws {
        let model = try savedModel()
        try edit("\(model)/config.json") { $0.replacingOccurrences(of: #""std": \[[^,]+"#, with: #""std": [0"#, options: .regularExpression) }
        let run = try eval(model)
        XCTAssertEqual(run.status, 65)
        XCTAssertEqual(run.stderr, "\(model)/config.json: featurizer.standardize: every mean must be a finite number and every std a finite number > 0\n")
    }

    /// Replaces the first weight of model.safetensors with NaN.
    func poisonFirstWeight(_ model: String) throws {
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: "\(model)/model.safetensors")))
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
        bytes.replaceSubrange((8 + headerLength)..<(12 + headerLength), with: [0, 0, 0xC0, 0x7F])
        try Data(bytes).write(to: URL(fileURLWithPath: "\(model)/model.safetensors"))
    }

    func test_a_model_with_a_nan_weight_is_refused_as_model_and_as_baseline() throws {
        let good = try savedModel()
        let poisoned = try savedModel()
        try poisonFirstWeight(poisoned)
        let expected = "\(poisoned)/model.safetensors: not a valid safetensors file: tensor linear.weight holds nan at index 0 (every value must be finite)\n"
        for run in [try eval(poisoned), try eval(good, baseline: poisoned)] {
            XCTAssertEqual(run.status, 65)
            XCTAssertEqual(run.stderr, expected)
        }
    }

    func test_a_missing_tensor_file_is_a_damaged_model() throws {
        let model = try savedModel()
        try FileManager.default.removeItem(atPath: "\(model)/model.safetensors")
        let run = try eval(model)
        XCTAssertEqual(run.status, 65)
        XCTAssertEqual(run.stderr, "\(model)/model.safetensors: cannot open: No such file or directory\n")
    }
}
