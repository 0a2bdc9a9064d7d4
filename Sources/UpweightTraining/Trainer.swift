import UpweightSupport
import UpweightIO
import UpweightData
import UpweightModels
import UpweightWeighting

/// The one place that knows every stage: weights → features → optimizer (→ boosting rounds) → model.
public enum Trainer {
    public struct Outcome: Sendable {
        public var trained: TrainedModel
        public var weightSummary: WeightSummary
        /// `--target`'s domain classifier and weights; nil without a target.
        public var target: TargetWeights?
        public var objective: Double
        /// The L2 term inside `objective`; `objective − l2Term` is the weighted loss.
        public var l2Term: Double
        /// One JSON object per epoch (or per L-BFGS fit / group-DRO round); the training log.
        public var log: [JSONObject]
        public var description: String
    }

    /// Trains on `dataset` as `configuration` says. With `evaluation`, every log entry carries its
    /// per-category accuracy and loss. With `--noise-aware`, `noiseAdjustment` carries the label
    /// audit's factors for `dataset`'s pairs (TrainingSession and CrossValidation run the audit).
    /// `target`: `configuration.target` already read (else it is read here), so that a run over
    /// many folds reads it once.
    public static func train(_ dataset: PreferenceDataset, configuration: TrainingConfiguration,
                             evaluation: PreferenceDataset? = nil, noiseAdjustment: NoiseAdjustment? = nil,
                             target: TargetSample? = nil,
                             reporter: Reporter = .silent) throws -> Outcome
    {
        try dataset.checkFeatureMagnitudes()
        try dataset.checkMargins(field: configuration.reading.fields.margin)
        if configuration.noiseAware != .off && noiseAdjustment == nil {
            throw UsageError("--noise-aware \(configuration.noiseAware.rawValue) needs the label audit's factors, which TrainingSession and CrossValidation compute; Trainer.train was given none")
        }
        // The domain classifier sees these training pairs only: held-out and evaluation pairs stay unseen.
        let targetWeights = try configuration.target.map { path in
            let sample = try target.flatMap { $0.path == path ? $0 : nil }
                ?? TargetSample.read(path, like: dataset, fields: configuration.reading.fields, maxMemory: configuration.reading.maxMemory)
            return try TargetWeights(training: dataset, target: sample, configuration: configuration)
        }
        let weights = try configuration.weighting.weights(for: dataset, pairFactors: product(noiseAdjustment?.factors, targetWeights?.ratio.factors))
        let summary = WeightSummary(dataset: dataset, weights: weights)
        let featurizer = Featurizer.fit(dataset, hashBits: configuration.hashBits,
                                        includePrompt: configuration.includePrompt, standardize: configuration.standardize)
        try TrainingMemory.check(configuration, inputDimension: featurizer.dimension, pairs: dataset.count, denseFeatures: !dataset.isText)
        let threads = configuration.reading.threads
        let features = try featurizer.features(of: dataset, threads: threads)
        let heldOut = try evaluation.map { try HeldOutEvaluator($0, featurizer: featurizer, threads: threads) }
        var provenance = JSONObject()
        provenance["training"] = .object(configuration.json)
        provenance["weights"] = .object(summary.json)
        if let targetWeights { provenance["target"] = .object(targetWeights.json) }
        provenance["data"] = ["pairs": JSONValue(dataset.count), "fingerprint": .string(fingerprint(of: dataset))]
        if let noiseAdjustment { provenance["noise_audit"] = .object(noiseAdjustment.summary) }
        let checkpoints = try checkpointPolicy(configuration, featurizer: featurizer, provenance: provenance)
        let problem = TrainingProblem(features: features, weights: weights, categories: dataset.categoryIndices,
                                      categoryNames: dataset.categoryNames, margins: dataset.margins, heldOut: heldOut,
                                      configuration: configuration)

        /// One model on `pairWeights` (mean 1), as configured.
        func fitModel(_ pairWeights: [Double], checkpoints: CheckpointPolicy, reporter: Reporter) throws -> FitResult {
            var problem = problem
            problem.weights = pairWeights
            switch configuration.model {
            case .linear: return try LinearFit(problem).fit(checkpoints: checkpoints, reporter: reporter)
            case .mlp: return try MLPFit(problem).fit(checkpoints: checkpoints, reporter: reporter)
            }
        }

        let fitted: FitResult
        if configuration.boostRounds > 1 {
            fitted = try BoostedFit.run(configuration, weights: weights, reporter: reporter, fit: fitModel) { model in
                let chosen = model.rewards(features.chosen, threads: threads)
                let rejected = model.rewards(features.rejected, threads: threads)
                return zip(chosen, rejected).map { Double($0) - Double($1) }
            }
        } else {
            fitted = try fitModel(weights, checkpoints: checkpoints, reporter: reporter)
        }
        var result = fitted.details
        let (model, objective, l2Term, trainingLog) = (fitted.model, fitted.objective, fitted.l2Term, fitted.log)
        result["objective"] = .number(objective)

        provenance["result"] = .object(result)
        var trained = TrainedModel(featurizer: featurizer, model: model, reading: configuration.reading, provenance: provenance)
        trained.trainingLog = trainingLog
        return Outcome(trained: trained, weightSummary: summary, target: targetWeights, objective: objective, l2Term: l2Term, log: trainingLog,
                       description: fitDescription(fitted, configuration))
    }

