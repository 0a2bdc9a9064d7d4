import ArgumentParser
import Upweight

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Report a model's accuracy, margin and log loss per category.")

    @Argument(help: "Model directory (from train --out).") var model: String
    @Argument(help: "JSONL files of preference pairs.") var data: [String]
    @Option(help: "Report format: table or json.") var format: ReportFormat = .table
    @Option(help: "Write the report to this file (atomically) instead of stdout.") var output: String?
    @OptionGroup var reading: ReadingFlags

    func run() throws {
        try reportingErrors {
            let trained = try ModelDirectory.load(model)
            let options = try reading.options(base: trained.reading)
            let (dataset, summary) = try PreferenceReader.read(paths: data, options: options)
            logReadSummary(summary, pairs: dataset.count, log: printError)
            let rewards = try trained.rewards(for: dataset, threads: options.threads)
            let report = EvaluationReport(dataset: dataset, chosenRewards: rewards.chosen, rejectedRewards: rewards.rejected)
            try emit(report.render(format), to: output)
        }
    }
}
