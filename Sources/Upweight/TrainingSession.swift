import UpweightSupport
import UpweightIO
import UpweightData
import UpweightModels
import UpweightEvaluation
import UpweightTraining

/// A whole `train` run: read → split → train → save → evaluate. The CLI calls this and prints.
public struct TrainingSession {
    public var configuration: TrainingConfiguration
    public var data: [String]
    /// The MPI ranks training this model together (nil: this process alone). Under MPI, `run`
    /// shares the L-BFGS passes between the ranks, and only rank 0 writes (DistributedTraining.swift).
    public var collective: (any Collective)?

    public init(configuration: TrainingConfiguration, data: [String], collective: (any Collective)? = nil) {
        self.configuration = configuration
        self.data = data
        self.collective = collective
    }

    public struct Finished: Sendable {
        public var report: EvaluationReport
        public var trained: TrainedModel
        /// `fingerprint(of:)` of the pairs the report is on.
        public var reportedPairsFingerprint: String

        /// The report in `format`; HTML shows the run's `context`, the model's weighting and training curves too.
        public func render(_ format: ReportFormat, context: ReportContext? = nil) -> String {
            format == .html ? report.html(context: context, modelProvenance: trained.provenance,
                                          trainingLog: trained.trainingLog.isEmpty ? nil : trained.trainingLog)
                            : report.render(format)
        }
    }

    /// Trains, writes the model directory when `out` is set, and returns the report on the eval
    /// pairs (`eval` files, else the held-out fraction, else the training pairs themselves).
    public func run(reporter: Reporter = .silent) throws -> Finished {
        let log = reporter.note
        try CheckpointPolicy.checkDestination(configuration)
        // Where the results go is checked before reading: a bad path costs seconds, not the run.
        if let out = configuration.out { try OutputPath.checkModelDirectory(out) }
        if let path = configuration.logFile {
            try OutputPath.checkFile(path, flag: "--log", apartFrom: data + configuration.eval, outside: configuration.out)
        }
        if let directory = configuration.saveSplit {
            for name in [SplitFiles.trainName, SplitFiles.heldOutName] {
                try OutputPath.checkFile("\(directory)/\(name)", flag: "--save-split", apartFrom: data + configuration.eval, outside: configuration.out)
            }
        }
        if configuration.out == nil { log("warning: no --out: the model will not be saved") }
        if configuration.target == nil && configuration.targetClip != TrainingConfiguration().targetClip {
            log("warning: --target-clip \(JSONValue.format(configuration.targetClip)) is ignored: it clips --target's weights, and there is no --target")
        }
        // A target file that cannot be opened is found before the data is read, as the data files are.
        if let target = configuration.target { _ = try LineChunks(path: target, chunkBytes: 1 << 12) }
        if let patience = configuration.patience, configuration.resolvedOptimizer == .lbfgs {
            log("warning: --patience \(patience) is ignored: L-BFGS has no epochs to stop after (use --optimizer adamw)")
        }
        if configuration.holdout > 0 && (!configuration.eval.isEmpty || configuration.evalSplit != nil) {
            log("warning: --holdout \(JSONValue.format(configuration.holdout)) is ignored: \(configuration.eval.isEmpty ? "--eval-split" : "--eval") gives the evaluation pairs")
        }
        if let collective { return try runDistributed(on: collective, reporter: reporter) }
        if let reason = streamingReason() { return try runStreamed(because: reason, reporter: reporter) }
        let reading = configuration.readingWithGroups
        let clock = ContinuousClock()
        let started = clock.now
        // Text is hashed as it is read, as training's featurizer will (dense data ignores this).
        let hashing = Featurizer.hashed(hashBits: configuration.hashBits, includePrompt: configuration.includePrompt)
        var (dataset, summary) = try PreferenceReader.read(paths: data, options: reading, featurizingWith: hashing)
        reporter.progress(.init(phase: "read", completed: dataset.count, total: dataset.count, unit: "pairs"))
        log("read \(plural(dataset.count, "pair", "pairs")) in \(seconds(since: started))")
        logReadSummary(summary, pairs: dataset.count, log: log)
        let categoryField = reading.fields.category
        if categoryField != FieldNames().category && dataset.categoryNames == ["default"] {
            log("warning: no line has the category field \"\(categoryField)\" (--category-field): every pair is in category \"default\"")
        }
        try configuration.weighting.validate(categories: dataset.categoryNames)
        // Which pairs train and which evaluate, as indices first; then one split that frees the
        // whole as it copies (the peak stays near 1.5× the data, not 2×).
        let (trainPairs, evaluationPairs) = try plannedSplit(of: dataset, log: log)
        var evaluation: PreferenceDataset?
        var heldOut: HeldOutRecord?
        if evaluationPairs == nil && !configuration.eval.isEmpty {
            let (evalSet, evalSummary) = try PreferenceReader.read(paths: configuration.eval, options: configuration.reading, featurizingWith: hashing)
            logReadSummary(evalSummary, pairs: evalSet.count, log: log)
            evaluation = evalSet
        }
        let training: PreferenceDataset
        if trainPairs != nil || evaluationPairs != nil {
            let parts = dataset.split(trainPairs ?? Array(0..<dataset.count), evaluationPairs ?? [])
            training = parts.0
            if evaluationPairs != nil { evaluation = parts.1 }
            if configuration.evalSplit == nil && configuration.eval.isEmpty && configuration.holdout > 0 {
                heldOut = HeldOutRecord(heldOut: parts.1, fraction: configuration.holdout, seed: configuration.seed, grouping: configuration.grouping)
            }
        } else {
            training = dataset
            dataset = training.subset([])  // one reference to the data, not two
        }
        log("training on \(plural(training.count, "pair", "pairs")) in \(plural(training.categoryNames.count, "category", "categories"))")
        if let directory = configuration.saveSplit {
            try SplitFiles.write(train: training, heldOut: evaluation ?? training.subset([]), to: directory)
            log("wrote the split to \(directory)/\(SplitFiles.trainName) (\(plural(training.count, "pair", "pairs"))) and \(directory)/\(SplitFiles.heldOutName) (\(plural(evaluation?.count ?? 0, "pair", "pairs")))")
        }
        // Read before training, and checked against the training pairs' shape: a bad line costs no fit.
        let target = try configuration.target.map {
            try TargetSample.read($0, like: training, fields: reading.fields, maxMemory: reading.maxMemory)
        }
        let trainingTexts = TextFingerprints(training)
        if let evaluation { Contamination(evaluation, training: trainingTexts).lines.forEach(log) }
        // The label audit sees the training pairs only: the evaluation pairs stay unseen.
        var trainingPairs = training
        var noiseAdjustment: NoiseAdjustment?
        if configuration.noiseAware != .off {
            let auditStarted = clock.now
            let noiseAware = try NoiseAwareTraining.prepare(training, configuration: configuration, threads: reading.threads, reporter: reporter)
            log("audited the training labels in \(seconds(since: auditStarted)) (\(NoiseAwareTraining.folds) folds, a model per category; flip estimates on a size-matched sample)")
            noiseAware.notes.forEach(log)
            noiseAware.audit.map { NoisyUpweightCheck.warnings(upweight: configuration.weighting.upweight, audit: $0,
                                                               advice: "--noise-aware \(configuration.noiseAware.rawValue) acts on its pairs as noted above") }?.forEach(log)
            (trainingPairs, noiseAdjustment) = (noiseAware.training, noiseAware.adjustment)
        } else if configuration.weighting.upweight.values.contains(where: { $0 > 1 }) {
            try NoisyUpweightCheck.run(training, configuration: configuration, threads: reading.threads).forEach(log)
        }
        let trainingStarted = clock.now
        var outcome = try Trainer.train(trainingPairs, configuration: configuration, evaluation: evaluation,
                                        noiseAdjustment: noiseAdjustment, target: target, reporter: reporter)
        log("trained in \(seconds(since: trainingStarted)): \(outcome.description)")
        outcome.target?.notes.forEach(log)
        outcome.trained.provenance["data"] = .object(dataProvenance(outcome.trained.provenance["data"]))
        outcome.trained.trainingTexts = trainingTexts
        outcome.trained.heldOut = heldOut
        outcome.weightSummary.notes(pairs: trainingPairs.count).forEach(log)
        if let path = configuration.logFile {
            try Files.writeAtomically(ModelDirectory.trainingLogText(outcome.log), to: path)
        }
        // Rewards first: a model whose rewards are not finite is an error, and is not saved.
        let reported = evaluation ?? training
        if evaluation == nil { log("no --eval or --holdout: the report is on the training pairs") }
        let rewards = try outcome.trained.rewards(for: reported, threads: reading.threads)
        if let out = configuration.out {
            try ModelDirectory.save(outcome.trained, to: out)
            log("saved model to \(out)")
        }
        let report = EvaluationReport(dataset: reported, chosenRewards: rewards.chosen, rejectedRewards: rewards.rejected)
        return Finished(report: report, trained: outcome.trained, reportedPairsFingerprint: fingerprint(of: reported))
    }

