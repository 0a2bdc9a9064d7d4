import XCTest
@testable import UpweightSupport
@testable import UpweightEvaluation

final class EvaluationTests: XCTestCase {
    /// Six pairs in two categories read from JSONL, with rewards chosen so the metrics can be computed
    /// by hand; the three-argument initializer (the trainer's) keeps its defaults.
    func test_metrics_equal_hand_computed_values() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let lines = ["a", "a", "a", "b", "b", "b"].map { #"{"prompt":"p","chosen":"x","rejected":"y","category":"\#($0)"}"# }
        let dataset = try TestSupport.read(paths: [TestSupport.write(lines.joined(separator: "\n"), "e.jsonl", in: directory)])
        // Δ: a → 2, −1, 0 (a tie);  b → 1, 1, −3
        let report = EvaluationReport(dataset: dataset, chosenRewards: [2, 0, 5, 1, 2, 0], rejectedRewards: [0, 1, 5, 0, 1, 3])
        let a = report.categories[0].metrics
        let b = report.categories[1].metrics
        XCTAssertEqual(report.categories.map(\.name), ["a", "b"])
        XCTAssertEqual(report.ties, .half)
        XCTAssertEqual(report.options.bootstrapSamples, 1000)
        XCTAssertEqual(a.accuracy, 0.5, accuracy: 1e-12)  // (1 + 0 + ½) / 3
        XCTAssertEqual(b.accuracy, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(a.meanMargin, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(b.meanMargin, -1.0 / 3, accuracy: 1e-12)
        // log loss = mean log(1 + e^−Δ)
        XCTAssertEqual(a.logLoss, (log(1 + exp(-2.0)) + log(1 + exp(1.0)) + log(2.0)) / 3, accuracy: 1e-12)
        XCTAssertEqual(report.overall.accuracy, 3.5 / 6, accuracy: 1e-12)
        XCTAssertEqual(report.macro.accuracy, (0.5 + 2.0 / 3) / 2, accuracy: 1e-12)
        XCTAssertEqual(report.worst.name, "a")
        XCTAssertEqual(report.worst.accuracy, 0.5, accuracy: 1e-12)
        // "x" vs "y": equal lengths, so the longer-wins baseline scores ½ everywhere.
        XCTAssertEqual(report.overall.lengthBaselineAccuracy, 0.5)
    }

    func test_fixed_point_formatting() {
        XCTAssertEqual(fixed(0.75, 3), "0.750")
        XCTAssertEqual(fixed(-1.23456, 2), "-1.23")
        XCTAssertEqual(fixed(2.0005, 3), "2.001")
        XCTAssertEqual(fixed(-0.0001, 2), "0.00")
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

}
