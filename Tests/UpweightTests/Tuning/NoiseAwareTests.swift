import Foundation
import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightData
@testable import UpweightWeighting
@testable import UpweightTraining
@testable import UpweightTuning

/// `--noise-aware drop|downweight` on planted data: 30% of safety's labels swapped (AuditTests.planted).
final class NoiseAwareTests: XCTestCase {
    static func configuration(_ mode: NoiseAwareMode) -> TrainingConfiguration {
        var configuration = TrainingConfiguration()
        configuration.noiseAware = mode
        return configuration
    }

    /// Measured (seeds 11, 12): safety loses round(f̂·n) pairs (274 and 348 of about 900), 66% and
    /// 60% of them swapped ones (30% of its pairs are); the floor category loses none.
    func test_drop_removes_mostly_flipped_pairs_from_the_noisy_category_only() throws {
        for seed: UInt64 in [11, 12] {
            let (path, flipped) = AuditTests.planted(flip: 0.3, seed: seed, in: TestSupport.temporaryDirectory(self))
            let dataset = try TestSupport.read(paths: [path])
            let prepared = try NoiseAwareTraining.prepare(dataset, configuration: Self.configuration(.drop), threads: 2)
            let audit = try XCTUnwrap(prepared.audit)
            let kept = Set((0..<prepared.training.count).compactMap { prepared.training.ids[$0] })
            let dropped = (0..<dataset.count).filter { !kept.contains(dataset.ids[$0]!) }
            let safety = try XCTUnwrap(audit.categories.first { $0.name == "safety" })
            let safetyPairs = dataset.categoryCounts[dataset.categoryNames.firstIndex(of: "safety")!]
            let droppedSafety = dropped.filter { dataset.category(of: $0) == "safety" }
            let precision = Double(droppedSafety.filter { flipped.contains(dataset.ids[$0]!) }.count) / Double(droppedSafety.count)
            print("seed \(seed): dropped \(dropped.count), safety \(droppedSafety.count) (f̂ \(safety.flipEstimate!)), flipped among them \(precision)")
            XCTAssertEqual(droppedSafety.count, Int((safety.flipEstimate! * Double(safetyPairs)).rounded()))
            XCTAssertGreaterThanOrEqual(precision, 0.55)
            XCTAssertEqual(dropped.count, droppedSafety.count, "only the category flagged noisy acts")
            XCTAssertEqual(prepared.adjustment.factors, [Double](repeating: 1, count: prepared.training.count))
            XCTAssertEqual(prepared.adjustment.summary["pairs_dropped"], JSONValue(dropped.count))
            XCTAssertTrue(prepared.notes.contains("noise-aware drop: safety: \(plural(safetyPairs, "pair", "pairs")), flip estimate \(fixed(safety.flipEstimate!, 3)) (z \(fixed(safety.z!, 1)), noisy): dropped \(droppedSafety.count)"),
                          prepared.notes.joined(separator: "\n"))
        }
    }

    /// Measured (seed 11): swapped safety pairs get a mean factor of 0.51, the others 1.16.
    func test_downweight_gives_flipped_pairs_the_smaller_factors() throws {
        let (path, flipped) = AuditTests.planted(flip: 0.3, seed: 11, in: TestSupport.temporaryDirectory(self))
        let dataset = try TestSupport.read(paths: [path])
        let prepared = try NoiseAwareTraining.prepare(dataset, configuration: Self.configuration(.downweight), threads: 2)
        var factorById: [String: Double] = [:]
        for pair in 0..<prepared.training.count { factorById[prepared.training.ids[pair]!] = prepared.adjustment.factors[pair] }
        func meanFactor(_ pairs: [Int]) -> Double { pairs.reduce(0) { $0 + (factorById[dataset.ids[$1]!] ?? 0) } / Double(pairs.count) }
        let safety = (0..<dataset.count).filter { dataset.category(of: $0) == "safety" }
        let swapped = meanFactor(safety.filter { flipped.contains(dataset.ids[$0]!) })
        let kept = meanFactor(safety.filter { !flipped.contains(dataset.ids[$0]!) })
        print("downweight: mean factor of swapped safety pairs \(swapped), of the others \(kept)")
        XCTAssertLessThan(swapped, 0.65)
        XCTAssertGreaterThan(kept, 1.05)
        XCTAssertLessThan(swapped, kept / 2)
        // E_noisy[β] = 1: the category keeps about its total weight.
        XCTAssertEqual(meanFactor(safety), 1, accuracy: 0.15)
        let floor = (0..<dataset.count).filter { dataset.category(of: $0) == prepared.audit!.floorCategory }
        XCTAssertEqual(meanFactor(floor), 1)
    }

