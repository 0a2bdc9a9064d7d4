import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightData
@testable import UpweightEvaluation

/// The HTML report as a record of its run, and the charts' honesty: a one-entry log is a value,
/// histograms show zero and a count scale.
final class HTMLRecordTests: XCTestCase {
    let dataset = syntheticDataset(categories: ["a", "b", "a", "b"])

    func report(chosen: [Float] = [1, -1, 2, 0.5]) -> EvaluationReport {
        EvaluationReport(dataset: dataset, chosenRewards: chosen, rejectedRewards: [0, 0, 0, 0])
    }

    func occurrences(of piece: String, in text: String) -> Int { text.components(separatedBy: piece).count - 1 }

    /// A log entry written as a JSON literal.
    func entry(_ value: JSONValue) -> JSONObject {
        guard case .object(let object) = value else { preconditionFailure("not an object") }
        return object
    }

    func test_the_page_names_model_data_baseline_command_and_date_escaped() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let file = TestSupport.write("abc", "pairs<1>.jsonl", in: directory)
        let context = ReportContext(modelDirectory: "runs/m&1", dataFiles: [try ReportContext.DataFile(path: file)],
                                    pairsFingerprint: "fnv1a64:0123456789abcdef", baselines: ["runs/base\"2"],
                                    commandLine: ["upweight", "train", "a b", "x<y>&\"'", "--holdout", "0.25"], time: 1_700_000_000)
        let page = report().html(context: context)
        XCTAssertTrue(page.contains("upweight train &#39;a b&#39; &#39;x&lt;y&gt;&amp;&quot;&#39;\\&#39;&#39;&#39; --holdout 0.25"))
        // FNV-1a 64 of "abc", as Python computes it.
        XCTAssertTrue(page.contains("pairs&lt;1&gt;.jsonl (3 bytes, fnv1a64:e71fa2190541574b)"))
        XCTAssertTrue(page.contains("runs/m&amp;1"))
        XCTAssertTrue(page.contains("runs/base&quot;2"))
        XCTAssertTrue(page.contains("fnv1a64:0123456789abcdef"))
        let date = try XCTUnwrap(page.range(of: #"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"#, options: .regularExpression))
        XCTAssertEqual(String(page[date]), "2023-11-14T22:13:20Z")
        // The metrics table scrolls inside its box rather than widening the page.
        XCTAssertTrue(page.contains(".scroll{overflow-x:auto}"))
        XCTAssertTrue(page.contains("<h2>Metrics</h2>\n<div class=\"scroll\"><table>"))
        let parser = XMLParser(data: Data(page.replacingOccurrences(of: "<!DOCTYPE html>", with: "").utf8))
        XCTAssertTrue(parser.parse(), "not well-formed: \(String(describing: parser.parserError))")
        XCTAssertFalse(report().html().contains("class=\"record\""), "no run section without a context")
    }

    func test_train_and_eval_reports_name_their_run() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = TestSupport.fixture("linear-dense/train.jsonl")
        let file = try ReportContext.DataFile(path: data)
        let train = try TestSupport.run(["train", data, "--holdout", "0.2", "--out", "\(directory)/m", "--report", "\(directory)/r.html", "--quiet"])
        XCTAssertEqual(train.status, 0, train.stderr)
        let trained = try String(contentsOfFile: "\(directory)/r.html", encoding: .utf8)
        XCTAssertTrue(trained.contains("\(data) (\(file.bytes) bytes, \(file.hash))"), "the data file and its hash")
        XCTAssertTrue(trained.contains("<td>\(directory)/m</td>"))
        XCTAssertTrue(trained.contains("train \(data) --holdout 0.2 --out \(directory)/m --report \(directory)/r.html --quiet</code>"))
        // The page on stdout names its run too (the other formats skip hashing the data).
        let printed = try TestSupport.run(["train", data, "--holdout", "0.2", "--format", "html", "--quiet"])
        XCTAssertEqual(printed.status, 0, printed.stderr)
        XCTAssertTrue(printed.stdout.contains("\(data) (\(file.bytes) bytes, \(file.hash))"), "the data file and its hash")
        let record = try HeldOutRecord.load(fromModelDirectory: "\(directory)/m")
        XCTAssertTrue(trained.contains("<td>\(record.fingerprint)</td>"), "the held-out set's fingerprint, as held_out.json has it")

        let eval = try TestSupport.run(["eval", "\(directory)/m", "--holdout-of", "\(directory)/m", "--baseline", "\(directory)/m",
                                        "--format", "html", "--bootstrap", "0", "--quiet"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stdout.contains("<tr><th>baseline</th><td>\(directory)/m</td></tr>"))
        XCTAssertTrue(eval.stdout.contains("<td>\(record.fingerprint)</td>"), "the same pairs")
        XCTAssertTrue(eval.stdout.contains("\(data) (\(file.bytes) bytes, \(file.hash))"))
    }

    func test_dates_are_iso_8601_utc() {
        XCTAssertEqual(iso8601UTC(0), "1970-01-01T00:00:00Z")
        XCTAssertEqual(iso8601UTC(951_782_400), "2000-02-29T00:00:00Z")
        XCTAssertEqual(iso8601UTC(1_700_000_000), "2023-11-14T22:13:20Z")
    }

    func test_a_one_entry_log_is_drawn_as_a_value_not_a_line() throws {
        let curves = try XCTUnwrap(TrainingCurves(log: [entry(["epoch": 1, "train_loss": 0.5])]))
        XCTAssertEqual(occurrences(of: "<circle", in: curves.html), 1)
        XCTAssertEqual(occurrences(of: "<polyline", in: curves.html), 0)
        XCTAssertTrue(curves.html.contains(">0.500</text>"), "the dot carries its number")
        XCTAssertFalse(curves.html.contains("epoch 1 to 1"))
        XCTAssertNil(TrainingCurves(log: []))
        XCTAssertNil(TrainingCurves(log: [entry(["epoch": 1])]), "nothing to draw")
    }

    func test_curves_show_held_out_loss_and_accuracy_beside_training_loss_per_category() throws {
        let log = (1...3).map { epoch -> JSONObject in
            let loss = 1 / Double(epoch)
            return entry(["epoch": JSONValue(epoch), "train_loss": .number(loss),
                    "train_loss_by_category": ["a": .number(loss), "b<": .number(loss / 2)],
                    "eval": ["log_loss": .number(loss + 0.1), "accuracy": .number(0.5 + 0.1 * Double(epoch)),
                             "categories": ["a": ["log_loss": .number(loss), "accuracy": 0.6], "b<": ["log_loss": .number(loss), "accuracy": 0.7]]]])
        }
        let html = try XCTUnwrap(TrainingCurves(log: log)).html
        // Loss: training and held-out for overall, a and b< (6); accuracy: one each (3).
        XCTAssertEqual(occurrences(of: "<polyline", in: html), 9)
        XCTAssertEqual(occurrences(of: "stroke-dasharray=\"5 3\"", in: html), 3, "held-out loss is dashed")
        XCTAssertEqual(occurrences(of: "<svg", in: html), 2)
        XCTAssertTrue(html.contains("Held-out accuracy"))
        XCTAssertTrue(html.contains(">epoch</text>") && html.contains(">loss</text>") && html.contains(">accuracy</text>"))
        XCTAssertTrue(html.contains("b&lt;") && !html.contains("b<"))
        // One colour per category, none repeated for the first twenty.
        let colours = try XCTUnwrap(TrainingCurves(log: log)).series.map(\.colour)
        XCTAssertEqual(Set(colours).count, colours.count)
        XCTAssertEqual(Set((0..<20).map(paletteColour)).count, 20)
        // Without held-out pairs: one loss chart, no accuracy.
        let trainingOnly = try XCTUnwrap(TrainingCurves(log: log.map { entry in
            var entry = entry
            entry["eval"] = nil
            return entry
        })).html
        XCTAssertEqual(occurrences(of: "<svg", in: trainingOnly), 1)
        XCTAssertEqual(occurrences(of: "<polyline", in: trainingOnly), 3)
    }

    func test_every_margin_histogram_marks_zero_and_counts_pairs_even_when_all_margins_are_positive() {
        for chosen: [Float] in [[1, -1, 2, 0.5], [1, 2, 3, 4]] {
            let page = report(chosen: chosen).html()
            XCTAssertEqual(occurrences(of: "class=\"zero\"", in: page), 2, "a line at Δ = 0 per category")
            XCTAssertEqual(occurrences(of: "pairs per bin", in: page), 2)
            XCTAssertTrue(page.contains("2 pairs; y: pairs per bin"))
        }
    }

    func test_nice_ticks_are_round_and_cover_the_largest_value_when_asked() {
        XCTAssertEqual(niceTicks(from: 0, to: 1, count: 4), [0, 0.5, 1])
        XCTAssertEqual(niceTicks(from: 0, to: 7, count: 3, whole: true), [0, 5])
        XCTAssertEqual(niceTicks(from: 0, to: 7, count: 3, whole: true, covering: true), [0, 5, 10])
        XCTAssertEqual(niceTicks(from: 1, to: 3, count: 6, whole: true), [1, 2, 3])
        XCTAssertEqual(niceTicks(from: 2, to: 2), [2])
        XCTAssertEqual(niceTicks(from: .nan, to: 2), [])
    }

    func test_plural_agrees_with_the_count() {
        XCTAssertEqual(plural(1, "category", "categories"), "1 category")
        XCTAssertEqual(plural(0, "category", "categories"), "0 categories")
        XCTAssertEqual(plural(2, "candidate", "candidates"), "2 candidates")
        let page = EvaluationReport(dataset: syntheticDataset(categories: ["only"]), chosenRewards: [1], rejectedRewards: [0]).html()
        XCTAssertTrue(page.contains("1 pair in 1 category."))
    }
}
