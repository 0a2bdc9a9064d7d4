import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightEvaluation
@testable import UpweightTraining

/// The report's formats: the JSON contract field by field, CSV, Markdown, the table, and the HTML page.
final class ReportFormatTests: XCTestCase {
    let metricKeys: Set<String> = ["pairs", "accuracy", "accuracy_ci95", "weighted_accuracy", "mean_margin", "median_margin",
                                   "log_loss", "brier", "ece", "reward_mean", "reward_std"]
    /// Two categories; one name holds characters that every format must escape.
    let awkward = "x<b>&\"y|,z'"
    lazy var dataset = syntheticDataset(categories: ["plain", awkward, "plain", awkward, "plain"],
                                        chosenTexts: ["aaaa", "b", "cc", "dddd", "e"], rejectedTexts: ["a", "bb", "cc", "d", "eeee"])
    let chosen: [Float] = [1, -1, 0.5, 2, -0.25]
    let rejected: [Float] = [0, 0, 0, 0, 0]

    func report(_ options: EvaluationOptions = EvaluationOptions(bootstrapSamples: 100)) throws -> EvaluationReport {
        try EvaluationReport(dataset: dataset, chosenRewards: chosen, rejectedRewards: rejected, options: options)
    }

    func test_json_has_the_documented_shape_field_by_field() throws {
        let json = try TestSupport.json(try report().render(.json)) as! [String: Any]
        XCTAssertEqual(Set(json.keys), ["pairs", "ties", "overall", "macro", "worst", "categories"])
        XCTAssertEqual(json["pairs"] as? Int, 5)
        XCTAssertEqual(json["ties"] as? String, "half")
        for aggregate in ["overall", "macro"] {
            XCTAssertEqual(Set((json[aggregate] as! [String: Any]).keys), metricKeys.union(["length_baseline_accuracy"]), aggregate)
        }
        let worst = json["worst"] as! [String: Any]
        XCTAssertEqual(Set(worst.keys), ["category", "accuracy", "gap"])
        XCTAssertEqual(worst["category"] as? String, awkward)    // Δ −1, 2: ½ < plain's Δ 1, 0.5, −0.25: 2/3
        XCTAssertEqual(worst["accuracy"] as! Double, 0.5, accuracy: 1e-12)
        XCTAssertEqual(worst["gap"] as! Double, 2.0 / 3 - 0.5, accuracy: 1e-12)
        let categories = json["categories"] as! [String: [String: Any]]
        XCTAssertEqual(Set(categories.keys), ["plain", awkward])
        let plain = categories["plain"]!
        XCTAssertEqual(Set(plain.keys), metricKeys.union(["length_baseline_accuracy"]))
        XCTAssertEqual(plain["pairs"] as? Int, 3)
        XCTAssertEqual(plain["accuracy"] as! Double, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(plain["median_margin"] as! Double, 0.5, accuracy: 1e-12)
        XCTAssertEqual(plain["length_baseline_accuracy"] as! Double, 0.5, accuracy: 1e-12)  // 4 > 1: 1; 2 = 2: ½; 1 < 4: 0
        let interval = plain["accuracy_ci95"] as! [Double]
        XCTAssertEqual(interval.count, 2)
        XCTAssertLessThanOrEqual(interval[0], interval[1])
    }

    func test_json_adds_sections_and_baseline_when_asked_and_drops_the_length_baseline_for_dense_data() throws {
        let sections = Sections(sections: [.init(name: "all", categories: ["plain", awkward], weight: 3)], file: "s.json")
        let options = EvaluationOptions(bootstrapSamples: 50, sections: sections, baselineRewards: (rejected, rejected))
        let json = try TestSupport.json(try report(options).render(.json)) as! [String: Any]
        XCTAssertEqual(Set(json.keys), ["pairs", "ties", "overall", "macro", "worst", "categories", "sections", "sections_overall", "baseline"])
        let section = (json["sections"] as! [String: [String: Any]])["all"]!
        XCTAssertEqual(Set(section.keys), ["accuracy", "pairs", "weight"])
        XCTAssertEqual(section["pairs"] as? Int, 5)
        XCTAssertEqual(section["accuracy"] as! Double, (3 * 2.0 / 3 + 2 * 0.5) / 5, accuracy: 1e-12)
        XCTAssertEqual(json["sections_overall"] as! Double, 0.6, accuracy: 1e-12)
        let baseline = json["baseline"] as! [String: Any]
        XCTAssertEqual(Set(baseline.keys), ["overall", "categories"])
        let overall = baseline["overall"] as! [String: Any]
        XCTAssertEqual(Set(overall.keys), ["accuracy_delta", "ci95", "p_value"])
        // The baseline ties every pair (½ each): delta = 3/5 − ½.
        XCTAssertEqual(overall["accuracy_delta"] as! Double, 0.1, accuracy: 1e-12)
        XCTAssertEqual(Set((baseline["categories"] as! [String: Any]).keys), ["plain", awkward])

        let dense = syntheticDataset(categories: ["c", "c"])
        let denseJSON = try TestSupport.json(EvaluationReport(dataset: dense, chosenRewards: [1, 0], rejectedRewards: [0, 1]).render(.json))
        let category = ((denseJSON as! [String: Any])["categories"] as! [String: [String: Any]])["c"]!
        XCTAssertEqual(Set(category.keys), metricKeys, "no length baseline without text")
    }

    func test_csv_has_a_header_of_metric_names_and_a_row_per_category_plus_aggregates() throws {
        let lines = try report().render(.csv).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "scope,category,pairs,accuracy,accuracy_ci95_low,accuracy_ci95_high,weighted_accuracy,mean_margin,"
                       + "median_margin,log_loss,brier,ece,reward_mean,reward_std,length_baseline_accuracy")
        XCTAssertEqual(lines.count, 5)
        XCTAssertTrue(lines[1].hasPrefix("category,plain,3,0.6666666666666666,"), lines[1])
        XCTAssertTrue(lines[2].hasPrefix("category,\"x<b>&\"\"y|,z'\",2,0.5,"), "quoted, quotes doubled: \(lines[2])")
        XCTAssertTrue(lines[3].hasPrefix("overall,,5,0.6,"), lines[3])
        XCTAssertTrue(lines[4].hasPrefix("macro,,5,"), lines[4])
    }