    /// Which pairs train and which evaluate (nil: all pairs train; none evaluate), from `--train-split`,
    /// `--eval-split` or the grouped `--holdout` (noted on the log); `--eval` files are read apart.
    func plannedSplit(of dataset: PreferenceDataset, log: (String) -> Void) throws -> (train: [Int]?, evaluation: [Int]?) {
        var trainPairs = try configuration.trainSplit.map { try pairs(of: dataset, inSplit: $0) }
        var evaluationPairs = try configuration.evalSplit.map { try pairs(of: dataset, inSplit: $0) }
        if evaluationPairs == nil && configuration.eval.isEmpty && configuration.holdout > 0 {
            let among = trainPairs ?? Array(0..<dataset.count)
            let keys = dataset.groupKeys(by: configuration.grouping)
            let split = groupedHoldout(dataset, among: among, fraction: configuration.holdout, seed: configuration.seed, keys: keys)
            guard !split.train.isEmpty, !split.heldOut.isEmpty else {
                throw UsageError("--holdout \(configuration.holdout) leaves no pairs on one side of \(among.count)")
            }
            log(HoldoutNote(dataset: dataset, grouping: configuration.grouping, keys: keys,
                            heldOut: split.heldOut.count, of: among.count).text)
            (trainPairs, evaluationPairs) = (split.train, split.heldOut)
        }
        return (trainPairs, evaluationPairs)
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

    /// config.json's "data": `existing`'s entries (pairs, fingerprint) and the files read.
    func dataProvenance(_ existing: JSONValue?) -> JSONObject {
        var object = JSONObject()
        if case .object(let old)? = existing { object = old }
        object["files"] = .array(data.map { .string($0) })
        if !configuration.eval.isEmpty { object["eval_files"] = .array(configuration.eval.map { .string($0) }) }
        return object
    }
}
