/// Where a run stands, for checkpoints: enough to continue and end with the same bytes as a run that
/// was never interrupted (same data, seed, configuration and thread count).
public struct Checkpoint: Sendable {
    /// Epochs finished, and batches finished of the next one.
    public var epoch: Int
    public var batch: Int
    /// The generator at the start of the current epoch: its batch order is drawn again from it.
    public var generatorState: UInt64
    public var groupWeights: [Double]?
    /// The current epoch's running sums (for its log entry).
    public var epochLoss: Double
    public var epochLossByCategory: [Double]
    public var epochWeightByCategory: [Double]
    public var log: [JSONObject]
    /// Parameters and optimizer state, exactly.
    public var state: [Tensor64]
    /// The model as it stands, so that the directory always holds a loadable model.
    public var model: RewardModel
    /// Early stopping's best epoch so far and its held-out loss (its state is in `state`, as `best.*`).
    public var bestEpoch: Int?
    public var bestLoss: Double?

    mutating func keep(best: (loss: Double, epoch: Int, state: [Tensor64])?) {
        guard let best else { return }
        bestEpoch = best.epoch
        bestLoss = best.loss
        state += best.state.map { Tensor64(name: "best." + $0.name, values: $0.values) }
    }

    var json: JSONObject {
        var object = JSONObject([("format", "upweight-checkpoint"), ("epoch", JSONValue(epoch)), ("batch", JSONValue(batch)),
                                 ("generator_state", .string(String(generatorState))), ("epoch_loss", .number(epochLoss)),
                                 ("epoch_loss_by_category", JSONValue(epochLossByCategory)),
                                 ("epoch_weight_by_category", JSONValue(epochWeightByCategory))])
        if let groupWeights { object["group_weights"] = JSONValue(groupWeights) }
        if let bestEpoch, let bestLoss {
            object["best_epoch"] = JSONValue(bestEpoch)
            object["best_loss"] = .number(bestLoss)
        }
        return object
    }

    init(epoch: Int, batch: Int, generatorState: UInt64, groupWeights: [Double]?, epochLoss: Double, epochLossByCategory: [Double],
         epochWeightByCategory: [Double], log: [JSONObject], state: [Tensor64], model: RewardModel)
    {
        self.epoch = epoch
        self.batch = batch
        self.generatorState = generatorState
        self.groupWeights = groupWeights
        self.epochLoss = epochLoss
        self.epochLossByCategory = epochLossByCategory
        self.epochWeightByCategory = epochWeightByCategory
        self.log = log
        self.state = state
        self.model = model
    }

    /// Reads back what `json` wrote, with the tensors and log saved beside it.
    init(json object: JSONObject, state: [Tensor64], log: [JSONObject], model: RewardModel, file: String) throws {
        func number(_ key: String) throws -> Double {
            guard let value = object[key]?.numberValue else { throw UsageError("\(file): checkpoint has no \"\(key)\"") }
            return value
        }
        func numbers(_ key: String) -> [Double]? {
            guard case .array(let items)? = object[key] else { return nil }
            return items.compactMap(\.numberValue)
        }
        guard object["format"] == "upweight-checkpoint", let generator = object["generator_state"]?.stringValue.flatMap({ UInt64($0) })
        else { throw UsageError("\(file): not an Upweight checkpoint") }
        self.init(epoch: Int(try number("epoch")), batch: Int(try number("batch")), generatorState: generator,
                  groupWeights: numbers("group_weights"), epochLoss: try number("epoch_loss"),
                  epochLossByCategory: numbers("epoch_loss_by_category") ?? [], epochWeightByCategory: numbers("epoch_weight_by_category") ?? [],
                  log: log, state: state, model: model)
        bestEpoch = object["best_epoch"]?.numberValue.map { Int($0) }
        bestLoss = object["best_loss"]?.numberValue
    }
}

/// Checkpointing for one run: how often, where to (a closure that writes the model directory), and
/// where to start from.
public struct CheckpointPolicy {
    public var everyEpochs: Int?
    public var write: ((Checkpoint) throws -> Void)?
    public var resume: Checkpoint?
    public var destination: String?
    /// Why an interrupted run keeps nothing, when `write` is nil.
    public var unsavedReason: String

    public init(everyEpochs: Int? = nil, destination: String? = nil, write: ((Checkpoint) throws -> Void)? = nil, resume: Checkpoint? = nil,
                unsavedReason: String = "no --out") {
        self.everyEpochs = everyEpochs
        self.destination = destination
        self.write = write
        self.resume = resume
        self.unsavedReason = unsavedReason
    }
}

