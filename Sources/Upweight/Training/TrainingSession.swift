/// A whole `train` run: read → split → train → save → evaluate. The CLI calls this and prints.
public struct TrainingSession {
    public var configuration: TrainingConfiguration
    public var data: [String]

    public init(configuration: TrainingConfiguration, data: [String]) {
        self.configuration = configuration
        self.data = data
    }

    public struct Finished: Sendable {
        public var report: EvaluationReport
        public var trained: TrainedModel

        /// The report in `format`; HTML shows the model's weighting and training curves too.
        public func render(_ format: ReportFormat) -> String {
            format == .html ? report.html(modelProvenance: trained.provenance, trainingLog: trained.trainingLog.isEmpty ? nil : trained.trainingLog)
                            : report.render(format)
        }
    }

    /// Trains, writes the model directory when `out` is set, and returns the report on the eval
    /// pairs (`eval` files, else the held-out fraction, else the training pairs themselves).
    public func run(reporter: Reporter = .silent) throws -> Finished {
        let log = reporter.note
        if configuration.out == nil && (configuration.checkpointEvery != nil || configuration.resume) {
            throw UsageError("--checkpoint-every and --resume need --out: checkpoints live in the model directory")
        }
        // Where the results go is checked before reading: a bad path costs seconds, not the run.
        if let out = configuration.out { try OutputPath.checkModelDirectory(out) }
        if let path = configuration.logFile {
            try OutputPath.checkFile(path, flag: "--log", apartFrom: data + configuration.eval, outside: configuration.out)
        }
        let reading = configuration.reading
        let clock = ContinuousClock()
        let started = clock.now
        // Text is hashed as it is read, as training's featurizer will (dense data ignores this).
        let hashing = Featurizer.hashed(hashBits: configuration.hashBits, includePrompt: configuration.includePrompt)
        var (dataset, summary) = try PreferenceReader.read(paths: data, options: reading, featurizingWith: hashing)
        reporter.progress(.init(phase: "read", completed: dataset.count, total: dataset.count, unit: "pairs"))
        log("read \(dataset.count) pairs in \(seconds(since: started))")
        logReadSummary(summary, pairs: dataset.count, log: log)
        try configuration.weighting.validate(categories: dataset.categoryNames)
        // Which pairs train and which evaluate, as indices first; then one split that frees the
        // whole as it copies (the peak stays near 1.5× the data, not 2×).
        var trainPairs = try configuration.trainSplit.map { try pairs(of: dataset, inSplit: $0) }
        var evaluationPairs = try configuration.evalSplit.map { try pairs(of: dataset, inSplit: $0) }
        var evaluation: PreferenceDataset?
        if evaluationPairs == nil && !configuration.eval.isEmpty {
            let (evalSet, evalSummary) = try PreferenceReader.read(paths: configuration.eval, options: reading, featurizingWith: hashing)
            logReadSummary(evalSummary, pairs: evalSet.count, log: log)
            evaluation = evalSet
        } else if evaluationPairs == nil && configuration.holdout > 0 {
            let among = trainPairs ?? Array(0..<dataset.count)
            let split = stratifiedHoldout(dataset, among: among, fraction: configuration.holdout, seed: configuration.seed)
            guard !split.train.isEmpty, !split.heldOut.isEmpty else {
                throw UsageError("--holdout \(configuration.holdout) leaves no pairs on one side of \(among.count)")
            }
            (trainPairs, evaluationPairs) = (split.train, split.heldOut)
        }
        let training: PreferenceDataset
        if trainPairs != nil || evaluationPairs != nil {
            let parts = dataset.split(trainPairs ?? Array(0..<dataset.count), evaluationPairs ?? [])
            training = parts.0
            if evaluationPairs != nil { evaluation = parts.1 }
        } else {
            training = dataset
            dataset = training.subset([])  // one reference to the data, not two
        }
        log("training on \(training.count) pairs in \(training.categoryNames.count) categories")
        let trainingStarted = clock.now
        var outcome = try Trainer.train(training, configuration: configuration, evaluation: evaluation, reporter: reporter)
        log("trained in \(seconds(since: trainingStarted)): \(outcome.description)")
        outcome.trained.provenance["data"] = .object(dataProvenance(outcome.trained.provenance["data"]))
        log(outcome.weightSummary.table)
        log("weights: effective sample size \(fixed(outcome.weightSummary.effectiveSampleSize, 1)) of \(training.count) pairs; heaviest 1% hold \(fixed(100 * outcome.weightSummary.topOnePercentShare, 1))% of the weight")
        if let path = configuration.logFile {
            try Files.writeAtomically(ModelDirectory.trainingLogText(outcome.log), to: path)
        }
        if let out = configuration.out {
            try ModelDirectory.save(outcome.trained, to: out)
            log("saved model to \(out)")
        }
        let reported = evaluation ?? training
        if evaluation == nil { log("no --eval or --holdout: the report is on the training pairs") }
        let rewards = try outcome.trained.rewards(for: reported, threads: reading.threads)
        let report = EvaluationReport(dataset: reported, chosenRewards: rewards.chosen, rejectedRewards: rewards.rejected)
        return Finished(report: report, trained: outcome.trained)
    }

    private func pairs(of dataset: PreferenceDataset, inSplit name: String) throws -> [Int] {
        let indices = (0..<dataset.count).filter { dataset.splits[$0] == name }
        guard !indices.isEmpty else {
            let field = configuration.reading.fields.split
            let present = Set(dataset.splits.compactMap { $0 }).sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            throw UsageError("no pair has \(field) \"\(name)\" (values present: \(present.isEmpty ? "none" : present))")
        }
        return indices
    }

    private func dataProvenance(_ existing: JSONValue?) -> JSONObject {
        var object = JSONObject()
        if case .object(let old)? = existing { object = old }
        object["files"] = .array(data.map { .string($0) })
        if !configuration.eval.isEmpty { object["eval_files"] = .array(configuration.eval.map { .string($0) }) }
        return object
    }
}

/// "1.23 s" since `start`.
func seconds(since start: ContinuousClock.Instant) -> String {
    let elapsed = ContinuousClock().now - start
    let value = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    return "\(fixed(value, 2)) s"
}

public func logReadSummary(_ summary: ReadSummary, pairs: Int, log: (String) -> Void) {
    if summary.skippedCount > 0 {
        log("skipped \(summary.skippedCount) of \(summary.lines) lines:")
        for (reason, count) in summary.skipped.sorted(by: { $0.key < $1.key }) { log("  \(count) \(reason)") }
        for error in summary.firstSkipped { log("  e.g. \(error)") }
    }
    for (warning, count) in summary.warnings.sorted(by: { $0.key < $1.key }) {
        log("warning: \(count) of \(pairs) pairs: \(warning)")
    }
}
