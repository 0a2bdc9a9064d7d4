import UpweightSupport
import UpweightIO
import UpweightData
import UpweightModels
import UpweightEvaluation
import UpweightTraining

extension TrainingSession {
    /// Why this run streams its data (nil: it does not): `--stream`, or data that would not fit the
    /// memory budget in a run that streaming supports.
    func streamingReason() -> String? {
        if configuration.stream { return "--stream" }
        guard StreamingLimits.refusal(configuration) == nil else { return nil }
        return ScoredPairs.streamingReason(data + configuration.eval, configuration.reading)
    }

    /// `run` for data streamed from a scratch file: read once (rows to the file, the other columns
    /// kept), split as in memory, fit by L-BFGS with one pass over the rows per evaluation or by
    /// AdamW over batches copied out of windows of rows (group DRO and sample mode inside either fit,
    /// `--boost` around it), and report on the evaluation pairs' rewards, computed in one more pass.
    func runStreamed(because reason: String, reporter: Reporter) throws -> Finished {
        let log = reporter.note
        let ranks = collective ?? SingleProcess()
        if let refused = StreamingLimits.refusal(configuration) { throw UsageError(refused) }
        let directory = SpillFile.defaultDirectory
        log("streaming (\(reason)): \(StreamedPairs.rowsDestination(configuration.reading, scratchDirectory: directory))")
        let clock = ContinuousClock()
        let started = clock.now
        var reading = configuration.readingWithGroups
        reading.chunkBytes = ScoredPairs.chunkBytes(reading)
        // Text is hashed as it is read, as in memory (dense data ignores this).
        let hashing = Featurizer.hashed(hashBits: configuration.hashBits, includePrompt: configuration.includePrompt)
        // MPI ranks each read their own blocks.
        func read(_ paths: [String]) throws -> (StreamedPairs, ReadSummary) {
            guard ranks.size > 1 else { return try StreamedPairs.read(paths: paths, options: reading, hashing: hashing, directory: directory, note: log) }
            return try StreamedPairs.readShare(paths: paths, options: reading, hashing: hashing, directory: directory, collective: ranks, note: log)
        }
        let (pairs, summary) = try read(data)
        let dataset = pairs.metadata
        log("read \(plural(dataset.count, "pair", "pairs")) in \(seconds(since: started))")
        logReadSummary(summary, pairs: dataset.count, log: log)
        try configuration.weighting.validate(categories: dataset.categoryNames)
        try dataset.checkMargins(field: configuration.reading.fields.margin)
        var (trainPairs, evaluationPairs) = try plannedSplit(of: dataset, log: log)
        var evaluation: (pairs: StreamedPairs, selected: [Int])?
        if evaluationPairs == nil && !configuration.eval.isEmpty {
            let (evalPairs, evalSummary) = try read(configuration.eval)
            logReadSummary(evalSummary, pairs: evalPairs.count, log: log)
            guard (evalPairs.hashing == nil) == (pairs.hashing == nil) else {
                throw DataError(file: configuration.eval[0], message: "has \(evalPairs.hashing == nil ? "dense" : "text") pairs, but \(data[0]) has \(pairs.hashing == nil ? "dense" : "text") pairs",
                                reason: "mixed shapes")
            }
            guard evalPairs.dimension == pairs.dimension else {
                throw DataError(file: configuration.eval[0], message: "has \(plural(evalPairs.dimension, "number", "numbers")) per vector, the training data \(pairs.dimension)",
                                field: configuration.reading.fields.chosenFeatures, reason: "dimension mismatch")
            }
            evaluation = (evalPairs, Array(0..<evalPairs.count))
        } else if let evaluationPairs {
            evaluation = (pairs, evaluationPairs)
        }
        let training = trainPairs ?? Array(0..<dataset.count)
        trainPairs = nil
        evaluationPairs = nil
        var isTraining = [Bool](repeating: false, count: dataset.count)
        for pair in training { isTraining[pair] = true }
        let trainingMetadata = dataset.subset(training)
        log("training on \(plural(training.count, "pair", "pairs")) in \(plural(trainingMetadata.categoryNames.count, "category", "categories"))")
        // Text, as in memory: the training texts' keys go with the model, and the evaluation pairs are checked against them.
        let trainingTexts = pairs.hashing == nil ? nil : TextFingerprints(trainingMetadata)
        if let trainingTexts, let evaluation {
            Contamination(evaluation.pairs.metadata.subset(evaluation.selected.sorted()), training: trainingTexts).lines.forEach(log)
        }

        // Weights as in memory (PairWeights), for the training pairs (spread over all pairs per fit: 0 for the others).
        let trainingWeights = try configuration.weighting.weights(for: trainingMetadata)
        let weightSummary = WeightSummary(dataset: trainingMetadata, weights: trainingWeights)
        let threads = reading.threads
        // As in memory (`Featurizer.fit`), hashed text is never standardized. Passes over the rows
        // between collectives agree on how they ended: a rank that fails to read must not leave the
        // others waiting in the next collective.
        let standardization = configuration.standardize && pairs.hashing == nil
            ? try ranks.agreeing { try pairs.standardization(over: isTraining, threads: threads) } : nil
        let featurizer = pairs.hashing ?? Featurizer.dense(dimension: pairs.dimension, standardization: standardization)
        var provenance = JSONObject()
        var trainingSettings = configuration.json
        let windowPairs = shuffleWindow(bytesPerPair: pairs.bytesPerPair)
        if configuration.resolvedOptimizer == .adamw { trainingSettings["shuffle-buffer"] = JSONValue(windowPairs) }
        // AdamW's bits depend on the rank count (each rank sums its share of a batch): a checkpoint resumes on as many.
        if configuration.resolvedOptimizer == .adamw && ranks.size > 1 { trainingSettings["ranks"] = JSONValue(ranks.size) }
        provenance["training"] = .object(trainingSettings)
        provenance["weights"] = .object(weightSummary.json)
        let fingerprint = try ranks.agreeing { try pairs.fingerprint(of: training) }
        try checkRanksAgree(on: ranks, fingerprint: fingerprint)
        provenance["data"] = .object(dataProvenance(["pairs": JSONValue(training.count), "fingerprint": .string(fingerprint)]))
        let trainingStarted = clock.now
        (ranks as? MeasuredCollective)?.startTraining()
        if configuration.resolvedOptimizer == .adamw && windowPairs < configuration.shuffleBuffer {
            log("shuffling within windows of at most \(plural(windowPairs, "pair", "pairs")) (a quarter of --max-memory), not --shuffle-buffer's \(configuration.shuffleBuffer)")
        }
        let heldOut = evaluation.map { evaluation in
            let selected = evaluation.selected.sorted()
            return HeldOutEvaluator(evaluation.pairs.metadata.subset(selected)) { model in
                try TrainedModel(featurizer: featurizer, model: model, reading: configuration.reading, provenance: JSONObject())
                    .rewards(for: evaluation.pairs, selected: selected, threads: threads)
            }
        }
        let problem = TrainingProblem(features: .withoutRows(dimension: pairs.dimension), weights: trainingWeights, categories: training.map { dataset.categoryIndices[$0] },
                                      categoryNames: dataset.categoryNames, margins: trainingMetadata.margins, heldOut: heldOut,
                                      configuration: configuration)
        // Every rank resumes from the checkpoint; rank 0 alone writes (its state is every rank's).
        var checkpoints = try Trainer.checkpointPolicy(configuration, featurizer: featurizer, provenance: provenance)
        if !ranks.isRoot { (checkpoints.write, checkpoints.unsavedReason) = (nil, "rank 0 writes the checkpoints") }

        /// One model on per-training-pair weights (the weighting's, or a boosting round's), as configured.
        func fit(_ roundWeights: [Double], checkpoints: CheckpointPolicy, reporter: Reporter) throws -> FitResult {
            var problem = problem
            problem.weights = roundWeights
            let weights = pairs.spread(roundWeights, over: training)
            if configuration.resolvedOptimizer == .adamw {
                let batches = StreamedBatches(pairs: pairs, weights: weights, isTraining: isTraining, standardization: standardization,
                                              windowPairs: windowPairs, drawsByWeight: configuration.weightMode == .sample)
                return try StreamedMinibatchFit(batches: batches, problem: problem, collective: ranks).fit(checkpoints: checkpoints, reporter: reporter)
            }
            let objective = StreamedLinearObjective(pairs: pairs, weights: weights, standardization: standardization,
                                                    loss: configuration.loss, l2: configuration.l2, threads: threads, collective: ranks)
            return try StreamedLinearFit(objective, problem: problem, training: training).fit(reporter: reporter)
        }

        let fitted: FitResult
        if configuration.boostRounds > 1 {
            // Each round's training margins come from one streamed pass over the training pairs' rows.
            fitted = try BoostedFit.run(configuration, weights: trainingWeights, reporter: reporter, fit: fit) { model in
                let rewards = try ranks.agreeing {
                    try TrainedModel(featurizer: featurizer, model: model, reading: configuration.reading, provenance: JSONObject())
                        .rewards(for: pairs, selected: training, threads: threads)
                }
                return zip(rewards.chosen, rewards.rejected).map { Double($0) - Double($1) }
            }
        } else {
            fitted = try fit(trainingWeights, checkpoints: checkpoints, reporter: reporter)
        }
        log("trained in \(seconds(since: trainingStarted)): \(fitDescription(fitted, configuration))")
        provenance["result"] = .object(fitted.details)
        var trained = TrainedModel(featurizer: featurizer, model: fitted.model, reading: configuration.reading, provenance: provenance)
        trained.trainingLog = fitted.log
        trained.trainingTexts = trainingTexts
        weightSummary.notes(pairs: training.count).forEach(log)
        if let path = configuration.logFile, ranks.isRoot {
            try Files.writeAtomically(ModelDirectory.trainingLogText(fitted.log), to: path)
        }

        // The report's pairs: the evaluation pairs, else the training pairs; rewards from one more pass.
        let reported = evaluation ?? (pairs, training)
        if evaluation == nil { log("no --eval or --holdout: the report is on the training pairs") }
        let all = try trained.rewards(for: reported.pairs, threads: threads)
        let chosen = reported.selected.map { all.chosen[$0] }
        let rejected = reported.selected.map { all.rejected[$0] }
        let reportedMetadata = reported.pairs.metadata.subset(reported.selected)
        let reportedFingerprint = try reported.pairs.fingerprint(of: reported.selected)
        if evaluation != nil && configuration.eval.isEmpty && configuration.evalSplit == nil && configuration.holdout > 0 {
            trained.heldOut = HeldOutRecord(heldOut: reportedMetadata, fraction: configuration.holdout, seed: configuration.seed,
                                            grouping: configuration.grouping, fingerprint: reportedFingerprint)
        }
        if let out = configuration.out, ranks.isRoot {
            try ModelDirectory.save(trained, to: out)
            log("saved model to \(out)")
        }
        let report = EvaluationReport(dataset: reportedMetadata, chosenRewards: chosen, rejectedRewards: rejected)
        return Finished(report: report, trained: trained, reportedPairsFingerprint: reportedFingerprint)
    }

    /// The pairs a streamed AdamW window holds: `--shuffle-buffer`, but at most a quarter of
    /// `--max-memory` in rows (StreamedBatches keeps at least one unit).
    private func shuffleWindow(bytesPerPair: Int) -> Int {
        guard let budget = configuration.reading.maxMemory else { return configuration.shuffleBuffer }
        return max(1, min(configuration.shuffleBuffer, budget / 4 / bytesPerPair))
    }
}
