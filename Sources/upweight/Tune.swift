import ArgumentParser
import Upweight

struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cross-validate a grid of weighting choices (stratified k-fold) and write the winner as a config file.")

    @Argument(help: "JSONL files of preference pairs.") var data: [String]
    @Option(parsing: .unconditional, help: "Number of folds (stratified by category, groups kept whole).") var folds = 5
    @Option(help: "Keep pairs together in one fold: prompt (pairs sharing a prompt; default), none, or a field name.")
    var groupBy: String?
    @Option(help: "macro, worst, category:NAME or category:NAME,max-drop:D.") var objective = "macro"
    @Option(help: "JSON object mapping config keys to lists of candidate values.") var grid: String
    @Option(help: "Where to write the winning config (train --config reads it).") var out: String
    @Option(help: "Base config every candidate starts from.") var config: String?
    @Option(parsing: .unconditional, help: "Seed of the folds (and of each training run).") var seed: Int?
    @Option(parsing: .unconditional, help: "Refuse a grid of more candidates than this (default 10000).")
    var maxCandidates = CrossValidation.defaultMaxCandidates
    @Flag(help: "Print only errors: no progress line, notes or warnings.") var quiet = false
    @OptionGroup var reading: ReadingFlags

    func run() throws {
        try reportingErrors {
            // Flags first, then files: a bad number costs no reading.
            try CrossValidation.checkFoldCount(folds)
            try FlagRange.check(maxCandidates, flag: "--max-candidates", in: 1...Int.max)
            try OutputPath.checkFile(out, flag: "--out", apartFrom: data + [grid] + (config.map { [$0] } ?? []))
            var base = TrainingConfiguration()
            var baseObject = JSONObject()
            if let config {
                baseObject = try Files.readJSONObject(config)
                try base.apply(baseObject, from: .file(config))
            }
            var overrides = reading.settings
            if let seed { overrides["seed"] = JSONValue(seed) }
            if let groupBy { overrides["group-by"] = .string(groupBy) }
            try base.apply(overrides, from: .commandLine)
            let threads = base.reading.threads
            let candidates = try CrossValidation.candidates(fromGrid: try Files.readJSONObject(grid), file: grid,
                                                            limit: maxCandidates)
            let progress = ProgressLine(quiet: quiet)
            let (dataset, summary) = try PreferenceReader.read(
                paths: data, options: base.readingWithGroups,
                featurizingWith: .hashed(hashBits: base.hashBits, includePrompt: base.includePrompt))
            logReadSummary(summary, pairs: dataset.count, log: progress.note)
            let validation = CrossValidation(folds: folds, objective: try TuneObjective(objective), base: base,
                                             candidates: candidates, gridFile: grid)
            progress.note("folds: " + HoldoutNote(dataset: dataset, grouping: base.grouping, keys: dataset.groupKeys(by: base.grouping), of: dataset.count).text)
            progress.note("tuning \(plural(candidates.count, "candidate", "candidates")) × \(plural(folds, "fold", "folds")) on \(plural(dataset.count, "pair", "pairs")), \(plural(threads, "thread", "threads"))")
            let outcome = try validation.run(dataset: dataset, threads: threads, reporter: progress.reporter)
            progress.clear()
            print(tuneTable(outcome, objective: objective), terminator: "")
            var winner = baseObject
            for (key, value) in outcome.candidates[outcome.winner].settings.members { winner[key] = value }
            try Files.writeAtomically(JSONValue.object(winner).prettyText, to: out)
            progress.note("wrote the winner to \(out)")
        }
    }
}
