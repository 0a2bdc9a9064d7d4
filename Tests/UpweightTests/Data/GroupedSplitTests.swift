import Foundation
import XCTest
@testable import UpweightData
@testable import UpweightEvaluation
@testable import UpweightTraining

/// Held-out splits and folds keep pairs that share a prompt (or a group field) on one side.
final class GroupedSplitTests: XCTestCase {
    /// 3 categories × 60 prompts, each prompt with 1 to 4 pairs (prompt p has p % 4 + 1), 450 pairs.
    private func repeatedPrompts(in directory: String, field: String? = nil) -> String {
        var lines: [String] = []
        for category in ["chat", "code", "safety"] {
            for prompt in 0..<60 {
                for variant in 0...(prompt % 4) {
                    let group = field.map { ",\"\($0)\":\"\(category)-\(prompt)\"" } ?? ""
                    lines.append(#"{"prompt":"\#(category) question \#(prompt)","chosen":"good \#(variant)","rejected":"bad \#(variant)","category":"\#(category)"\#(group)}"#)
                }
            }
        }
        return TestSupport.write(lines.joined(separator: "\n") + "\n", "repeated.jsonl", in: directory)
    }

    private func prompts(_ dataset: PreferenceDataset) -> [String] {
        guard case .text(let prompts, _, _) = dataset.responses else { return [] }
        return Array(prompts)
    }

    func test_group_hash_ignores_case_and_spacing_and_keeps_zero_for_empty() {
        XCTAssertEqual(groupHash(of: "Hello  World".utf8), groupHash(of: " hello\tworld\n".utf8))
        XCTAssertNotEqual(groupHash(of: "hello world".utf8), groupHash(of: "helloworld".utf8))
        XCTAssertEqual(groupHash(of: "".utf8), 0)
        XCTAssertEqual(groupHash(of: " \n ".utf8), 0)
        // FNV-1a of "a": the published 64-bit test vector.
        XCTAssertEqual(groupHash(of: "A".utf8), 0xAF63_DC4C_8601_EC8C)
    }

    func test_holdout_keeps_every_prompt_on_one_side_and_category_shares_near_the_fraction() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let dataset = try TestSupport.read(paths: [repeatedPrompts(in: directory)])
        XCTAssertEqual(dataset.count, 450)
        let keys = try XCTUnwrap(dataset.groupKeys(by: .prompt))
        XCTAssertEqual(PreferenceDataset.groupCount(keys), 180)
        let split = groupedHoldout(dataset, fraction: 0.2, seed: 7, keys: keys)
        XCTAssertEqual((split.train + split.heldOut).sorted(), Array(0..<450))
        let all = prompts(dataset)
        XCTAssertTrue(Set(split.train.map { all[$0] }).isDisjoint(with: split.heldOut.map { all[$0] }))
        for category in 0..<3 {
            let total = (0..<450).filter { dataset.categoryIndices[$0] == category }.count
            let held = split.heldOut.filter { dataset.categoryIndices[$0] == category }.count
            XCTAssertEqual(Double(held) / Double(total), 0.2, accuracy: 0.02, "category \(dataset.categoryNames[category])")
        }
        // The same seed gives the same split; another seed another one.
        XCTAssertEqual(groupedHoldout(dataset, fraction: 0.2, seed: 7, keys: keys).heldOut, split.heldOut)
        XCTAssertNotEqual(groupedHoldout(dataset, fraction: 0.2, seed: 8, keys: keys).heldOut, split.heldOut)
    }

