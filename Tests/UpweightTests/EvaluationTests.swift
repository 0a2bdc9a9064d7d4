import XCTest
@testable import Upweight

final class EvaluationTests: XCTestCase {
    /// Six pairs in two categories, with rewards chosen so every metric can be computed by hand.
    func test_metrics_equal_hand_computed_values() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let lines = ["a", "a", "a", "b", "b", "b"].map { #"{"prompt":"p","chosen":"x","rejected":"y","category":"\#($0)"}"# }
        let dataset = try TestSupport.read(paths: [TestSupport.write(lines.joined(separator: "\n"), "e.jsonl", in: directory)])
        // Δ: a → 2, −1, 0 (a tie);  b → 1, 1, −3
        let report = EvaluationReport(dataset: dataset, chosenRewards: [2, 0, 5, 1, 2, 0], rejectedRewards: [0, 1, 5, 0, 1, 3])
        let a = report.categories[0].metrics
        let b = report.categories[1].metrics
        XCTAssertEqual(report.categories.map(\.name), ["a", "b"])
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
    }

    func test_json_report_has_the_documented_shape() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let dataset = try TestSupport.read(paths: [TestSupport.write(#"{"prompt":"p","chosen":"x","rejected":"y","category":"c"}"#, "e.jsonl", in: directory)])
        let report = EvaluationReport(dataset: dataset, chosenRewards: [1], rejectedRewards: [0])
        let json = try TestSupport.json(report.render(.json)) as! [String: Any]
        XCTAssertEqual(Set(json.keys), ["pairs", "overall", "macro", "worst", "categories"])
        XCTAssertEqual(json["pairs"] as? Int, 1)
        XCTAssertEqual(Set((json["overall"] as! [String: Any]).keys), ["pairs", "accuracy", "mean_margin", "log_loss"])
        XCTAssertEqual((json["worst"] as! [String: Any])["category"] as? String, "c")
        let category = (json["categories"] as! [String: Any])["c"] as! [String: Any]
        XCTAssertEqual(category["accuracy"] as? Double, 1)
    }

    func test_fixed_point_formatting() {
        XCTAssertEqual(fixed(0.75, 3), "0.750")
        XCTAssertEqual(fixed(-1.23456, 2), "-1.23")
        XCTAssertEqual(fixed(2.0005, 3), "2.001")
        XCTAssertEqual(fixed(-0.0001, 2), "0.00")
    }
}
