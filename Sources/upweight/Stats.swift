import ArgumentParser
import Upweight

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Count pairs per category and summarize their weights.")

    @Argument(help: "JSONL files of preference pairs.") var data: [String]
    @Option(help: "Output format: table, json, csv, markdown or html.") var format: ReportFormat = .table
    @OptionGroup var reading: ReadingFlags

    func run() throws {
        try reportingErrors {
            let (dataset, summary) = try PreferenceReader.read(paths: data, options: try reading.options())
            logReadSummary(summary, pairs: dataset.count, log: printError)
            print(DatasetStatistics(dataset).render(format), terminator: "")
        }
    }
}
