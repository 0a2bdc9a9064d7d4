import ArgumentParser
import Upweight

struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cross-validate a grid of weighting choices (stratified k-fold) and write the winner as a config file.")

    @Argument(help: "JSONL files of preference pairs.") var data: [String]
    @Option(parsing: .unconditional, help: "Number of folds (stratified by category, groups kept whole).") var folds = 5
    @Option(help: "macro, worst, category:NAME or category:NAME,max-drop:D.") var objective = "macro"
    @Option(help: "JSON object mapping config keys to lists of candidate values.") var grid: String
    @Option(help: "Where to write the winning config (train --config reads it): the base config, the training flags given, the winner's grid values.")
    var out: String
    @Option(help: "Base config every candidate starts from; the training flags below win over it.") var config: String?
    @Option(parsing: .unconditional, help: "Refuse a grid of more candidates than this (default 10000).")
    var maxCandidates = CrossValidation.defaultMaxCandidates
    @Flag(help: "Print only errors: no progress line, notes or warnings.") var quiet = false
    @OptionGroup var training: TrainingFlags
    @OptionGroup var reading: ReadingFlags

    func run() throws {
        try reportingErrors {
            var session = TuningSession(data: data, gridFile: grid, out: out)
            session.folds = folds
            session.objective = objective
            session.configFile = config
            session.settings = givenSettings([training, reading])
            session.maxCandidates = maxCandidates
            let progress = ProgressLine(quiet: quiet)
            let finished = try session.run(reporter: progress.reporter)
            progress.clear()
            print(finished.table, terminator: "")
            try session.save(finished, reporter: progress.reporter)
        }
    }
}
