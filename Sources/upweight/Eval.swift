import ArgumentParser
import Upweight
#if canImport(Glibc)
import Glibc
#endif

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report a model's alignment metrics per category: accuracy with 95% intervals, margins, calibration.")

    @Argument(help: "Model directory (from train --out).") var model: String
    @Argument(help: "JSONL files of preference pairs.") var data: [String]
    @Option(help: "Report format.") var format: ReportFormat = .table
    @Option(help: "Write the report to this file (atomically) instead of stdout.") var output: String?
    @Option(help: "How a tie (Δ = 0) counts towards accuracy: half (½), strict (0) or exclude (left out).") var ties: TiePolicy = .half
    @Option(help: "Bootstrap resamples for the 95% intervals (0: none).") var bootstrap: Int = 1000
    @Option(help: "Seed of the bootstrap.") var seed: UInt64 = 0
    @Option(help: "JSON file of RewardBench-style sections: {\"SECTION\": {\"categories\": [...], \"weight\": w}}.")
    var sections: String?
    @Option(help: "A second model directory to compare with, on the same pairs.") var baseline: String?
    @Flag(help: "No progress line on the terminal.") var quiet = false
    @OptionGroup var reading: ReadingFlags

    func validate() throws {
        guard (0...1_000_000).contains(bootstrap) else {
            throw ValidationError("--bootstrap: expected a whole number from 0 to 1000000, got \(bootstrap)")
        }
    }

    func run() throws {
        try reportingErrors {
            if let output { try OutputPath.checkFile(output, flag: "--output", apartFrom: data + (sections.map { [$0] } ?? []), outside: model) }
            let progress = ProgressLine(quiet: quiet)
            defer { progress.clear() }
            let scored = try loadAndScore(model: model, data: data, reading: reading, reporter: progress.reporter)
            progress.draw(.init(phase: "metrics and \(bootstrap) bootstrap resamples", completed: 0, total: nil, unit: "pairs"))
            var options = EvaluationOptions(ties: ties, bootstrapSamples: bootstrap, seed: seed)
            if let sections { options.sections = try Sections.load(sections) }
            if let baseline {
                let other = try ModelDirectory.load(baseline)
                options.baselineRewards = try other.rewards(for: scored.dataset, threads: try reading.options(base: other.reading).threads)
            }
            let report = try EvaluationReport(dataset: scored.dataset, chosenRewards: scored.chosen,
                                              rejectedRewards: scored.rejected, options: options)
            let text: String
            switch format {
            case .html:
                let trained = scored.model
                text = report.html(modelProvenance: trained.provenance, trainingLog: trained.trainingLog.isEmpty ? nil : trained.trainingLog)
            case .table:
                // Colour only on a terminal: a pipe or a file gets plain text.
                text = report.table(colour: output == nil && isatty(1) != 0)
            default:
                text = report.render(format)
            }
            progress.clear()
            try emit(text, to: output)
        }
    }
}
