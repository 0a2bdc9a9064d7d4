import ArgumentParser
import Upweight

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report a model's alignment metrics per category: accuracy with 95% intervals, margins, calibration.")

    @Argument(help: "Model directory (from train --out).") var model: String
    @Argument(help: "JSONL files of preference pairs (with --holdout-of: default, the files that model was trained on).") var data: [String] = []
    @Option(help: "Evaluate on exactly the pairs this model directory held out in training (train --holdout).") var holdoutOf: String?
    @Option(help: "Report format.") var format: ReportFormat = .table
    @OptionGroup var output: OutputFlags
    @OptionGroup var scoring: ScoringFlags
    @Option(help: "JSON file of RewardBench-style sections: {\"SECTION\": {\"categories\": [...], \"weight\": w}}.")
    var sections: String?
    @Option(help: "A second model directory to compare with, on the same pairs.") var baseline: String?
    @Flag(help: "Table: every metric (mean and median margin, Brier, reward scale, length baseline), not only those that fit 120 columns.")
    var wide = false
    @OptionGroup var reading: ReadingFlags

    func validate() throws {
        guard !data.isEmpty || holdoutOf != nil else { throw ValidationError("expected JSONL files to evaluate on (or --holdout-of DIR)") }
    }

    func run() throws {
        try reportingErrors { try onRanks(evaluate) }
    }

    /// Under MPI every rank scores a share of the pairs (and of the baseline's); rank 0 reports.
    private func evaluate(collective: (any Collective)?) throws {
        let (ties, bootstrap, seed) = try scoring.values(fewestResamples: 0)
        if let file = output.file { try OutputPath.checkFile(file.path, flag: file.flag, apartFrom: data + (sections.map { [$0] } ?? []), outside: model) }
        let progress = ProgressLine(quiet: scoring.quiet || !(collective?.isRoot ?? true))
        defer { progress.clear() }
        let scored = try loadAndScore(model: model, data: data, reading: reading, heldOutOf: holdoutOf, collective: collective,
                                      reporter: progress.reporter)
        progress.draw(.init(phase: "metrics and \(plural(bootstrap, "bootstrap resample", "bootstrap resamples"))", completed: 0, total: nil, unit: "pairs"))
        var options = EvaluationOptions(ties: ties, bootstrapSamples: bootstrap, seed: seed)
        if let baseline { options.baselineRewards = try scored.rewards(ofModelIn: baseline) }
        guard collective?.isRoot ?? true else { return }
        if let sections { options.sections = try Sections.load(sections) }
        let report = try EvaluationReport(dataset: scored.dataset, chosenRewards: scored.chosen,
                                          rejectedRewards: scored.rejected, options: options)
        let text: String
        switch format {
        case .html:
            let trained = scored.model
            let context = ReportContext(modelDirectory: model, dataFiles: try scored.dataset.files.map(ReportContext.DataFile.init(path:)),
                                        pairsFingerprint: try scored.fingerprint(), baselines: baseline.map { [$0] } ?? [],
                                        commandLine: CommandLine.arguments)
            text = report.html(context: context, modelProvenance: trained.provenance,
                               trainingLog: trained.trainingLog.isEmpty ? nil : trained.trainingLog)
        case .table:
            // Colour only on a terminal: a pipe or a file gets plain text.
            text = report.table(colour: output.file == nil && stdoutIsTerminal, wide: wide, width: output.file == nil ? terminalWidth() : 120)
        default:
            text = report.render(format)
        }
        progress.clear()
        if let training = scored.model.trainingTexts { Contamination(scored.dataset, training: training).lines.forEach(progress.note) }
        try emit(text, to: output.file?.path)
    }
}
