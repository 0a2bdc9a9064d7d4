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
            let scored = try loadAndScore(model: model, data: data, reading: reading)
            let report = EvaluationReport(dataset: scored.dataset, chosenRewards: scored.chosen, rejectedRewards: scored.rejected)
            try emit(report.render(format), to: output)
        }
    }
}
