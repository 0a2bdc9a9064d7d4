import ArgumentParser
import Upweight

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a reward model and report per-category accuracy on held-out pairs.",
        discussion: """
        Objective (linear): L(θ) = (1/Σw) Σ_i w_i·softplus(−(θ·(x_c,i − x_r,i) − m_i)) + (λ/2)‖θ‖², \
        with w_i = weight_i · upweight[category_i], normalized to mean 1.
        """)

    @Argument(help: "JSONL files of preference pairs (.jsonl or .jsonl.gz).")
    var data: [String]
    @OptionGroup var session: RunFlags
    @Option(help: "A JSON config file; its keys are these flags' long names. Flags win.") var config: String?
    @OptionGroup var training: TrainingFlags
    @Option(help: "Report format: table, json, csv, markdown or html.") var format: ReportFormat = .table
    @Option(help: "Also write the HTML report (charts, weighting, training curves) to this file.") var report: String?
    @Flag(help: "Table: every metric (mean and median margin, Brier, reward scale, length baseline), not only those that fit 120 columns.")
    var wide = false
    @Flag(help: "Print only errors: no progress line, notes or warnings.") var quiet = false
    @OptionGroup var reading: ReadingFlags

    /// The given flags as config keys, so one parser checks flags and config files alike.
    var settings: JSONObject { givenSettings([session, training, reading]) }

    func run() throws {
        try reportingErrors { try onRanks { try train(collective: $0) } }
    }

    private func train(collective: (any Collective)?) throws {
        var configuration = TrainingConfiguration()
        var threadsGiven = settings["threads"] != nil
        if let config {
            let file = try Files.readJSONObject(config)
            threadsGiven = threadsGiven || file["threads"] != nil
            try configuration.apply(file, from: .file(config))
        }
        try configuration.apply(settings, from: .commandLine)
        // Ranks on one machine share its cores.
        if collective != nil && !threadsGiven {
            configuration.reading.threads = Launch.threadsPerRank
        }
        // The session checks --out and --log too, but knows no config file.
        let inputs = data + configuration.eval + (config.map { [$0] } ?? [])
        for (flag, path) in [("--report", report), ("--log", configuration.logFile)] {
            if let path { try OutputPath.checkFile(path, flag: flag, apartFrom: inputs, outside: configuration.out) }
        }
        let started = ContinuousClock.now
        let progress = ProgressLine(quiet: quiet || !(collective?.isRoot ?? true))
        Interruption.install(rank: collective?.rank, of: collective?.size ?? 1)
        let finished = try TrainingSession(configuration: configuration, data: data, collective: collective).run(reporter: progress.reporter)
        progress.clear()
        guard collective?.isRoot ?? true else { return }
        if let measured = collective as? MeasuredCollective, !quiet {
            printError(measured.summary(runSeconds: elapsedSeconds(since: started)))
        }
        // Only the HTML page shows the context, and hashing the data files reads every byte again
        // (1.8 s for the bench's 1.5 GB file), so the other formats skip it.
        let context = report == nil && format != .html ? nil
            : ReportContext(modelDirectory: configuration.out,
                            dataFiles: try (data + configuration.eval).map(ReportContext.DataFile.init(path:)),
                            pairsFingerprint: finished.reportedPairsFingerprint, commandLine: CommandLine.arguments)
        if let report { try Files.writeAtomically(finished.render(.html, context: context), to: report) }
        // Colour only on a terminal: a pipe or a file gets plain text.
        print(format == .table ? finished.report.table(colour: stdoutIsTerminal, wide: wide, width: terminalWidth()) : finished.render(format, context: context), terminator: "")
    }
}