    /// Checkpoints go into the model directory (`out`), each one a whole loadable model plus the state
    /// to continue (checkpoint.json, checkpoint.safetensors), swapped in atomically. `resume` reads
    /// the last one back, after checking that it was made with the same configuration and data.
    package static func checkpointPolicy(_ configuration: TrainingConfiguration, featurizer: Featurizer, provenance: JSONObject) throws -> CheckpointPolicy {
        try CheckpointPolicy.checkDestination(configuration)
        guard let out = configuration.out else { return CheckpointPolicy() }
        let write: (Checkpoint) throws -> Void = { checkpoint in
            var trained = TrainedModel(featurizer: featurizer, model: checkpoint.model, reading: configuration.reading, provenance: provenance)
            trained.trainingLog = checkpoint.log
            try ModelDirectory.save(trained, to: out, checkpoint: checkpoint)
        }
        var resume: Checkpoint?
        if configuration.resume {
            let saved = try ModelDirectory.load(out)
            resume = try ModelDirectory.loadCheckpoint(out, model: saved)
            func fingerprint(_ provenance: JSONObject) -> JSONValue? {
                guard case .object(let data)? = provenance["data"] else { return nil }
                return data["fingerprint"]
            }
            // AdamW on several MPI ranks records their count (its bits depend on it); absent: one process.
            func ranks(_ provenance: JSONObject) -> Int {
                guard case .object(let training)? = provenance["training"], let ranks = training["ranks"]?.numberValue else { return 1 }
                return Int(exactly: ranks) ?? 0
            }
            if ranks(saved.provenance) != ranks(provenance) {
                let (made, now) = (ranks(saved.provenance), ranks(provenance))
                throw UsageError("\(out): the checkpoint was made by \(plural(made, "process", "MPI ranks")), this run has \(plural(now, "process", "MPI ranks")); resume with the same rank count (mpirun -n \(made)), or train afresh without --resume")
            }
            // Settings compared as written: numbers read back from JSON may come back as integers.
            if saved.provenance["training"]?.compactText != provenance["training"]?.compactText {
                throw UsageError("\(out): the checkpoint was made with other settings (config.json \"training\" differs); resume with the same flags, or train afresh without --resume")
            }
            if fingerprint(saved.provenance) != fingerprint(provenance) {
                throw UsageError("\(out): the checkpoint was made with other data (its fingerprint differs); resume with the same data, or train afresh without --resume")
            }
        }
        return CheckpointPolicy(everyEpochs: configuration.checkpointEvery, destination: out, write: write, resume: resume)
    }
}

/// The per-pair factor sources multiplied pair by pair (nil when there is none).
private func product(_ first: [Double]?, _ second: [Double]?) -> [Double]? {
    guard let first, let second else { return first ?? second }
    return zip(first, second).map { $0 * $1 }
}

/// The final line's objective and its two terms: "objective V = weighted loss V − T + L2 term T".
package func objectiveTerms(_ objective: Double, l2Term: Double) -> String {
    "objective \(termText(objective)) = weighted loss \(termText(objective - l2Term)) + L2 term \(termText(l2Term))"
}

/// The final line's account of a fit: its objective's terms (the last round's, when boosting).
package func fitDescription(_ fitted: FitResult, _ configuration: TrainingConfiguration) -> String {
    let terms = objectiveTerms(fitted.objective, l2Term: fitted.l2Term)
    return configuration.boostRounds > 1 ? "last boosting round's \(terms)" : terms
}

/// A term of the objective for the final line: four decimals, or three significant digits when
/// smaller than 0.001 (an L2 term of 3.21e-06 is not shown as 0.0000).
package func termText(_ value: Double) -> String {
    guard value.isFinite, value != 0, abs(value) < 0.001 else { return fixed(value, 4) }
    var mantissa = abs(value)
    var exponent = 0
    while mantissa < 1 { mantissa *= 10; exponent -= 1 }
    if fixed(mantissa, 2) == "10.00" { mantissa /= 10; exponent += 1 }
    return (value < 0 ? "-" : "") + fixed(mantissa, 2) + "e-" + (-exponent < 10 ? "0" : "") + String(-exponent)
}
