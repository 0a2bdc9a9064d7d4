/// A whole `train` run: read → split → train → save → evaluate. The CLI calls this and prints.
public struct TrainingSession {
    public var configuration: TrainingConfiguration
    public var data: [String]

    public init(configuration: TrainingConfiguration, data: [String]) {
        self.configuration = configuration
        self.data = data
    }

    /// Trains, writes the model directory when `out` is set, and returns the report on the eval
    /// pairs (`eval` files, else the held-out fraction, else the training pairs themselves).
    public func run(log: (String) -> Void = { _ in }) throws -> EvaluationReport {
        let reading = configuration.reading
        let (dataset, summary) = try PreferenceReader.read(paths: data, options: reading)
        logReadSummary(summary, pairs: dataset.count, log: log)
        try configuration.weighting.validate(categories: dataset.categoryNames)
        var training = dataset
        var evaluation: PreferenceDataset?
        if !configuration.eval.isEmpty {
            let (evalSet, evalSummary) = try PreferenceReader.read(paths: configuration.eval, options: reading)
            logReadSummary(evalSummary, pairs: evalSet.count, log: log)
            evaluation = evalSet
        } else if configuration.holdout > 0 {
            let split = stratifiedHoldout(dataset, fraction: configuration.holdout, seed: configuration.seed)
            guard !split.train.isEmpty, !split.heldOut.isEmpty else {
                throw UsageError("--holdout \(configuration.holdout) leaves no pairs on one side of \(dataset.count)")
            }
            training = dataset.subset(split.train)
            evaluation = dataset.subset(split.heldOut)
        }
        log("training on \(training.count) pairs in \(training.categoryNames.count) categories")
        var outcome = try Trainer.train(training, configuration: configuration, log: log)
        outcome.trained.provenance["data"] = .object(dataProvenance(outcome.trained.provenance["data"]))
        log("weights: effective sample size \(fixed(outcome.weightSummary.effectiveSampleSize, 1)) of \(training.count) pairs; heaviest 1% hold \(fixed(100 * outcome.weightSummary.topOnePercentShare, 1))% of the weight")
        log("trained: \(outcome.description)")
        if let out = configuration.out {
            try ModelDirectory.save(outcome.trained, to: out)
            log("saved model to \(out)")
        }
        let reported = evaluation ?? training
        if evaluation == nil { log("no --eval or --holdout: the report is on the training pairs") }
        let rewards = try outcome.trained.rewards(for: reported, threads: reading.threads)
        return EvaluationReport(dataset: reported, chosenRewards: rewards.chosen, rejectedRewards: rewards.rejected)
    }

    private func dataProvenance(_ existing: JSONValue?) -> JSONObject {
        var object = JSONObject()
        if case .object(let old)? = existing { object = old }
        object["files"] = .array(data.map { .string($0) })
        if !configuration.eval.isEmpty { object["eval_files"] = .array(configuration.eval.map { .string($0) }) }
        return object
    }
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
