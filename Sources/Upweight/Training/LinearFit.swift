/// Fits θ of a linear reward model: the optimizer loop, with the weights applied in loss or sample
/// mode and, optionally, group DRO over categories.
struct LinearFit {
    let features: PairFeatures
    let categories: [Int32]
    let categoryNames: [String]
    let margins: [Double]
    let configuration: TrainingConfiguration

    struct Result {
        var theta: [Double]
        var objective: Double
        var details: JSONObject
        /// One JSON object per epoch (AdamW) or per group-DRO round / fit (L-BFGS).
        var log: [JSONObject]
        var groupWeights: [Double]?
    }

    /// `evaluate` scores θ on held-out pairs for the log (nil: no held-out pairs).
    func fit(weights: [Double], evaluate: (([Double]) -> JSONObject)? = nil, reporter: Reporter) throws -> Result {
        var generator = SplitMix64(seed: configuration.seed)
        let threads = configuration.reading.threads
        // Sample mode: pairs are drawn ∝ w and then count 1 each, so the objective's weights are ones.
        let sampler = configuration.weightMode == .sample ? AliasSampler(weights: weights) : nil
        let objectiveWeights = sampler == nil ? weights : [Double](repeating: 1, count: weights.count)
        let objective = LinearObjective(features: features, weights: objectiveWeights, margins: margins,
                                        categories: categories, loss: configuration.loss, l2: configuration.l2, threads: threads)
        var dro = configuration.groupDRO > 0
            ? GroupDRO(stepSize: configuration.groupDRO, adjustment: configuration.groupDROAdjustment,
                       counts: categoryNames.indices.map { k in categories.reduce(0) { $0 + ($1 == Int32(k) ? 1 : 0) } })
            : nil
        let clock = ContinuousClock()
        let started = clock.now
        var entries: [JSONObject] = []
        func record(epoch: Int, value: LinearObjective.Value, rate: Double?, theta: [Double]) {
            var entry = JSONObject()
            entry["epoch"] = JSONValue(epoch)
            entry["train_loss"] = .number(value.value)
            var byCategory = JSONObject()
            for (k, loss) in value.meanLossByCategory.enumerated() { if let loss { byCategory[categoryNames[k]] = .number(loss) } }
            entry["train_loss_by_category"] = .object(byCategory)
            if let evaluate { entry["eval"] = .object(evaluate(theta)) }
            if let dro { entry["group_weights"] = groupWeightsJSON(dro.groupWeights) }
            if let rate { entry["learning_rate"] = .number(rate) }
            entry["seconds"] = .number(secondsValue(since: started))
            entries.append(entry)
        }

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
            for round in 1...rounds {
                let scale = dro?.categoryScale(weightByCategory: objective.weightByCategory(pairs: pairs))
                let outcome = solver.minimize(from: theta, objective: { objective.evaluate($0, pairs: pairs, categoryScale: scale, gradient: &$1).value }) { iteration, loss, gradientNorm in
                    reporter.progress(.init(phase: "L-BFGS", completed: iteration, total: configuration.maxIterations, unit: "iterations", loss: loss))
                }
                theta = outcome.parameters
                iterations += outcome.iterations
                details["stop_reason"] = .string(outcome.stopReason)
                details["gradient_norm"] = .number(outcome.gradientNorm)
                let value = objective.evaluate(theta, pairs: pairs, categoryScale: scale, gradient: &gradient)
                record(epoch: round, value: value, rate: nil, theta: theta)
                guard var current = dro else { break }
                let before = current.groupWeights
                current.update(categoryLosses: value.meanLossByCategory)
                dro = current
                reporter.note("group DRO round \(round): q = \(groupWeightsText(current.groupWeights))")
                if zip(before, current.groupWeights).allSatisfy({ abs($0 - $1) < 1e-4 }) { break }
            }
            details["iterations"] = JSONValue(iterations)
        case .adamw:
            var optimizer = AdamW(learningRate: configuration.learningRate, weightDecay: configuration.weightDecay)
            var order = Array(0..<features.count)
            for epoch in 1...configuration.epochs {
                if let sampler {
                    order = sampler.draw(features.count, using: &generator)
                } else {
                    order.seededShuffle(using: &generator)
                }
                var lossSum = 0.0
                var byCategory = [Double](repeating: 0, count: categoryNames.count)
                var weightByCategory = byCategory
                var batches = 0
                for start in stride(from: 0, to: order.count, by: configuration.batchSize) {
                    let batch = Array(order[start..<min(start + configuration.batchSize, order.count)])
                    let scale = dro?.categoryScale(weightByCategory: objective.weightByCategory(pairs: batch))
                    let value = objective.evaluate(theta, pairs: batch, categoryScale: scale, gradient: &gradient)
                    optimizer.update(&theta, gradient: gradient)
                    try Trainer.checkFinite(theta, value: value.value, epoch: epoch, step: optimizer.step, rate: configuration.learningRate)
                    dro?.update(categoryLosses: value.meanLossByCategory)
                    lossSum += value.value
                    batches += 1
                    reporter.progress(.init(phase: "epoch \(epoch)/\(configuration.epochs)", completed: min(start + batch.count, order.count),
                                            total: order.count, unit: "pairs", loss: lossSum / Double(batches)))
                    for k in byCategory.indices {
                        byCategory[k] += value.lossByCategory[k]
                        weightByCategory[k] += value.weightByCategory[k]
                    }
                }
                let epochValue = LinearObjective.Value(value: lossSum / Double(max(batches, 1)), lossByCategory: byCategory,
                                                       weightByCategory: weightByCategory)
                record(epoch: epoch, value: epochValue, rate: configuration.learningRate, theta: theta)
                if let dro { reporter.note("epoch \(epoch): group DRO q = \(groupWeightsText(dro.groupWeights))") }
            }
            details["steps"] = JSONValue(optimizer.step)
        }
        // The reported objective is the weighted objective of the final θ over all pairs (loss mode).
        let finalObjective = LinearObjective(features: features, weights: weights, margins: margins, categories: categories,
                                             loss: configuration.loss, l2: configuration.l2, threads: threads)
        let value = finalObjective.evaluate(theta, gradient: &gradient).value
        try Trainer.checkFinite(theta, value: value, epoch: entries.count, step: 0, rate: configuration.learningRate)
        details["objective"] = .number(value)
        if let dro { details["group_weights"] = groupWeightsJSON(dro.groupWeights) }
        return Result(theta: theta, objective: value, details: details, log: entries, groupWeights: dro?.groupWeights)
    }

    private func groupWeightsJSON(_ weights: [Double]) -> JSONValue {
        .object(JSONObject(categoryNames.indices.map { (categoryNames[$0], .number(weights[$0])) }))
    }

    private func groupWeightsText(_ weights: [Double]) -> String {
        categoryNames.indices.map { "\(categoryNames[$0]) \(fixed(weights[$0], 3))" }.joined(separator: ", ")
    }
}

/// Seconds since `start`, as a number.
func secondsValue(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock().now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
}
