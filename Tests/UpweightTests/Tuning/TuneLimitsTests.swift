import Foundation
import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightData
@testable import UpweightEvaluation
@testable import UpweightTuning

/// `tune`'s grid and folds are checked before any work: a grid too large to expand, folds that
/// cannot all hold every category, fewer than two folds.
final class TuneLimitsTests: XCTestCase {
    /// Twenty keys of ten values: 10^20 candidates overflow a 64-bit count. It drove the machine into
    /// the OOM killer while expanding; now the product is computed first, with overflow checks.
    func test_a_grid_whose_product_overflows_is_refused_before_expanding() throws {
        let grid = JSONObject((0..<20).map { ("key\($0)", .array((0..<10).map { JSONValue($0) })) })
        XCTAssertThrowsError(try CrossValidation.candidates(fromGrid: grid, file: "grid.json")) { error in
            XCTAssertEqual((error as? UsageError)?.message,
                           "grid.json: the grid expands to over 9223372036854775807 candidates, more than --max-candidates (10000); "
                           + "give fewer values or raise --max-candidates")
        }
    }

    func test_the_candidate_limit_counts_the_whole_product_and_can_be_raised() throws {
        let grid = JSONObject((0..<6).map { ("key\($0)", .array((0..<4).map { JSONValue($0) })) })
        XCTAssertThrowsError(try CrossValidation.candidates(fromGrid: grid, file: "grid.json", limit: 1000)) { error in
            XCTAssertEqual((error as? UsageError)?.message,
                           "grid.json: the grid expands to 4096 candidates, more than --max-candidates (1000); "
                           + "give fewer values or raise --max-candidates")
        }
        XCTAssertEqual(try CrossValidation.candidates(fromGrid: grid, file: "grid.json", limit: 4096).count, 4096)
    }

    func test_the_cli_refuses_a_large_grid_and_a_bad_limit_with_exit_64() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = TestSupport.write(pairs(["a": 4, "b": 4]), "data.jsonl", in: directory)
        let values = "[" + (0..<100).map(String.init).joined(separator: ",") + "]"
        let grid = TestSupport.write("{\"l2\": \(values), \"focal-gamma\": \(values), \"seed\": \(values)}", "grid.json", in: directory)
        let large = try TestSupport.run(["tune", data, "--grid", grid, "--out", "\(directory)/winner.json"])
        XCTAssertEqual(large.status, 64)
        XCTAssertEqual(large.stderr, "upweight: \(grid): the grid expands to 1000000 candidates, more than --max-candidates (10000); "
                       + "give fewer values or raise --max-candidates\n")
        let zero = try TestSupport.run(["tune", data, "--grid", grid, "--out", "\(directory)/winner.json", "--max-candidates", "0"])
        XCTAssertEqual(zero.status, 64)
        XCTAssertEqual(zero.stderr, "upweight: --max-candidates: expected a whole number ≥ 1, got 0\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/winner.json"))
    }

    func test_fewer_than_two_or_more_than_1000_folds_are_refused_even_when_negative() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = TestSupport.write(pairs(["a": 4]), "data.jsonl", in: directory)
        let grid = TestSupport.write(#"{"l2": [0.1]}"#, "grid.json", in: directory)
        for folds in ["1", "0", "-3", "1001"] {
            let run = try TestSupport.run(["tune", data, "--grid", grid, "--out", "\(directory)/winner.json", "--folds", folds])
            XCTAssertEqual(run.status, 64)
            XCTAssertEqual(run.stderr, "upweight: --folds: expected a whole number from 2 to 1000, got \(folds)\n")
        }
    }

    func test_more_folds_than_the_smallest_category_names_it_and_its_count() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = TestSupport.write(pairs(["big": 12, "rare": 3, "small": 3]), "data.jsonl", in: directory)
        let grid = TestSupport.write(#"{"l2": [0.1]}"#, "grid.json", in: directory)
        let run = try TestSupport.run(["tune", data, "--grid", grid, "--out", "\(directory)/winner.json", "--folds", "5"])
        XCTAssertEqual(run.status, 64)
        XCTAssertEqual(run.stderr.split(separator: "\n").last.map(String.init),
                       "upweight: --folds 5: category \"rare\" has only 3 pairs, fewer than the folds; use --folds 3 or fewer")
        let fits = try TestSupport.run(["tune", data, "--grid", grid, "--out", "\(directory)/winner.json", "--folds", "3", "--quiet"])
        XCTAssertEqual(fits.status, 0, fits.stderr)
    }

    func test_more_folds_than_pairs_is_refused() throws {
        let dataset = try PreferenceReader.read(bytes: Array(pairs(["a": 3]).utf8), name: "data.jsonl").0
        XCTAssertThrowsError(try CrossValidation.checkFolds(4, fit: dataset)) { error in
            XCTAssertEqual((error as? UsageError)?.message, "--folds 4: the data has only 3 pairs; use --folds 3 or fewer")
        }
        let single = try PreferenceReader.read(bytes: Array((pairs(["a": 5]) + pairs(["lone": 1])).utf8), name: "data.jsonl").0
        XCTAssertThrowsError(try CrossValidation.checkFolds(2, fit: single)) { error in
            XCTAssertEqual((error as? UsageError)?.message,
                           "--folds 2: category \"lone\" has only 1 pair, fewer than the folds; at least 2 are needed")
        }
        let five = try PreferenceReader.read(bytes: Array(pairs(["a": 5]).utf8), name: "data.jsonl").0
        XCTAssertNoThrow(try CrossValidation.checkFolds(5, fit: five))
    }

    /// Explicit text pairs, `count` per category, each pair different.
    private func pairs(_ counts: KeyValuePairs<String, Int>) -> String {
        var lines = ""
        for (category, count) in counts {
            for index in 0..<count {
                lines += "{\"prompt\":\"q\(index)\",\"chosen\":\"good answer \(index) \(category)\",\"rejected\":\"bad \(index)\",\"category\":\"\(category)\"}\n"
            }
        }
        return lines
    }
}
