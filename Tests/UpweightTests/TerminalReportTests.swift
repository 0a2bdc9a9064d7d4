import Foundation
import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightEvaluation
@testable import UpweightTraining

/// What `train` and `eval` print on a terminal: a table that fits, lasting epoch lines, warnings.
final class TerminalReportTests: XCTestCase {
    private func report(names: [String]) -> EvaluationReport {
        let categories = names.flatMap { [$0, $0] }
        return EvaluationReport(dataset: syntheticDataset(categories: categories), chosenRewards: categories.indices.map { Float($0 % 3) },
                                rejectedRewards: categories.map { _ in 1 })
    }

    func test_the_default_table_fits_the_width_and_wide_shows_every_metric() {
        let long = String(repeating: "a-very-long-category-name/", count: 6)
        let report = report(names: [long, "short"])
        for width in [120, 80] {
            let lines = report.table(width: width).split(separator: "\n")
            XCTAssertLessThanOrEqual(lines.map(\.count).max() ?? 0, width, lines.joined(separator: "\n"))
            XCTAssertEqual(lines[0].split(separator: " ", omittingEmptySubsequences: true).joined(separator: " "),
                           "category pairs accuracy 95% CI log loss ece")
            XCTAssertTrue(lines.contains { $0.hasPrefix("a-very-long") && $0.contains("…") })
        }
        let wide = report.table(wide: true)
        XCTAssertTrue(wide.contains("mean margin") && wide.contains("reward sd") && wide.contains(long))
    }

    func test_epoch_lines_show_held_out_loss_and_point_at_patience_when_it_rises() {
        func entry(_ epoch: Int, _ train: Double, _ heldOut: Double?) -> JSONObject {
            var object = JSONObject([("epoch", JSONValue(epoch)), ("train_loss", .number(train))])
            if let heldOut { object["eval"] = ["accuracy": 0.75, "log_loss": .number(heldOut)] }
            return object
        }
        XCTAssertEqual(EpochLine.text(log: [entry(1, 0.69, nil)], epochs: 3, patience: nil), "epoch 1/3  train loss 0.6900")
        let log = [entry(1, 0.6, 0.65), entry(2, 0.5, 0.6), entry(3, 0.4, 0.61), entry(4, 0.3, 0.62)]
        XCTAssertEqual(EpochLine.text(log: Array(log.prefix(3)), epochs: 4, patience: nil),
                       "epoch 3/4  train loss 0.4000  held-out loss 0.6100  accuracy 0.750")
        XCTAssertEqual(EpochLine.text(log: log, epochs: 4, patience: nil),
                       "epoch 4/4  train loss 0.3000  held-out loss 0.6200  accuracy 0.750  (held-out loss rising since epoch 2; --patience N stops early and keeps the best epoch)")
        XCTAssertTrue(EpochLine.text(log: log, epochs: 4, patience: 3).hasSuffix("(held-out loss rising since epoch 2)"))
    }

    func test_train_warns_about_no_out_an_ignored_holdout_and_a_missing_category_field() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = TestSupport.write("""
            {"prompt":"p","chosen":"good answer","rejected":"bad","split":"train"}
            {"prompt":"q","chosen":"fine answer","rejected":"worse","split":"test"}

            """, "d.jsonl", in: directory)
        let run = try TestSupport.run(["train", data, "--train-split", "train", "--eval-split", "test", "--holdout", "0.5",
                                       "--category-field", "topic", "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let lines = run.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(Array(lines.prefix(2)), ["warning: no --out: the model will not be saved",
                                                "warning: --holdout 0.5 is ignored: --eval-split gives the evaluation pairs"])
        XCTAssertTrue(lines.contains("warning: no line has the category field \"topic\" (--category-field): every pair is in category \"default\""), run.stderr)
    }

    func test_argument_parser_errors_quote_values_escaped() throws {
        let run = try TestSupport.run(["stats", TestSupport.data("llmbar.jsonl"), "--format", "\u{1B}]0;pwned\u{7}"])
        XCTAssertEqual(run.status, 64)
        XCTAssertEqual(run.stderr.split(separator: "\n").first.map(String.init),
                       "Error: The value '\\e]0;pwned\\u{7}' is invalid for '--format <format>'. Please provide one of 'table', 'json', 'csv', 'markdown' or 'html'.")
        XCTAssertFalse(run.stderr.contains("\u{1B}"))
    }
}
