import UpweightSupport
import UpweightIO
import UpweightData
import UpweightModels
import UpweightWeighting

/// Fits θ of a linear reward model: the optimizer loop, with the weights applied in loss or sample
/// mode and, optionally, group DRO over categories.
package struct LinearFit {
    package let features: PairFeatures
    package let categories: [Int32]
    package let categoryNames: [String]
    package let margins: [Double]
    package let configuration: TrainingConfiguration

    package struct Result {
        package var theta: [Double]
        package var objective: Double
        /// The L2 term inside `objective` (the rest is the weighted loss).
        package var l2Term: Double
        package var details: JSONObject
        /// One JSON object per epoch (AdamW) or per group-DRO round / fit (L-BFGS).
        package var log: [JSONObject]
        package var groupWeights: [Double]?
    }

    /// `evaluate` scores θ on held-out pairs for the log (nil: no held-out pairs).
    package func fit(weights: [Double], evaluate: ((RewardModel) -> JSONObject)? = nil, checkpoints: CheckpointPolicy = CheckpointPolicy(),
             reporter: Reporter) throws -> Result {
        var generator = SplitMix64(seed: configuration.seed)
        let threads = configuration.reading.threads
        // Sample mode: pairs are drawn ∝ w and then count 1 each, so the objective's weights are ones.
        let sampler = configuration.weightMode == .sample ? AliasSampler(weights: weights) : nil
        let objectiveWeights = sampler == nil ? weights : [Double](repeating: 1, count: weights.count)
        let objective = LinearObjective(features: features, weights: objectiveWeights, margins: margins,
                                        categories: categories, loss: configuration.loss, l2: configuration.l2, threads: threads)
        var dro = GroupDRO(
            stepSize: configuration.groupDRO, adjustment: configuration.groupDROAdjustment,
            categories: categories, categoryCount: categoryNames.count)
        let recorder = EpochRecorder(categoryNames: categoryNames, evaluate: evaluate)
        var entries: [JSONObject] = []

        var theta = [Double](repeating: 0, count: features.dimension)
        var details = JSONObject()
        var gradient: [Double] = []
        switch configuration.resolvedOptimizer {
        case .lbfgs:
            // Sample mode with L-BFGS: one fixed resample of N pairs per run, drawn with the seed.
            let pairs = sampler?.draw(features.count, using: &generator)
            let solver = LBFGS(maxIterations: configuration.maxIterations, gradientTolerance: configuration.tolerance)
            // Group DRO with a full-batch solver alternates: minimize Σ q_k L_k for fixed q, then
            // one exponentiated-gradient step on q, until q settles (or 50 rounds).
            let rounds = dro == nil ? 1 : 50
            var iterations = 0
            // The whole run's ETA counts iterations against the most it may take (it usually converges sooner).
            let runTotal = rounds * configuration.maxIterations
            reporter.progress(.init(phase: "L-BFGS", completed: 0, total: configuration.maxIterations, unit: "iterations",
                                    run: .init(completed: 0, total: runTotal, isLimit: true)))
            for round in 1...rounds {
                let scale = dro?.categoryScale(weightByCategory: objective.weightByCategory(pairs: pairs))
                let iterationsBefore = iterations
                let outcome = try solver.minimize(from: theta, objective: { objective.evaluate($0, pairs: pairs, categoryScale: scale, gradient: &$1).value }) { iteration, loss, gradientNorm in
                    reporter.progress(.init(phase: "L-BFGS", completed: iteration, total: configuration.maxIterations, unit: "iterations", loss: loss,
                                            run: .init(completed: min(iterationsBefore + iteration, runTotal), total: runTotal, isLimit: true)))
                    try Interruption.stopIfPending(at: dro == nil ? "L-BFGS iteration \(iteration)" : "group DRO round \(round), L-BFGS iteration \(iteration)",
                                                   unsaved: "L-BFGS runs are not checkpointed; run the command again, or use --optimizer adamw with --checkpoint-every")
                }
                theta = outcome.parameters
                iterations += outcome.iterations
                details["stop_reason"] = .string(outcome.stopReason)
                details["gradient_norm"] = .number(outcome.gradientNorm)
                let value = objective.evaluate(theta, pairs: pairs, categoryScale: scale, gradient: &gradient)
                entries.append(recorder.entry(epoch: round, value: value, rate: nil, groupWeights: dro?.groupWeights,
                                              model: .linear(LinearRewardModel(weight: theta.map { Float($0) }))))
                guard var current = dro else { break }
                let before = current.groupWeights
                current.update(categoryLosses: value.meanLossByCategory)
                dro = current
                reporter.note("group DRO round \(round): q = \(groupWeightsText(current.groupWeights))")
                if zip(before, current.groupWeights).allSatisfy({ abs($0 - $1) < 1e-4 }) { break }
            }
            details["iterations"] = JSONValue(iterations)
        case .adamw:
            var trainable = LinearTrainable(objective: objective, theta: theta,
                                            optimizer: AdamW(learningRate: configuration.learningRate, weightDecay: configuration.weightDecay))
            let loop = EpochLoop(configuration: configuration, categoryNames: categoryNames, pairCount: features.count,
                                 sampler: sampler, checkpoints: checkpoints, record: recorder.entry)
            entries = try loop.run(&trainable, dro: &dro, schedule: { _ in configuration.learningRate }, reporter: reporter)
            theta = trainable.theta
            details["steps"] = JSONValue(trainable.optimizer.step)
        }
        // The reported objective is the weighted objective of the final θ over all pairs (loss mode).
        let finalObjective = LinearObjective(features: features, weights: weights, margins: margins, categories: categories,
                                             loss: configuration.loss, l2: configuration.l2, threads: threads)
        let final = finalObjective.evaluate(theta, gradient: &gradient)
        let value = final.value
        // θ started at 0: the objective there is the loss the run must not have grown 100-fold.
        let initialValue = finalObjective.evaluate([Double](repeating: 0, count: theta.count), gradient: &gradient).value
        try Divergence(configuration).check(loss: value, initialLoss: initialValue, parametersFinite: theta.allSatisfy(\.isFinite),
                                            at: "the end of training")
        details["objective"] = .number(value)
        if let dro { details["group_weights"] = .object(JSONObject(categoryNames.indices.map { (categoryNames[$0], .number(dro.groupWeights[$0])) })) }
        return Result(theta: theta, objective: value, l2Term: final.l2Term, details: details, log: entries, groupWeights: dro?.groupWeights)
    }

    private func groupWeightsText(_ weights: [Double]) -> String {
        categoryNames.indices.map { "\(categoryNames[$0]) \(fixed(weights[$0], 3))" }.joined(separator: ", ")
    }
}