/// Epochs of minibatches for any `MinibatchTrainable`: batch order (shuffled, or drawn ∝ weight in
/// sample mode), group DRO, the per-epoch log, progress, checkpoints, resuming, and stopping cleanly
/// on SIGINT/SIGTERM.
struct EpochLoop {
    let configuration: TrainingConfiguration
    let categoryNames: [String]
    let pairCount: Int
    let sampler: AliasSampler?
    let checkpoints: CheckpointPolicy
    let record: (_ epoch: Int, _ value: LinearObjective.Value, _ rate: Double?, _ groupWeights: [Double]?, _ model: RewardModel) -> JSONObject
    /// The held-out loss, for early stopping with `configuration.patience` (nil: no held-out pairs).
    var validationLoss: ((RewardModel) -> Double)? = nil

    func run<Model: MinibatchTrainable>(_ model: inout Model, dro: inout GroupDRO?, schedule: (Int) -> Double,
                                         reporter: Reporter) throws -> [JSONObject]
    {
        var generator = SplitMix64(seed: configuration.seed)
        var log: [JSONObject] = []
        var startEpoch = 1
        var startBatch = 0
        var carried = (loss: 0.0, byCategory: [Double](repeating: 0, count: categoryNames.count),
                       weightByCategory: [Double](repeating: 0, count: categoryNames.count))
        if let resume = checkpoints.resume {
            try model.restore(resume.state)
            generator = SplitMix64(seed: resume.generatorState)
            if let weights = resume.groupWeights { dro?.restore(weights) }
            log = resume.log
            startEpoch = resume.epoch + 1
            startBatch = resume.batch
            if resume.batch > 0, resume.epochLossByCategory.count == categoryNames.count {
                carried = (resume.epochLoss, resume.epochLossByCategory, resume.epochWeightByCategory)
            }
        }
        // Early stopping: the best epoch so far by held-out loss, and its exact state.
        var best: (loss: Double, epoch: Int, state: [Tensor64])?
        if let resume = checkpoints.resume, let epoch = resume.bestEpoch, let loss = resume.bestLoss {
            best = (loss, epoch, resume.state.filter { $0.name.hasPrefix("best.") }.map { Tensor64(name: String($0.name.dropFirst(5)), values: $0.values) })
        }
        let batchSize = configuration.batchSize
        let batchesPerEpoch = (pairCount + batchSize - 1) / batchSize
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
                guard value.value.isFinite, model.isFinite else {
                    throw TrainingError("training diverged at epoch \(epoch), step \(batchIndex + 1): the loss or a parameter is not finite. The learning rate (\(JSONValue.format(rate))) is probably too high: try --learning-rate \(JSONValue.format(configuration.learningRate / 10)), or raise --l2")
                }
                dro?.update(categoryLosses: value.meanLossByCategory)
                sums.0 += value.value
                for k in categoryNames.indices {
                    sums.1[k] += value.lossByCategory[k]
                    sums.2[k] += value.weightByCategory[k]
                }
                reporter.progress(.init(phase: "epoch \(epoch)/\(configuration.epochs)", completed: min(start + batch.count, pairCount),
                                        total: pairCount, unit: "pairs", loss: sums.0 / Double(batchIndex - firstBatch + 1)))
                if let signal = Interruption.pending {
                    var position = Checkpoint(epoch: epoch - 1, batch: batchIndex + 1, generatorState: epochStart,
                                              groupWeights: dro?.groupWeights, epochLoss: sums.0, epochLossByCategory: sums.1,
                                              epochWeightByCategory: sums.2, log: log, state: model.state, model: model.rewardModel)
                    position.keep(best: best)
                    try stop(signal: signal, at: position)
                }
            }
            let epochValue = LinearObjective.Value(value: sums.0 / Double(batchesPerEpoch), lossByCategory: sums.1, weightByCategory: sums.2)
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

    private func stop(signal: Int32, at position: Checkpoint) throws -> Never {
        let place = "epoch \(position.epoch + 1), step \(position.batch)"
        guard let write = checkpoints.write else { throw TrainingInterrupted(signal: signal, at: place, unsaved: checkpoints.unsavedReason) }
        try write(position)
        throw TrainingInterrupted(signal: signal, message: "interrupted by \(Interruption.signalName(signal)) at \(place); checkpoint written to \(checkpoints.destination ?? "the model directory"). To continue, run the same command with --resume")
    }
}
