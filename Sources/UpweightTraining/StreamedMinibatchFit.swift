import UpweightSupport
import UpweightIO
import UpweightData
import UpweightModels
import UpweightWeighting

/// Fits a linear model or an MLP with AdamW over pairs streamed from disk: the epochs, checkpoints,
/// held-out scores and early stopping of `EpochLoop`, with each batch copied out of a window of rows
/// (`StreamedBatches`, which also draws sample mode's pairs), and group DRO's step on q after each
/// batch as in memory. The reported objective is the final model's over every training pair, one
/// more pass over the rows.
package struct StreamedMinibatchFit {
    package let batches: StreamedBatches
    /// The training pairs' categories and margins, the held-out evaluator and the configuration (its
    /// features are empty: the rows stay on disk).
    package let problem: TrainingProblem
    /// The ranks that share each batch (ShardedTrainable); one process by default.
    package let collective: any Collective

    package init(batches: StreamedBatches, problem: TrainingProblem, collective: any Collective = SingleProcess()) {
        self.batches = batches
        self.problem = problem
        self.collective = collective
    }

    package func fit(checkpoints: CheckpointPolicy, reporter: Reporter) throws -> FitResult {
        let configuration = problem.configuration
        let pairs = batches.pairs
        let loop = EpochLoop(problem: problem, sampler: nil, checkpoints: checkpoints, pairCount: batches.pairCount)
        var batches = batches
        var dro = problem.groupDRO()
        let empty = PairFeatures.withoutRows(dimension: pairs.dimension)
        var details = JSONObject()
        details["streamed"] = true
        details["shuffle_buffer"] = JSONValue(batches.windowPairs)
        switch configuration.model {
        case .linear:
            // One thread per batch: the model's bytes then do not depend on --threads, whatever the batch size.
            let objective = LinearObjective(features: empty, weights: [], margins: [], categories: [], categoryCount: problem.categoryNames.count,
                                            loss: configuration.loss, l2: configuration.l2, threads: 1)
            var trainable = LinearTrainable(objective: objective, theta: [Double](repeating: 0, count: pairs.dimension),
                                            optimizer: AdamW(learningRate: configuration.learningRate, weightDecay: configuration.weightDecay))
            let log = try loop.run(&trainable, on: collective, batches: &batches, dro: &dro, schedule: { _ in configuration.learningRate },
                                   reporter: reporter)
            details["steps"] = JSONValue(trainable.optimizer.step)
            var gradient: [Double] = []
            let final = try linearObjective().evaluate(trainable.theta, gradient: &gradient)
            let initial = try linearObjective().evaluate([Double](repeating: 0, count: pairs.dimension), gradient: &gradient)
            try Divergence(configuration).check(loss: final.value, initialLoss: initial.value, parametersFinite: trainable.isFinite,
                                                at: "the end of training")
            details["objective"] = .number(final.value)
            if let dro { details["group_weights"] = problem.byCategory(dro.groupWeights) }
            return FitResult(model: trainable.rewardModel, objective: final.value, l2Term: final.l2Term, details: details, log: log)
        case .mlp:
            guard configuration.resolvedOptimizer == .adamw else {
                throw UsageError("--optimizer lbfgs is for linear models: an MLP trains with adamw")
            }
            let model = MLPRewardModel(inputDimension: pairs.dimension, hidden: configuration.hidden, activation: configuration.activation,
                                       initialization: configuration.initialization, seed: configuration.seed)
            let objective = MLPObjective(features: empty, weights: [], margins: [], loss: configuration.loss, l2: configuration.l2,
                                         threads: problem.threads, categories: [], categoryCount: problem.categoryNames.count)
            var trainable = MLPTrainable(objective: objective, model: model,
                                         optimizer: TensorAdamW(weightDecay: configuration.weightDecay, threads: problem.threads))
            let schedule = LearningRateSchedule(peak: configuration.learningRate, warmupSteps: configuration.warmupSteps,
                                                totalSteps: loop.batchesPerEpoch * configuration.epochs, decay: configuration.schedule)
            // Besides the loop's checks of the loss, divergence is judged by whether the rewards still vary.
            // Ranks that hold their own rows: rank 0 probes its first training pairs (one process's
            // probe, when it holds 4,096 of them) and decides for all.
            let probes = batches.pairs.shard == nil || collective.isRoot
            let probe = probes ? try probeRows() : .dense(DenseRows(dimension: pairs.dimension, values: []))
            let initialRewards = model.rewards(probe, threads: problem.threads)
            let log = try loop.run(&trainable, on: collective, batches: &batches, dro: &dro, schedule: { schedule.rate(atStep: $0 + 1) },
                                   reporter: reporter)
            let final = try mlpObjective(trainable.model)
            let divergence = Divergence(configuration)
            try divergence.check(loss: final.value, initialLoss: nil, parametersFinite: trainable.isFinite, at: "the end of training")
            var failure: Error?
            do {
                if probes {
                    try divergence.checkRewards(initial: initialRewards, final: trainable.model.rewards(probe, threads: problem.threads),
                                                at: "the end of training")
                }
            } catch { failure = error }
            if batches.pairs.shard != nil { try collective.agree(failure) } else if let failure { throw failure }
            details["steps"] = JSONValue(trainable.optimizer.step)
            details["objective"] = .number(final.value)
            if let dro { details["group_weights"] = problem.byCategory(dro.groupWeights) }
            if let best = log.last?["best_epoch"] { details["best_epoch"] = best }
            return FitResult(model: .mlp(trainable.model), objective: final.value, l2Term: final.l2Term, details: details, log: log)
        }
    }

    /// The linear objective over every training pair (weights in loss mode), one pass per evaluation.
    private func linearObjective() -> StreamedLinearObjective {
        StreamedLinearObjective(pairs: batches.pairs, weights: batches.weights, standardization: batches.standardization,
                                loss: problem.configuration.loss, l2: problem.configuration.l2, threads: problem.threads, collective: collective)
    }

    /// The MLP objective of `model` over every training pair: each unit's weighted loss sums (on one
    /// thread), added in unit order, over the sum of the weights, plus the L2 term. Ranks that hold
    /// their own rows add their units' sums in turn (`orderedFold`) and join their touched rows in
    /// rank order: the additions and the order one process makes.
    private func mlpObjective(_ model: MLPRewardModel) throws -> LinearObjective.Value {
        let pairs = batches.pairs
        let configuration = problem.configuration
        // Each unit's (Σw·ℓ, Σw), and its W₁ rows: the L2 term covers the rows that some training
        // pair touches (all rows on dense input), as in memory: their union, in order of first appearance.
        var unitSums: [(loss: Double, weight: Double)] = []
        var touchedRows: [Int32] = []
        var isTouched = [Bool](repeating: false, count: pairs.hashing == nil ? 0 : model.inputDimension)
        func touch(_ rows: [Int32]) {
            for row in rows where isTouched.indices.contains(Int(row)) && !isTouched[Int(row)] {
                isTouched[Int(row)] = true
                touchedRows.append(row)
            }
        }
        var failure: Error?
        do {
            try pairs.forEachUnitInOrder(threads: problem.threads) { unit, rows -> (LinearObjective.Value, [Int32]?) in
                let range = pairs.pairs(ofUnit: unit)
                let (chosen, rejected) = pairs.sides(of: rows, standardizedBy: batches.standardization)
                let objective = MLPObjective(features: PairFeatures(chosen: chosen, rejected: rejected),
                                             weights: Array(batches.weights[range]), margins: Array(pairs.metadata.margins[range]),
                                             loss: configuration.loss, l2: configuration.l2, threads: 1)
                let training = (0..<range.count).filter { batches.isTraining[range.lowerBound + $0] }
                guard !training.isEmpty else { return (LinearObjective.Value(value: 0, lossByCategory: [], weightByCategory: [], l2Term: 0), []) }
                var gradient = MLPGradient()
                return (objective.evaluate(model, pairs: training, categoryScale: nil, gradient: &gradient), gradient.firstLayerRows)
            } combine: { value, rows in
                unitSums.append((value.lossByCategory.reduce(0, +), value.weightByCategory.reduce(0, +)))
                touch(rows ?? [])
            }
        } catch { failure = error }
        func add(_ sums: inout [Double]) {
            for unit in unitSums {
                sums[0] += unit.loss
                sums[1] += unit.weight
            }
        }
        var total = [0.0, 0.0]
        if let shard = pairs.shard {
            try shard.collective.agree(failure)
            total = try shard.collective.orderedFold(total, add)
            if pairs.hashing != nil {
                let mine = touchedRows
                (touchedRows, isTouched) = ([], [Bool](repeating: false, count: model.inputDimension))
                // Every rank's rows in rank order (as Float32 bit patterns, bit for bit): first appearances in unit order.
                touch(shard.collective.allgather(mine.map { Float(bitPattern: UInt32(bitPattern: $0)) }).map { Int32(bitPattern: $0.bitPattern) })
            }
        } else {
            if let failure { throw failure }
            add(&total)
        }
        let l2Term = MLPObjective.l2Term(of: model, l2: configuration.l2, firstLayerRows: pairs.hashing == nil ? nil : touchedRows)
        let value = (total[1] > 0 ? total[0] / total[1] : 0) + l2Term
        return LinearObjective.Value(value: value, lossByCategory: [], weightByCategory: [], l2Term: l2Term)
    }

    /// The chosen rows of the first 4,096 training pairs held here (standardized), as the in-memory fit probes.
    private func probeRows() throws -> FeatureMatrix {
        let pairs = batches.pairs
        var probe: FeatureMatrix?
        var probed = 0
        for unit in pairs.ownedUnits where probed < 4096 {
            let range = pairs.pairs(ofUnit: unit)
            let chosen = pairs.sides(of: try pairs.rows(ofUnit: unit), standardizedBy: batches.standardization).chosen
            let kept = range.filter { batches.isTraining[$0] }.prefix(4096 - probed).map { $0 - range.lowerBound }
            probed += kept.count
            probe = probe.map { $0.appending(chosen.rows(kept)) } ?? chosen.rows(kept)
        }
        return probe ?? .dense(DenseRows(dimension: pairs.dimension, values: []))
    }
}
