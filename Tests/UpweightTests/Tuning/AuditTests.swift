import Foundation
import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightData
@testable import UpweightTraining
@testable import UpweightTuning

final class AuditTests: XCTestCase {
    /// Dense synthetic pairs in three categories that disagree (category strength 1), with `flip` of
    /// safety's labels swapped afterwards; returns the file and the ids of the swapped pairs.
    static func planted(flip: Double, pairs: Int = 3000, seed: UInt64 = 11, in directory: String) -> (path: String, flipped: Set<String>) {
        var specification = SyntheticSpecification()
        specification.pairs = pairs
        specification.dimension = 16
        specification.categories = [("general", 0.4), ("safety", 0.3), ("math", 0.3)]
        specification.categoryStrength = 1
        specification.seed = seed
        var random = SplitMix64(seed: seed &+ 1000)
        var flipped = Set<String>()
        var text = ""
        for line in specification.generate().jsonl.split(separator: "\n") {
            guard case .object(var object) = try! JSONParser.parse(String(line)) else { fatalError() }
            if case .string("safety") = object["category"], random.nextUnit() < flip {
                let chosen = object["chosen_features"]
                object["chosen_features"] = object["rejected_features"]
                object["rejected_features"] = chosen
                if case .string(let id) = object["id"] { flipped.insert(id) }
            }
            text += JSONValue.object(object).compactText + "\n"
        }
        return (TestSupport.write(text, "planted.jsonl", in: directory), flipped)
    }

    static func audit(_ path: String, top: Int = 20) throws -> NoiseAudit {
        let dataset = try TestSupport.read(paths: [path])
        return try NoiseAudit.run(dataset: dataset, configuration: TrainingConfiguration(), folds: 5, top: top, threads: 2)
    }

    /// Measured (seeds 11, 12, 13): safety's share below 0.5 is 0.37–0.42 against 0.16–0.19 in the
    /// others, its flip estimate 0.31–0.37, and 20, 19 and 13 of the top 20 suspects are flipped
    /// pairs (9% of all pairs are).
    func test_a_category_with_flipped_labels_is_flagged_and_its_flipped_pairs_rank_first() throws {
        var caughtInAll = 0
        for seed: UInt64 in [11, 12, 13] {
            let (path, flipped) = Self.planted(flip: 0.3, seed: seed, in: TestSupport.temporaryDirectory(self))
            let audit = try Self.audit(path)
            let byName = Dictionary(uniqueKeysWithValues: audit.categories.map { ($0.name, $0) })
            let safety = try XCTUnwrap(byName["safety"])
            let caught = audit.suspects.filter { flipped.contains($0.id ?? "") }.count
            print("planted 30% flips in safety, seed \(seed): flipped among the top \(audit.suspects.count): \(caught)\n" + audit.table)
            XCTAssertEqual(safety.status, .noisy)
            for name in ["general", "math"] {
                XCTAssertNotEqual(byName[name]?.status, .noisy, name)
                XCTAssertGreaterThan(safety.belowShare!, byName[name]!.belowShare! + 0.1, name)
            }
            XCTAssertEqual(safety.flipEstimate!, 0.3, accuracy: 0.1)
            XCTAssertEqual(audit.suspects.count, 20)
            XCTAssertGreaterThanOrEqual(caught, 12)
            caughtInAll += caught
            // Suspects come lowest q first and name where the pair is.
            XCTAssertEqual(audit.suspects.map(\.corrected), audit.suspects.map(\.corrected).sorted())
            let first = audit.suspects[0]
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            XCTAssertTrue(lines[first.line - 1].contains("\"\(first.id!)\""))
            XCTAssertEqual(first.file, path)
        }
        XCTAssertGreaterThanOrEqual(caughtInAll, 48)  // 80% of the 60
    }

    func test_clean_data_flags_nothing() throws {
        for seed: UInt64 in [11, 12, 13] {
            let (path, _) = Self.planted(flip: 0, seed: seed, in: TestSupport.temporaryDirectory(self))
            let audit = try Self.audit(path)
            print("clean, seed \(seed):\n" + audit.table)
            XCTAssertFalse(audit.categories.contains { $0.status == .noisy }, audit.table)
        }
    }

    func test_z_test_and_flip_estimate_formulas() {
        XCTAssertEqual(NoiseAudit.twoProportionZ(30, 100, 10, 100), 3.54, accuracy: 0.01)
        XCTAssertEqual(NoiseAudit.twoProportionZ(10, 100, 10, 100), 0)
    }

    func test_command_line_formats_and_small_categories() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let (path, _) = Self.planted(flip: 0.3, pairs: 1500, in: directory)
        // A fourth category of 10 pairs (the first 10 lines relabelled): reported, not audited.
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let tiny = lines.prefix(10).map { $0.replacingOccurrences(of: "\"category\":\"general\"", with: "\"category\":\"tiny\"")
            .replacingOccurrences(of: "\"category\":\"safety\"", with: "\"category\":\"tiny\"")
            .replacingOccurrences(of: "\"category\":\"math\"", with: "\"category\":\"tiny\"") }
        let mixed = TestSupport.write((tiny + lines.dropFirst(10).map(String.init)).joined(separator: "\n") + "\n", "mixed.jsonl", in: directory)
        let table = try TestSupport.run(["audit", mixed, "--top", "5"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stderr.contains("warning: category \"tiny\" has 10 pairs, fewer than 30: too small to audit"), table.stderr)
        XCTAssertTrue(table.stdout.contains("too small to audit"), table.stdout)
        XCTAssertTrue(table.stdout.contains("noisy"), table.stdout)

        let json = try TestSupport.run(["audit", mixed, "--top", "5", "--format", "json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try TestSupport.json(json.stdout) as! [String: Any]
        XCTAssertEqual((object["suspects"] as! [[String: Any]]).count, 5)
        let categories = object["categories"] as! [[String: Any]]
        XCTAssertEqual(categories.map { $0["name"] as! String }, ["general", "math", "safety", "tiny"])
        XCTAssertEqual(categories[2]["status"] as? String, "noisy")
        XCTAssertEqual(categories[3]["status"] as? String, "too small to audit")
        XCTAssertTrue(categories[3]["below_half_share"] is NSNull)

        let csv = try TestSupport.run(["audit", mixed, "--top", "3", "--format", "csv", "--quiet"])
        XCTAssertEqual(csv.status, 0, csv.stderr)
        XCTAssertEqual(csv.stderr, "")
        let rows = csv.stdout.split(separator: "\n")
        XCTAssertEqual(rows.count, 4)
        XCTAssertEqual(rows[0], "q,p,category,id,file,line")

        // Every category too small: an error, not an empty audit.
        let small = TestSupport.write(tiny.joined(separator: "\n") + "\n", "small.jsonl", in: directory)
        let refused = try TestSupport.run(["audit", small, "--folds", "2"])
        XCTAssertEqual(refused.status, 65)
        XCTAssertEqual(refused.stderr.split(separator: "\n").last.map(String.init),
                       "\(small): no category has 30 pairs or more: too small to audit")

        let empty = TestSupport.write("", "empty.jsonl", in: directory)
        let emptyRun = try TestSupport.run(["audit", empty])
        XCTAssertEqual(emptyRun.status, 65)
        XCTAssertEqual(emptyRun.stderr, "\(empty): no pairs: the file is empty or holds only blank lines\n")

        let badFolds = try TestSupport.run(["audit", mixed, "--folds", "1"])
        XCTAssertEqual(badFolds.status, 64)
        XCTAssertEqual(badFolds.stderr, "upweight: --folds: expected a whole number from 2 to 1000, got 1\n")
    }
}
