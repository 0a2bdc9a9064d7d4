import ArgumentParser
import Upweight

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare several models on the same pairs: per-category accuracy, deltas to the first model with paired intervals, McNemar and Holm-adjusted p-values, and the smallest change each category can detect.")

    @Argument(help: "JSONL files of preference pairs (with --holdout-of: default, the files that model was trained on).") var data: [String] = []
    @Option(name: .customLong("model"), help: "A model directory (repeat: the first is the baseline).") var models: [String] = []
    @Option(help: "Compare on exactly the pairs this model directory held out in training (train --holdout).") var holdoutOf: String?
    @Option(help: "Report format: table or json.") var format: ReportFormat = .table
    @OptionGroup var output: OutputFlags
    @OptionGroup var scoring: ScoringFlags
    @OptionGroup var reading: ReadingFlags

    func validate() throws {
        guard models.count >= 2 else { throw ValidationError("expected at least two --model directories (the first is the baseline)") }
        guard !data.isEmpty || holdoutOf != nil else { throw ValidationError("expected JSONL files to compare on (or --holdout-of DIR)") }
        guard format == .table || format == .json else { throw ValidationError("--format: compare writes table or json, got \(format.rawValue)") }
    }

    func run() throws {
        try reportingErrors {
            let (ties, bootstrap, seed) = try scoring.values(fewestResamples: 1)
            let progress = ProgressLine(quiet: scoring.quiet)
            defer { progress.clear() }
            // The first model reads the data (its reading settings, unless flags say otherwise); the
            // others score the same pairs with their own featurizers.
            let first = try loadAndScore(model: models[0], data: data, reading: reading, heldOutOf: holdoutOf, reporter: progress.reporter)
            var rewards = [(first.chosen, first.rejected)]
            for model in models.dropFirst() {
                progress.draw(.init(phase: "scoring with \(model)", completed: 0, total: nil, unit: "pairs"))
                rewards.append(try first.rewards(of: ModelDirectory.load(model)))
            }
            progress.draw(.init(phase: "\(bootstrap) bootstrap resamples", completed: 0, total: nil, unit: "pairs"))
            let comparison = ModelComparison(dataset: first.dataset, models: models, rewards: rewards, ties: ties,
                                             bootstrapSamples: bootstrap, seed: seed)
            progress.clear()
            try emit(format == .json ? JSONValue.object(comparison.json).prettyText : comparison.table, to: output.file?.path)
        }
    }
}