    /// `train --noise-aware`: the audit sees the training pairs only (not the held-out ones), the
    /// summary lands in config.json, and the model's bytes do not depend on the thread count.
    func test_train_records_the_audit_and_is_deterministic_across_threads() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let (path, _) = AuditTests.planted(flip: 0.3, pairs: 1500, seed: 11, in: directory)
        var models: [Data] = []
        for threads in ["1", "2"] {
            let out = "\(directory)/model-\(threads)"
            let report = "\(directory)/report-\(threads).html"
            let run = try TestSupport.run(["train", path, "--noise-aware", "drop", "--holdout", "0.2", "--threads", threads, "--out", out,
                                           "--format", "json", "--report", report])
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertTrue(run.stderr.contains("noise-aware drop: safety: "), run.stderr)
            models.append(try Data(contentsOf: URL(fileURLWithPath: "\(out)/model.safetensors")))
            let config = try TestSupport.json(String(contentsOfFile: "\(out)/config.json", encoding: .utf8)) as! [String: Any]
            XCTAssertEqual((config["training"] as! [String: Any])["noise-aware"] as? String, "drop")
            let audit = config["noise_audit"] as! [String: Any]
            XCTAssertEqual(audit["mode"] as? String, "drop")
            let categories = audit["categories"] as! [[String: Any]]
            let audited = categories.reduce(0) { $0 + ($1["pairs"] as! Int) }
            let dropped = categories.reduce(0) { $0 + ($1["dropped"] as! Int) }
            XCTAssertEqual(audit["pairs_dropped"] as? Int, dropped)
            let data = config["data"] as! [String: Any]
            // The audit saw the training pairs only: those that trained plus those it dropped.
            XCTAssertEqual(data["pairs"] as? Int, audited - dropped)
            let heldOut = (try TestSupport.json(run.stdout) as! [String: Any])["overall"] as! [String: Any]
            XCTAssertEqual(audited + (heldOut["pairs"] as! Int), 1500)
            let safety = try XCTUnwrap(categories.first { $0["name"] as? String == "safety" })
            XCTAssertEqual(safety["status"] as? String, "noisy")
            // The report shows the same audit.
            let page = try String(contentsOfFile: report, encoding: .utf8)
            XCTAssertTrue(page.contains("<h2>Label audit (--noise-aware drop)</h2>"))
            XCTAssertTrue(page.contains("<tr><td>safety</td><td>\(safety["pairs"] as! Int)</td><td>\(fixed(safety["below_half_share"] as! Double, 3))</td><td>\(fixed(safety["flip_estimate"] as! Double, 3))</td><td>\(fixed(safety["z"] as! Double, 1))</td><td>noisy</td><td>\(safety["dropped"] as! Int)</td><td>0</td>"), page)
        }
        XCTAssertEqual(models[0], models[1])
    }

    /// The warning on `--upweight NAME=F` for a noisy category, with the numbers of the quick
    /// audit (3 folds, every category cut to the smallest's size) run through the library; none on
    /// clean data, none for F ≤ 1.
    func test_upweighting_a_noisy_category_warns_with_the_estimate() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let (noisy, _) = AuditTests.planted(flip: 0.3, seed: 11, in: directory)
        let sample = NoiseAudit.sizeMatched(try TestSupport.read(paths: [noisy]), seed: 0)
        XCTAssertEqual(Set(sample.categoryCounts).count, 1, "every category the same size")
        let audit = try NoiseAudit.run(dataset: sample, configuration: TrainingConfiguration(), folds: 3, top: 0, threads: 1)
        let safety = try XCTUnwrap(audit.categories.first { $0.name == "safety" })
        XCTAssertEqual(safety.flipEstimate!, 0.3, accuracy: 0.1)
        let expected = "warning: --upweight safety=4 amplifies a category whose labels look noisy: estimated \(fixed(100 * safety.flipEstimate!, 0))% flipped "
            + "(share below 0.5: \(fixed(safety.belowShare!, 2)) against \(fixed(audit.floor, 2)) in \(audit.floorCategory), "
            + "z \(fixed(safety.z!, 0))); see upweight audit, or --noise-aware drop"
        let warned = try TestSupport.run(["train", noisy, "--upweight", "safety=4"])
        XCTAssertEqual(warned.status, 0, warned.stderr)
        XCTAssertEqual(warned.stderr.split(separator: "\n").filter { $0.contains("amplifies") }, [Substring(expected)], warned.stderr)
        print(expected)

        let gentle = try TestSupport.run(["train", noisy, "--upweight", "safety=0.5", "--upweight", "general=3"])
        XCTAssertEqual(gentle.status, 0, gentle.stderr)
        XCTAssertFalse(gentle.stderr.contains("amplifies"), gentle.stderr)
        let cleanDirectory = TestSupport.temporaryDirectory(self) + "/clean"
        try FileManager.default.createDirectory(atPath: cleanDirectory, withIntermediateDirectories: true)
        let (clean, _) = AuditTests.planted(flip: 0, seed: 11, in: cleanDirectory)
        let quiet = try TestSupport.run(["train", clean, "--upweight", "safety=4"])
        XCTAssertEqual(quiet.status, 0, quiet.stderr)
        XCTAssertFalse(quiet.stderr.contains("amplifies"), quiet.stderr)
        // Clean text whose categories differ in size (3339, 982, 496 training pairs): the audit of
        // every pair would flag safety; the size-matched check does not.
        let text = try TestSupport.run(["train", TestSupport.data("synthetic-text.jsonl"), "--train-split", "train", "--upweight", "safety=4",
                                        "--hash-bits", "16"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertFalse(text.stderr.contains("amplifies"), text.stderr)
    }

    /// Clean labels: no category is flagged, so nothing changes — the same model bytes as without.
    func test_clean_data_trains_the_same_model_as_without() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let (clean, _) = AuditTests.planted(flip: 0, pairs: 1500, seed: 11, in: directory)
        var models: [Data] = []
        for mode in ["off", "drop", "downweight"] {
            let out = "\(directory)/model-\(mode)"
            let run = try TestSupport.run(["train", clean, "--noise-aware", mode, "--out", out])
            XCTAssertEqual(run.status, 0, run.stderr)
            if mode != "off" { XCTAssertFalse(run.stderr.contains("noisy)"), run.stderr) }
            models.append(try Data(contentsOf: URL(fileURLWithPath: "\(out)/model.safetensors")))
        }
        XCTAssertEqual(models[1], models[0])
        XCTAssertEqual(models[2], models[0])
    }

    func test_bad_values_and_categories_too_small_to_audit() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let (path, _) = AuditTests.planted(flip: 0.3, pairs: 1500, seed: 11, in: directory)
        let bad = try TestSupport.run(["train", path, "--noise-aware", "dropp"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.hasPrefix("Error: The value 'dropp' is invalid for '--noise-aware <noise-aware>'. Please provide one of 'off', 'drop' or 'downweight'."), bad.stderr)
        let config = TestSupport.write(#"{"noise-aware": true}"#, "bad.json", in: directory)
        let badKey = try TestSupport.run(["train", path, "--config", config])
        XCTAssertEqual(badKey.status, 64)
        XCTAssertEqual(badKey.stderr, "upweight: \(config): key \"noise-aware\": expected one of \"off\", \"drop\", \"downweight\", got true\n")

        // audit only reports: --noise-aware there is named as ignored.
        let audit = try TestSupport.run(["audit", path, "--noise-aware", "drop", "--top", "0"])
        XCTAssertEqual(audit.status, 0, audit.stderr)
        XCTAssertTrue(audit.stderr.contains("warning: --noise-aware drop is ignored: audit only reports (train --noise-aware acts on the audit)\n"), audit.stderr)

        // 20 pairs in each category: nothing to audit, so nothing changes, and the run says so.
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        var counts: [String: Int] = [:]
        let small = lines.filter { line in
            let category = ["general", "safety", "math"].first { line.contains("\"category\":\"\($0)\"") }!
            counts[category, default: 0] += 1
            return counts[category]! <= 20
        }
        let smallPath = TestSupport.write(small.joined(separator: "\n") + "\n", "small.jsonl", in: directory)
        let out = "\(directory)/small-model"
        let run = try TestSupport.run(["train", smallPath, "--noise-aware", "downweight", "--out", out])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("\nwarning: --noise-aware downweight did nothing: no category has 30 pairs or more to audit\n"), run.stderr)
        let saved = try TestSupport.json(String(contentsOfFile: "\(out)/config.json", encoding: .utf8)) as! [String: Any]
        XCTAssertEqual((saved["noise_audit"] as! [String: Any])["audited"] as? Bool, false)
        XCTAssertEqual((saved["data"] as! [String: Any])["pairs"] as? Int, 60)
    }

    /// `tune` searches `noise-aware` like any other key; each fold's audit sees that fold's training part.
    func test_tune_searches_noise_aware() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let (path, _) = AuditTests.planted(flip: 0.3, pairs: 1500, seed: 11, in: directory)
        let grid = TestSupport.write(#"{"noise-aware": ["off", "drop", "downweight"], "upweight": [{"safety": 1}, {"safety": 4}]}"#, "grid.json", in: directory)
        let run = try TestSupport.run(["tune", path, "--folds", "3", "--objective", "category:safety", "--grid", grid,
                                       "--out", "\(directory)/best.json", "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderr)
        print(run.stdout)
        for mode in ["off", "drop", "downweight"] { XCTAssertTrue(run.stdout.contains(mode), run.stdout) }
        let best = try TestSupport.json(String(contentsOfFile: "\(directory)/best.json", encoding: .utf8)) as! [String: Any]
        XCTAssertNotNil(best["noise-aware"])

        // The audits tune uses: fold k's is of the pairs outside fold k, whatever the candidate.
        let dataset = try TestSupport.read(paths: [path])
        var configurations = [NoiseAwareMode.drop, .downweight].map { Self.configuration($0) }
        configurations[1].weighting.upweight = ["safety": 4]
        let assignment = groupedFolds(dataset, folds: 3, seed: 0, keys: dataset.groupKeys(by: .prompt))
        let audits = try FoldAudits(configurations: configurations, dataset: dataset, assignment: assignment, folds: 3, threads: 2, reporter: .silent)
        let train = dataset.subset((0..<dataset.count).filter { assignment[$0] != 1 })
        let prepared = try XCTUnwrap(audits.prepared(train, configuration: configurations[0], fold: 1))
        let direct = try NoiseAwareTraining.prepare(train, configuration: configurations[0], threads: 1)
        XCTAssertEqual(prepared.adjustment.factors, direct.adjustment.factors)
        XCTAssertEqual(prepared.training.count, direct.training.count)
        XCTAssertLessThan(prepared.training.count, train.count, "safety's flipped pairs are dropped")
        XCTAssertEqual(prepared.audit?.probabilities, direct.audit?.probabilities)
        XCTAssertNil(audits.prepared(train, configuration: TrainingConfiguration(), fold: 1))
    }
}