    func test_folds_keep_every_prompt_in_one_fold_and_balance_categories() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let dataset = try TestSupport.read(paths: [repeatedPrompts(in: directory)])
        let folds = groupedFolds(dataset, folds: 5, seed: 3, keys: dataset.groupKeys(by: .prompt))
        var foldOfPrompt: [String: Int] = [:]
        for (pair, prompt) in prompts(dataset).enumerated() {
            XCTAssertEqual(foldOfPrompt[prompt, default: folds[pair]], folds[pair], "prompt \(prompt) split across folds")
            foldOfPrompt[prompt] = folds[pair]
        }
        for category in 0..<3 {
            let pairs = (0..<450).filter { dataset.categoryIndices[$0] == category }
            for fold in 0..<5 {
                let share = Double(pairs.filter { folds[$0] == fold }.count) / Double(pairs.count)
                XCTAssertEqual(share, 0.2, accuracy: 0.03, "category \(category) fold \(fold)")
            }
        }
    }

    func test_data_without_shared_prompts_splits_exactly_as_the_stratified_split() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let lines = (0..<200).map { #"{"prompt":"q\#($0)","chosen":"a","rejected":"b","category":"c\#($0 % 3)"}"# }
        let dataset = try TestSupport.read(paths: [TestSupport.write(lines.joined(separator: "\n"), "unique.jsonl", in: directory)])
        XCTAssertNil(dataset.groupKeys(by: .prompt))
        let grouped = groupedHoldout(dataset, fraction: 0.25, seed: 1, keys: dataset.groupKeys(by: .prompt))
        let plain = stratifiedHoldout(dataset, fraction: 0.25, seed: 1)
        XCTAssertTrue(grouped.heldOut == plain.heldOut && grouped.heldOut.count == 51)
    }

    func test_a_group_field_groups_dense_and_text_pairs_and_a_wrong_type_is_located() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let dense = TestSupport.write("""
            {"chosen_features":[1,0],"rejected_features":[0,1],"conversation":7}
            {"chosen_features":[1,1],"rejected_features":[0,1],"conversation":"7"}
            {"chosen_features":[0,1],"rejected_features":[1,1],"conversation":8}
            {"chosen_features":[0,2],"rejected_features":[1,1]}

            """, "dense.jsonl", in: directory)
        let dataset = try TestSupport.read(paths: [dense]) { $0.fields.group = "conversation" }
        let keys = try XCTUnwrap(dataset.groupKeys(by: .field("conversation")))
        XCTAssertEqual(keys[0], keys[1])  // 7 and "7" are one conversation
        XCTAssertNotEqual(keys[0], keys[2])
        XCTAssertEqual(keys[3], 0)
        XCTAssertEqual(PreferenceDataset.groupCount(keys), 3)

        let bad = TestSupport.write(#"{"prompt":"p","chosen":"a","rejected":"b","conversation":[1]}"# + "\n", "bad.jsonl", in: directory)
        let run = try TestSupport.run(["train", bad, "--group-by", "conversation", "--holdout", "0.5"])
        XCTAssertEqual(run.status, 65)
        XCTAssertTrue(run.stderr.hasSuffix("\n\(bad):1:58: expected a string or an integer, got an array (field conversation)\n"), run.stderr)
    }

    func test_dense_lines_group_by_their_prompt_field() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let dense = TestSupport.write("""
            {"prompt":"Q1","chosen_features":[1,0],"rejected_features":[0,1]}
            {"prompt":"q1","chosen_features":[1,1],"rejected_features":[0,1]}
            {"prompt":"Q2","chosen_features":[0,1],"rejected_features":[1,1]}

            """, "dense.jsonl", in: directory)
        var configuration = TrainingConfiguration()
        let dataset = try PreferenceReader.read(paths: [dense], options: configuration.readingWithGroups).0
        let keys = try XCTUnwrap(dataset.groupKeys(by: .prompt))
        XCTAssertEqual(keys[0], keys[1])
        XCTAssertNotEqual(keys[1], keys[2])
        configuration.grouping = .none
        XCTAssertNil(configuration.readingWithGroups.fields.group)
    }

    func test_train_and_tune_say_how_pairs_were_grouped() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = repeatedPrompts(in: directory, field: "thread")
        let grouped = try TestSupport.run(["train", data, "--holdout", "0.2"])
        XCTAssertEqual(grouped.status, 0, grouped.stderr)
        XCTAssertTrue(grouped.stderr.contains("held out 90 of 450 pairs, grouped by prompt (180 groups; no group on both sides)\n"), grouped.stderr)
        let byField = try TestSupport.run(["train", data, "--holdout", "0.2", "--group-by", "thread"])
        XCTAssertTrue(byField.stderr.contains(", grouped by thread (180 groups; no group on both sides)\n"), byField.stderr)
        let none = try TestSupport.run(["train", data, "--holdout", "0.2", "--group-by", "none"])
        XCTAssertTrue(none.stderr.contains("held out 90 of 450 pairs, split by pair (--group-by none) (warning: 405 pairs share a prompt with another and may sit on both sides)\n"), none.stderr)

        let grid = TestSupport.write(#"{"l2": [0.001, 0.01]}"#, "grid.json", in: directory)
        let tune = try TestSupport.run(["tune", data, "--grid", grid, "--folds", "3", "--out", "\(directory)/best.json"])
        XCTAssertEqual(tune.status, 0, tune.stderr)
        XCTAssertTrue(tune.stderr.contains("folds: 450 pairs, grouped by prompt (180 groups; no group on both sides)\n"), tune.stderr)
    }
}