/// Builds the training log's entry for one epoch (or one full-batch fit):
/// `{"epoch", "train_loss", "train_loss_by_category", "eval"?, "group_weights"?, "learning_rate"?, "seconds"}`.
package struct EpochRecorder {
    package let categoryNames: [String]
    /// Scores a model on held-out pairs (nil: none).
    package let evaluate: ((RewardModel) -> JSONObject)?
    package let started = ContinuousClock.now

    package func entry(epoch: Int, value: LinearObjective.Value, rate: Double?, groupWeights: [Double]?, model: RewardModel) -> JSONObject {
        var entry = JSONObject()
        entry["epoch"] = JSONValue(epoch)
        entry["train_loss"] = .number(value.value)
        var byCategory = JSONObject()
        for (k, loss) in value.meanLossByCategory.enumerated() { if let loss { byCategory[categoryNames[k]] = .number(loss) } }
        entry["train_loss_by_category"] = .object(byCategory)
        if let evaluate { entry["eval"] = .object(evaluate(model)) }
        if let groupWeights {
            entry["group_weights"] = .object(JSONObject(categoryNames.indices.map { (categoryNames[$0], .number(groupWeights[$0])) }))
        }
        if let rate { entry["learning_rate"] = .number(rate) }
        entry["seconds"] = .number(secondsValue(since: started))
        return entry
    }
}

/// Seconds since `start`, as a number.
package func secondsValue(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock().now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
}
