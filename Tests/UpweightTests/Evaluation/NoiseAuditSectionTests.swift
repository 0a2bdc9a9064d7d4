import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import UpweightIO
@testable import UpweightData
@testable import UpweightEvaluation

/// The report's label-audit section, from config.json's "noise_audit".
final class NoiseAuditSectionTests: XCTestCase {
    let report = EvaluationReport(dataset: syntheticDataset(categories: ["a", "b", "a", "b"]),
                                  chosenRewards: [1, -1, 2, 0.5], rejectedRewards: [0, 0, 0, 0])

    func test_the_audit_table_is_shown_escaped_and_absent_without_an_audit() throws {
        let category: JSONValue = ["name": "<s&f>", "pairs": 900, "status": "noisy", "below_half_share": 0.3912, "flip_estimate": 0.3121,
                                   "z": 12.04, "dropped": 281, "downweighted": 0, "mean_factor": 0.6878]
        let floor: JSONValue = ["name": "general", "pairs": 1200, "status": "floor", "below_half_share": 0.16, "flip_estimate": 0,
                                "z": .null, "dropped": 0, "downweighted": 0, "mean_factor": 1]
        let audit: JSONValue = ["mode": "drop", "folds": 5, "floor": 0.16, "floor_category": "general", "categories": [category, floor]]
        let page = report.html(modelProvenance: JSONObject([("noise_audit", audit)]))
        XCTAssertTrue(page.contains("<h2>Label audit (--noise-aware drop)</h2>"))
        XCTAssertTrue(page.contains("(0.160, general)"))
        XCTAssertTrue(page.contains("<tr><td>&lt;s&amp;f&gt;</td><td>900</td><td>0.391</td><td>0.312</td><td>12.0</td><td>noisy</td><td>281</td><td>0</td><td>0.688</td></tr>"), page)
        XCTAssertTrue(page.contains("<tr><td>general</td><td>1200</td><td>0.160</td><td>0.000</td><td>-</td><td>floor</td><td>0</td><td>0</td><td>1.000</td></tr>"), page)
        let parser = XMLParser(data: Data(page.replacingOccurrences(of: "<!DOCTYPE html>", with: "").utf8))
        XCTAssertTrue(parser.parse(), "not well-formed: \(String(describing: parser.parserError))")

        XCTAssertFalse(report.html(modelProvenance: JSONObject()).contains("Label audit"))
        let nothing: JSONValue = ["mode": "downweight", "audited": false, "reason": "no category has 30 pairs or more"]
        XCTAssertTrue(report.html(modelProvenance: JSONObject([("noise_audit", nothing)]))
            .contains("<p class=\"note\">Nothing was audited: no category has 30 pairs or more; every training pair trained as it was.</p>"))
    }
}
