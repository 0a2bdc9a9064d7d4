import UpweightSupport
import UpweightIO
import UpweightModels
import UpweightWeighting

/// Epochs of minibatches for any `MinibatchTrainable`: batch order (shuffled, or drawn ∝ weight in
/// sample mode), group DRO, the per-epoch log, progress, checkpoints, resuming, and stopping cleanly
/// on SIGINT/SIGTERM.
package struct EpochLoop {
    package let configuration: TrainingConfiguration
    package let categoryNames: [String]
    package let pairCount: Int
    package let sampler: AliasSampler?
    package let checkpoints: CheckpointPolicy
    package let record: (_ epoch: Int, _ value: LinearObjective.Value, _ rate: Double?, _ groupWeights: [Double]?, _ model: RewardModel) -> JSONObject
    /// The held-out loss, for early stopping with `configuration.patience` (nil: no held-out pairs).
    package var validationLoss: ((RewardModel) -> Double)? = nil

    package func run<Model: MinibatchTrainable>(_ model: inout Model, dro: inout GroupDRO?, schedule: (Int) -> Double,
                                         reporter: Reporter) throws -> [JSONObject]
    {
        var generator = SplitMix64(seed: configuration.seed)
        var log: [JSONObject] = []
        var startEpoch = 1
        var startBatch = 0
        var carried = (loss: 0.0, byCategory: [Double](repeating: 0, count: categoryNames.count),
                       weightByCategory: [Double](repeating: 0, count: categoryNames.count))
        let batchSize = configuration.batchSize
        let batchesPerEpoch = (pairCount + batchSize - 1) / batchSize
        if let resume = checkpoints.resume {
            try resume.validate(epochs: configuration.epochs, batchesPerEpoch: batchesPerEpoch, categories: categoryNames.count,
                                groupDRO: dro != nil)
            try restore(&model, from: resume)
            generator = SplitMix64(seed: resume.generatorState)
            if let weights = resume.groupWeights { dro?.restore(weights) }
            log = resume.log
            startEpoch = resume.epoch + 1
            startBatch = resume.batch
            if resume.batch > 0, resume.epochLossByCategory.count == categoryNames.count {
                carried = (resume.epochLoss, resume.epochLossByCategory, resume.epochWeightByCategory)
            }
        }
        let divergence = Divergence(configuration)
        // The loss before the first update. A resumed run takes the larger of its loss at the checkpoint
        // and its first epoch's (from the log): a well-trained checkpoint's small loss must not make
        // ordinary noise look like growth, and a log's number can only loosen the test, never fake a divergence.
        let loggedLoss = log.first?["train_loss"]?.numberValue.flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
        var initialLoss: Double?
        // Early stopping: the best epoch so far by held-out loss, and its exact state.
        var best: (loss: Double, epoch: Int, state: [Tensor64])?
        if let resume = checkpoints.resume, let epoch = resume.bestEpoch, let loss = resume.bestLoss {
            best = (loss, epoch, resume.bestState)
        }
        // The run's position in pairs over every epoch, for an ETA of the whole run (early stopping may end it sooner).
        func runPosition(epoch: Int, pairsDone: Int) -> Reporter.RunPosition {
            Reporter.RunPosition(completed: (epoch - 1) * pairCount + pairsDone, total: configuration.epochs * pairCount,
                                 isLimit: configuration.patience != nil)
        }
        let startPairs = min(startBatch * batchSize, pairCount)
        reporter.progress(.init(phase: "epoch \(startEpoch)/\(configuration.epochs)", completed: startPairs, total: pairCount, unit: "pairs",
                                run: runPosition(epoch: startEpoch, pairsDone: startPairs)))
        for epoch in startEpoch...max(startEpoch, configuration.epochs) where epoch <= configuration.epochs {
            let epochStart = generator.state
            // Each epoch's order comes from the generator alone (not from the last epoch's order),
            // so a resumed run draws it again from the saved state.
            var order: [Int]
            if let sampler {
                order = sampler.draw(pairCount, using: &generator)
            } else {
                order = Array(0..<pairCount)
                order.seededShuffle(using: &generator)
            }
            var sums = epoch == startEpoch ? carried : (0, [Double](repeating: 0, count: categoryNames.count), [Double](repeating: 0, count: categoryNames.count))
            let firstBatch = epoch == startEpoch ? startBatch : 0
            for batchIndex in firstBatch..<batchesPerEpoch {
                let start = batchIndex * batchSize
                let batch = Array(order[start..<min(start + batchSize, pairCount)])
                let scale = dro?.categoryScale(weightByCategory: model.weightByCategory(pairs: batch))
                let rate = schedule((epoch - 1) * batchesPerEpoch + batchIndex)
                let value = model.step(batch: batch, categoryScale: scale, rate: rate)
                try divergence.check(loss: value.value, initialLoss: nil, parametersFinite: model.isFinite,
                                     at: "epoch \(epoch), step \(batchIndex + 1)")
                if initialLoss == nil { initialLoss = max(value.value, loggedLoss ?? 0) }
                dro?.update(categoryLosses: value.meanLossByCategory)
                sums.0 += value.value
                for k in categoryNames.indices {
                    sums.1[k] += value.lossByCategory[k]
                    sums.2[k] += value.weightByCategory[k]
                }
                let pairsDone = min(start + batch.count, pairCount)
                reporter.progress(.init(phase: "epoch \(epoch)/\(configuration.epochs)", completed: pairsDone, total: pairCount, unit: "pairs",
                                        loss: sums.0 / Double(batchIndex - firstBatch + 1), run: runPosition(epoch: epoch, pairsDone: pairsDone)))
                if let signal = Interruption.pending {
                    var position = Checkpoint(epoch: epoch - 1, batch: batchIndex + 1, generatorState: epochStart,
                                              groupWeights: dro?.groupWeights, epochLoss: sums.0, epochLossByCategory: sums.1,
                                              epochWeightByCategory: sums.2, log: log, state: model.state, model: model.rewardModel)
                    position.keep(best: best)
                    try stop(signal: signal, at: position)
                }
            }
            let epochValue = LinearObjective.Value(value: sums.0 / Double(batchesPerEpoch), lossByCategory: sums.1, weightByCategory: sums.2)
            try divergence.check(loss: epochValue.value, initialLoss: initialLoss, parametersFinite: true, at: "epoch \(epoch)")
            var entry = record(epoch, epochValue, schedule(epoch * batchesPerEpoch - 1), dro?.groupWeights, model.rewardModel)
            var stopEarly = false
            if let patience = configuration.patience, let validationLoss {
                let loss = validationLoss(model.rewardModel)
                if loss < best?.loss ?? .infinity { best = (loss, epoch, model.state) }
                entry["validation_loss"] = .number(loss)
                entry["best_epoch"] = JSONValue(best!.epoch)
                stopEarly = epoch - best!.epoch >= patience
            }
            log.append(entry)
            reporter.note(EpochLine.text(log: log, epochs: configuration.epochs, patience: configuration.patience))
            if stopEarly {
                reporter.note("early stop after epoch \(epoch): the held-out loss last improved at epoch \(best!.epoch)")
                break
            }
            if let every = checkpoints.everyEpochs, epoch % every == 0, epoch < configuration.epochs, let write = checkpoints.write {
                var position = Checkpoint(epoch: epoch, batch: 0, generatorState: generator.state, groupWeights: dro?.groupWeights,
                                          epochLoss: 0, epochLossByCategory: [], epochWeightByCategory: [], log: log,
                                          state: model.state, model: model.rewardModel)
                position.keep(best: best)
                try write(position)
                reporter.note("checkpoint after epoch \(epoch) written to \(checkpoints.destination ?? "the model directory")")
            }
        }
        // The saved model is the best epoch's, when early stopping is on.
        if let best { try model.restore(best.state) }
        return log
    }

    /// Restores `model` from a checkpoint; a state that does not fit the model (or whose best
    /// epoch's state does not) is a damaged checkpoint.safetensors, found before any step is taken.
    private func restore<Model: MinibatchTrainable>(_ model: inout Model, from resume: Checkpoint) throws {
        do {
            var best = model
            try model.restore(resume.state)
            if resume.bestEpoch != nil {
                try best.restore(resume.bestState)
            }
        } catch let error as UsageError {
            throw DataError.invalidModel(resume.stateFile, error.message)
        }
    }

    private func stop(signal: Int32, at position: Checkpoint) throws -> Never {
        let place = "epoch \(position.epoch + 1), step \(position.batch)"
        guard let write = checkpoints.write else { throw TrainingInterrupted(signal: signal, at: place, unsaved: checkpoints.unsavedReason) }
        try write(position)
        throw TrainingInterrupted(signal: signal, message: "interrupted by \(Interruption.signalName(signal)) at \(place); checkpoint written to \(checkpoints.destination ?? "the model directory"). To continue, run the same command with --resume")
    }
}
