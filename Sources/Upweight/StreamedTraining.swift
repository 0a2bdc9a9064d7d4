import UpweightSupport
import UpweightIO
import UpweightData
import UpweightModels
import UpweightEvaluation
import UpweightTraining

extension TrainingSession {
    /// Why this run streams its data (nil: it does not): `--stream`, or dense data that would not fit
    /// the memory budget in a run that streaming supports.
    func streamingReason() -> String? {
        if configuration.stream { return "--stream" }
        guard StreamedLinearFit.unsupported(configuration) == nil else { return nil }
        return ScoredPairs.streamingReason(data + configuration.eval, configuration.reading)
    }

    /// `run` for data streamed from a scratch file: read once (rows to the file, the other columns
    /// kept), split as in memory, fit by L-BFGS with one pass over the rows per evaluation, and
    /// report on the evaluation pairs' rewards, computed in one more pass.
    func runStreamed(because reason: String, reporter: Reporter) throws -> Finished {
        let log = reporter.note
        if let refused = StreamedLinearFit.unsupported(configuration) { throw UsageError(refused) }
        let directory = SpillFile.defaultDirectory
        log("streaming (\(reason)): feature rows go to a scratch file in \(directory), deleted when the run ends")
        let clock = ContinuousClock()
        let started = clock.now
        var reading = configuration.readingWithGroups
        reading.chunkBytes = ScoredPairs.chunkBytes(reading)
        let (pairs, summary) = try StreamedPairs.read(paths: data, options: reading, directory: directory)
        let dataset = pairs.metadata
        log("read \(plural(dataset.count, "pair", "pairs")) in \(seconds(since: started))")
        logReadSummary(summary, pairs: dataset.count, log: log)
        try configuration.weighting.validate(categories: dataset.categoryNames)
        try dataset.checkMargins(field: configuration.reading.fields.margin)
        var (trainPairs, evaluationPairs) = try plannedSplit(of: dataset, log: log)
        var evaluation: (pairs: StreamedPairs, selected: [Int])?
        if evaluationPairs == nil && !configuration.eval.isEmpty {
            let (evalPairs, evalSummary) = try StreamedPairs.read(paths: configuration.eval, options: reading, directory: directory)
            logReadSummary(evalSummary, pairs: evalPairs.count, log: log)
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

        // Weights as in memory (PairWeights), then spread over all pairs: 0 for those that do not train.
        let trainingWeights = try configuration.weighting.weights(for: trainingMetadata)
        let weightSummary = WeightSummary(dataset: trainingMetadata, weights: trainingWeights)
        var weights = [Double](repeating: 0, count: dataset.count)
        for (position, pair) in training.enumerated() { weights[pair] = trainingWeights[position] }
        let threads = reading.threads
        let standardization = configuration.standardize
            ? try pairs.standardization(over: isTraining, threads: threads) : nil
        let objective = StreamedLinearObjective(pairs: pairs, weights: weights, standardization: standardization,
                                                loss: configuration.loss, l2: configuration.l2, threads: threads)
        let trainingStarted = clock.now
        let fitted = try StreamedLinearFit(objective, configuration: configuration).fit(categoryNames: dataset.categoryNames, reporter: reporter)
        let terms = "objective \(termText(fitted.objective)) = weighted loss \(termText(fitted.objective - fitted.l2Term)) + L2 term \(termText(fitted.l2Term))"
        log("trained in \(seconds(since: trainingStarted)): \(terms)")

        var provenance = JSONObject()
        provenance["training"] = .object(configuration.json)
        provenance["weights"] = .object(weightSummary.json)
        var dataEntry = JSONObject()
        dataEntry["pairs"] = JSONValue(training.count)
        dataEntry["fingerprint"] = .string(try pairs.fingerprint(of: training))
        dataEntry["files"] = .array(data.map { .string($0) })
        if !configuration.eval.isEmpty { dataEntry["eval_files"] = .array(configuration.eval.map { .string($0) }) }
        provenance["data"] = .object(dataEntry)
        provenance["result"] = .object(fitted.details)
        let featurizer = Featurizer.dense(dimension: pairs.dimension, standardization: standardization)
        var trained = TrainedModel(featurizer: featurizer, model: fitted.model, reading: configuration.reading, provenance: provenance)
        trained.trainingLog = fitted.log
        weightSummary.table.split(separator: "\n").forEach { log(String($0)) }
        log("weights: effective sample size \(fixed(weightSummary.effectiveSampleSize, 1)) of \(plural(training.count, "pair", "pairs")); heaviest 1% hold \(fixed(100 * weightSummary.topOnePercentShare, 1))% of the weight")
        if let path = configuration.logFile {
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
        if let out = configuration.out {
            try ModelDirectory.save(trained, to: out)
            log("saved model to \(out)")
        }
        let report = EvaluationReport(dataset: reportedMetadata, chosenRewards: chosen, rejectedRewards: rejected)
        return Finished(report: report, trained: trained, reportedPairsFingerprint: reportedFingerprint)
    }
}
