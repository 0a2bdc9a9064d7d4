import ArgumentParser
import Upweight

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find categories and pairs whose labels look flipped: out-of-fold probabilities from a model per category (confident learning).")

    @Argument(help: "JSONL files of preference pairs.") var data: [String]
    @Option(parsing: .unconditional, help: "Number of folds (grouped as train groups them, stratified by category).") var folds = 5
    @Option(parsing: .unconditional, help: "How many of the most suspicious pairs to list.") var top = 20
    @Option(help: "Output format: table, json or csv (csv: the suspicious pairs).") var format: AuditFormat = .table
    @Option(help: "A config file (as train --config reads); the training flags below win over it.") var config: String?
    @Flag(help: "Print only errors: no progress line, notes or warnings.") var quiet = false
    @OptionGroup var training: TrainingFlags
    @OptionGroup var reading: ReadingFlags

    enum AuditFormat: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

    func run() throws {
        try reportingErrors {
            var session = AuditSession(data: data)
            session.folds = folds
            session.top = top
            session.configFile = config
            session.settings = givenSettings([training, reading])
            let progress = ProgressLine(quiet: quiet)
            let audit = try session.run(reporter: progress.reporter)
            progress.clear()
            print(audit.render(ReportFormat(rawValue: format.rawValue)!), terminator: "")
        }
    }
}