    func test_markdown_is_a_github_table_with_escaped_cells() throws {
        let lines = try report().render(.markdown).split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("| category | pairs | accuracy | 95% CI |"), lines[0])
        XCTAssertTrue(lines[1].hasPrefix("| --- | ---: |"), lines[1])
        XCTAssertTrue(lines.contains { $0.hasPrefix(#"| x&lt;b>&amp;"y\|,z' | 2 | 0.500 |"#) }, lines.joined(separator: "\n"))
        let pipes = lines[0].filter { $0 == "|" }.count
        for line in lines.prefix(7) { XCTAssertEqual(line.replacingOccurrences(of: "\\|", with: "").filter { $0 == "|" }.count, pipes, line) }
    }

    func test_table_is_aligned_sorted_and_coloured_only_when_asked() throws {
        let report = try report()
        let plain = report.table(colour: false)
        XCTAssertFalse(plain.contains("\u{1B}["), "no escape codes off a terminal")
        let lines = plain.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("category"))
        XCTAssertTrue(lines[1].hasPrefix("plain") && lines[2].hasPrefix(awkward), "sorted by name")
        XCTAssertTrue(lines.contains { $0.contains("a tie (Δ = 0) counts ½ (--ties half)") }, "the tie policy is stated")
        let width = lines[0].count
        for line in lines.prefix(6) { XCTAssertEqual(line.count, width, "aligned: \(line)") }
        XCTAssertLessThanOrEqual(lines[6].count, width, "the worst row, whose last cells are empty, has no trailing spaces")
        XCTAssertFalse(lines[6].hasSuffix(" "))
        XCTAssertEqual(report.render(.table), plain)

        // An always-right category has an interval above chance: green when colour is on.
        let sure = EvaluationReport(dataset: syntheticDataset(categories: ["c", "c", "c"]), chosenRewards: [1, 1, 1], rejectedRewards: [0, 0, 0])
        XCTAssertTrue(sure.table(colour: true).contains("\u{1B}[32m1.000\u{1B}[0m"))
    }

    func test_html_is_self_contained_well_formed_with_one_svg_per_chart() throws {
        let baseline = EvaluationOptions(bootstrapSamples: 100, baselineRewards: (rejected, rejected))
        let provenance = JSONObject([("training", ["upweight": ["plain": 3.0]]),
                                     ("weights", ["categories": ["plain": ["pairs": 3, "share_before": 0.6, "share_after": 0.8]]])])
        let log = (1...3).map { epoch in
            JSONObject([("epoch", JSONValue(epoch)), ("train_loss", .number(1 / Double(epoch))),
                        ("train_loss_by_category", ["plain": .number(0.9 / Double(epoch)), "x<b>&\"y|,z'": .number(1.1 / Double(epoch))])])
        }
        let full = try report(baseline).html(modelProvenance: provenance, trainingLog: log)
        let bare = try report().html()
        // Charts: accuracy bars, the reliability diagram, a margin histogram per category (2),
        // the weight shares and the training curves when their data is given.
        XCTAssertEqual(full.components(separatedBy: "<svg").count - 1, 1 + 1 + 2 + 1 + 1)
        XCTAssertEqual(full.components(separatedBy: "</svg>").count - 1, 6)
        XCTAssertEqual(bare.components(separatedBy: "<svg").count - 1, 1 + 1 + 2)
        for page in [full, bare] {
            XCTAssertFalse(page.lowercased().contains("http"), "no network references")
            XCTAssertFalse(page.lowercased().contains("<script"))
            XCTAssertFalse(page.contains(awkward), "the category name is escaped everywhere")
            XCTAssertTrue(page.contains("x&lt;b&gt;&amp;&quot;y|,z&#39;"))
            // Well-formed: the page (after the doctype) parses as XML.
            let body = page.replacingOccurrences(of: "<!DOCTYPE html>", with: "")
            let parser = XMLParser(data: Data(body.utf8))
            XCTAssertTrue(parser.parse(), "not well-formed: \(String(describing: parser.parserError))")
        }
        XCTAssertTrue(full.contains("The weighting that trained the model"))
        XCTAssertTrue(full.contains("Training curves"))
        XCTAssertTrue(full.contains("baseline"))
    }

    func test_the_training_log_in_a_model_directory_is_read_strictly() throws {
        let directory = TestSupport.temporaryDirectory(self) + "/model"
        var configuration = TrainingConfiguration()
        configuration.optimizer = .adamw
        configuration.epochs = 2
        let dataset = try TestSupport.read(paths: [TestSupport.fixture("linear-dense-margin/train.jsonl")])
        try ModelDirectory.save(try Trainer.train(dataset, configuration: configuration).trained, to: directory)
        XCTAssertEqual(try ModelDirectory.load(directory).trainingLog.map { $0["epoch"] }, [1, 2])
        guard case .object(let training)? = try ModelDirectory.load(directory).provenance["training"] else { return XCTFail("no training entry") }
        XCTAssertEqual(training["optimizer"], "adamw")
        TestSupport.write("{\"epoch\": 1, \"train_loss\": 0.7}\n\n{\"epoch\": 2, \"train_loss\": 0.5}\n", "training_log.jsonl", in: directory)
        XCTAssertEqual(try ModelDirectory.load(directory).trainingLog.count, 2)
        TestSupport.write("{\"epoch\": 1}\n[1]\n", "training_log.jsonl", in: directory)
        XCTAssertThrowsError(try ModelDirectory.load(directory)) { error in
            XCTAssertEqual((error as? DataError)?.description, "\(directory)/training_log.jsonl:2:1: expected a JSON object per line")
        }
    }
}
