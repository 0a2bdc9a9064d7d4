import ArgumentParser
import Upweight

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print one JSON line per pair: its rewards and margin (chosen − rejected), in input order.")

    @Argument(help: "Model directory (from train --out).") var model: String
    @Argument(help: "JSONL files of preference pairs.") var data: [String]
    @OptionGroup var output: OutputFlags
    @OptionGroup var reading: ReadingFlags

    func run() throws {
        try reportingErrors { try onRanks(score) }
    }

    /// Under MPI every rank scores a share of the pairs; rank 0 writes them all.
    private func score(collective: (any Collective)?) throws {
        if let file = output.file { try OutputPath.checkFile(file.path, flag: file.flag, apartFrom: data, outside: model) }
        // Notes and warnings (the files' shapes, skipped lines, empty responses) go to stderr, from rank 0 alone.
        let scored = try loadAndScore(model: model, data: data, reading: reading, collective: collective,
                                      reporter: Reporter(note: { if Launch.prints { printError($0) } }))
        guard collective?.isRoot ?? true else { return }
        try emit(scoreLines(dataset: scored.dataset, chosen: scored.chosen, rejected: scored.rejected), to: output.file?.path)
    }
}