/// The model directory keeps hashes of its training texts; eval counts the pairs it has seen.
final class ContaminationTests: XCTestCase {
    func test_fingerprints_round_trip_and_a_damaged_file_is_refused() throws {
        let fingerprints = TextFingerprints(prompts: [5, 3, 3, 0, 9], responses: [2, 1])
        XCTAssertEqual(fingerprints.prompts, [3, 5, 9])
        XCTAssertTrue(fingerprints.containsPrompt(5))
        XCTAssertFalse(fingerprints.containsPrompt(4))
        XCTAssertFalse(fingerprints.containsPrompt(0))
        XCTAssertEqual(try TextFingerprints(decoding: fingerprints.encoded, file: "h.bin"), fingerprints)
        var wrongCount = fingerprints.encoded
        wrongCount[8] = 200
        XCTAssertThrowsError(try TextFingerprints(decoding: wrongCount, file: "h.bin")) { error in
            XCTAssertEqual("\(error)", "h.bin: not an Upweight hash file: the counts (200 prompts, 2 responses) do not match the file's 64 bytes")
        }
        var unsorted = fingerprints.encoded
        unsorted.swapAt(24, 32)
        XCTAssertThrowsError(try TextFingerprints(decoding: unsorted, file: "h.bin")) { error in
            XCTAssertEqual("\(error)", "h.bin: not an Upweight hash file: hashes out of order")
        }
    }

