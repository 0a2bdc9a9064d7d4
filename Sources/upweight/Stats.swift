import ArgumentParser
import Upweight

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Count pairs per category and summarize their weights.")

    @Argument(help: "JSONL files of preference pairs.") var data: [String]
    @Option(help: "Output format: table or json.") var format: ReportFormat = .table
    @OptionGroup var reading: ReadingFlags

    func run() throws {
        try reportingErrors {
            let (dataset, summary) = try PreferenceReader.read(paths: data, options: try reading.options())
            logReadSummary(summary, pairs: dataset.count, log: printError)
            let statistics = DatasetStatistics(dataset)
            print(format == .json ? JSONValue.object(statistics.json).prettyText : statistics.table, terminator: "")
        }
    }
}
