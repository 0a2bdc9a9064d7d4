import ArgumentParser
import Upweight

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print one JSON line per pair: its rewards and margin (chosen − rejected), in input order.")

    @Argument(help: "Model directory (from train --out).") var model: String
    @Argument(help: "JSONL files of preference pairs.") var data: [String]
    @Option(help: "Write to this file (atomically) instead of stdout.") var output: String?
    @OptionGroup var reading: ReadingFlags

    func run() throws {
        try reportingErrors {
            let trained = try ModelDirectory.load(model)
            let options = try reading.options(base: trained.reading)
            let (dataset, summary) = try PreferenceReader.read(paths: data, options: options)
            logReadSummary(summary, pairs: dataset.count, log: printError)
            let rewards = try trained.rewards(for: dataset, threads: options.threads)
            try emit(scoreLines(dataset: dataset, chosen: rewards.chosen, rejected: rewards.rejected), to: output)
        }
    }
}