    func test_eval_counts_pairs_that_share_a_prompt_or_a_response_with_training() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let train = TestSupport.write("""
            {"prompt":"What is 2+2?","chosen":"4","rejected":"5","category":"math"}
            {"prompt":"Say hi","chosen":"hi there","rejected":"go away","category":"chat"}

            """, "train.jsonl", in: directory)
        let evaluation = TestSupport.write("""
            {"prompt":"what is  2+2?","chosen":"four","rejected":"five","category":"math"}
            {"prompt":"Name a colour","chosen":"Hi There","rejected":"no","category":"chat"}
            {"prompt":"Name a fruit","chosen":"apple","rejected":"stone","category":"chat"}

            """, "eval.jsonl", in: directory)
        XCTAssertEqual(try TestSupport.run(["train", train, "--out", "\(directory)/model", "--quiet"]).status, 0)
        let run = try TestSupport.run(["eval", "\(directory)/model", evaluation, "--format", "json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stderr, """
            note: \(evaluation): shape explicit (prompt/chosen/rejected strings), 3 pairs
            warning: 1 of 3 evaluation pairs share a prompt and 1 a response with the training data (the model has seen them)
              math: 1 of 1 share a prompt, 0 a response
              chat: 0 of 2 share a prompt, 1 a response

            """)
        let clean = try TestSupport.run(["eval", "\(directory)/model", TestSupport.write(#"{"prompt":"x","chosen":"y","rejected":"z"}"#, "c.jsonl", in: directory), "--format", "json"])
        XCTAssertEqual(clean.stderr, """
            note: \(directory)/c.jsonl: shape explicit (prompt/chosen/rejected strings), 1 pair
            contamination check: 1 evaluation pair, none sharing a prompt or a response with the training data

            """)
    }
}

/// The held-out set is recorded in the model directory: evaluated again exactly, and written out.
final class HeldOutRecordTests: XCTestCase {
    func test_ranges_round_trip_and_malformed_ranges_are_refused() {
        XCTAssertEqual(HeldOutRecord.ranges(of: [1, 2, 3, 7, 10, 11]), [1...3, 7...7, 10...11])
        XCTAssertEqual(HeldOutRecord.lines("1-3,7,10-11"), [1...3, 7...7, 10...11])
        XCTAssertEqual(HeldOutRecord.lines(""), [])
        for bad in ["0-2", "3-1", "1-3,2", "1-3,4", "1,,2", "a", "1-2-3", "1-99999999999"] {
            XCTAssertNil(HeldOutRecord.lines(bad), bad)
        }
    }

    func test_eval_holdout_of_evaluates_on_exactly_the_held_out_pairs_and_save_split_writes_them() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let data = TestSupport.data("llmbar.jsonl")
        let train = try TestSupport.run(["train", data, "--holdout", "0.2", "--seed", "4", "--hash-bits", "12", "--format", "json",
                                         "--out", "\(directory)/a", "--save-split", "\(directory)/split", "--quiet"])
        XCTAssertEqual(train.status, 0, train.stderr)
        let trainReport = try TestSupport.json(train.stdout) as! [String: Any]
        let heldOutCount = (trainReport["overall"] as! [String: Any])["pairs"] as! Int

        // Written-out split: every line of the data file exactly once, the held-out ones apart.
        let original = try String(contentsOfFile: data, encoding: .utf8).split(separator: "\n").map(String.init)
        let heldOutLines = try String(contentsOfFile: "\(directory)/split/held_out.jsonl", encoding: .utf8).split(separator: "\n").map(String.init)
        let trainLines = try String(contentsOfFile: "\(directory)/split/train.jsonl", encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(heldOutLines.count, heldOutCount)
        XCTAssertEqual((heldOutLines + trainLines).sorted(), original.sorted())

        // The same model evaluated on its recorded held-out set gives the training run's report.
        let again = try TestSupport.run(["eval", "\(directory)/a", "--holdout-of", "\(directory)/a", "--format", "json", "--quiet"])
        XCTAssertEqual(again.status, 0, again.stderr)
        let report = try TestSupport.json(again.stdout) as! [String: Any]
        XCTAssertEqual((report["overall"] as! [String: Any])["accuracy"] as? Double,
                       (trainReport["overall"] as! [String: Any])["accuracy"] as? Double)
        XCTAssertEqual((report["overall"] as! [String: Any])["pairs"] as? Int, heldOutCount)
        // ... and so does evaluating on the written held-out file.
        let fromFile = try TestSupport.run(["eval", "\(directory)/a", "\(directory)/split/held_out.jsonl", "--format", "json", "--quiet"])
        XCTAssertEqual((try TestSupport.json(fromFile.stdout) as! [String: Any])["overall"] as? NSDictionary,
                       report["overall"] as? NSDictionary)

        // Another file in the data's place no longer holds those pairs.
        let other = try TestSupport.run(["eval", "\(directory)/a", "\(directory)/split/train.jsonl", "--holdout-of", "\(directory)/a", "--quiet"])
        XCTAssertEqual(other.status, 65)
        XCTAssertTrue(other.stderr.hasPrefix("\(directory)/a/held_out.json: the held-out pairs read from \(directory)/split/train.jsonl are not those held out in training"), other.stderr)

        let none = try TestSupport.run(["train", data, "--hash-bits", "12", "--out", "\(directory)/b", "--quiet"])
        XCTAssertEqual(none.status, 0, none.stderr)
        let missing = try TestSupport.run(["eval", "\(directory)/a", "--holdout-of", "\(directory)/b"])
        XCTAssertEqual(missing.status, 64)
        XCTAssertEqual(missing.stderr, "upweight: --holdout-of \(directory)/b: no held_out.json (the model was not trained with --holdout)\n")
    }
}
