import UpweightSupport
import UpweightIO
import UpweightData
import UpweightEvaluation
import UpweightTraining

/// A whole `tune` run: check the numbers and paths, read the base config and the grid, read the
/// data, cross-validate every candidate, and write the winner as a config file. The CLI calls this
/// and prints.
public struct TuningSession {
    public var data: [String]
    public var gridFile: String
    /// Where to write the winning config (`train --config` reads it).
    public var out: String
    public var folds = 5
    /// `TuneObjective`'s text: macro, worst, category:NAME or category:NAME,max-drop:D.
    public var objective = "macro"
    /// A config file every candidate starts from.
    public var configFile: String?
    /// Settings over the config file, as config keys (the flags given).
    public var settings = JSONObject()
    public var maxCandidates = CrossValidation.defaultMaxCandidates

    public init(data: [String], gridFile: String, out: String) {
        self.data = data
        self.gridFile = gridFile
        self.out = out
    }

    public struct Finished: Sendable {
        public var outcome: CrossValidation.Outcome
        /// The winning config: the config file's keys, the training settings given, and the winner's
        /// values from the grid.
        public var winner: JSONObject
        /// The candidates' table (`tuneTable`).
        public var table: String
    }

    public func run(reporter: Reporter = .silent) throws -> Finished {
        // Flags first, then files: a bad number costs no reading.
        try CrossValidation.checkFoldCount(folds)
        try FlagRange.check(maxCandidates, flag: "--max-candidates", in: 1...Int.max)
        try OutputPath.checkFile(out, flag: "--out", apartFrom: data + [gridFile] + (configFile.map { [$0] } ?? []))
        var base = TrainingConfiguration()
        var winner = JSONObject()
        if let configFile {
            winner = try Files.readJSONObject(configFile)
            try base.apply(winner, from: .file(configFile))
        }
        try base.apply(settings, from: .commandLine)
        for (key, value) in settings.members where TrainingOption.named(key)?.section == .training { winner[key] = value }
        let threads = base.reading.threads
        let candidates = try CrossValidation.candidates(fromGrid: try Files.readJSONObject(gridFile), file: gridFile,
                                                        limit: maxCandidates)
        let (dataset, summary) = try PreferenceReader.read(
            paths: data, options: base.readingWithGroups,
            featurizingWith: .hashed(hashBits: base.hashBits, includePrompt: base.includePrompt))
        logReadSummary(summary, pairs: dataset.count, log: reporter.note)
        let validation = CrossValidation(folds: folds, objective: try TuneObjective(objective), base: base,
                                         candidates: candidates, gridFile: gridFile)
        reporter.note("folds: " + HoldoutNote(dataset: dataset, grouping: base.grouping, keys: dataset.groupKeys(by: base.grouping), of: dataset.count).text)
        reporter.note("tuning \(plural(candidates.count, "candidate", "candidates")) × \(plural(folds, "fold", "folds")) on \(plural(dataset.count, "pair", "pairs")), \(plural(threads, "thread", "threads"))")
        let outcome = try validation.run(dataset: dataset, threads: threads, reporter: reporter)
        for (key, value) in outcome.candidates[outcome.winner].settings.members { winner[key] = value }
        return Finished(outcome: outcome, winner: winner, table: tuneTable(outcome, objective: objective))
    }

    /// Writes the winner to `out` (atomically).
    public func save(_ finished: Finished, reporter: Reporter = .silent) throws {
        try Files.writeAtomically(JSONValue.object(finished.winner).prettyText, to: out)
        reporter.note("wrote the winner to \(out)")
    }
}
