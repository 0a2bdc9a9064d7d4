import UpweightSupport
import UpweightIO
import UpweightModels
import UpweightEvaluation

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
    /// Where it was read from (checkpoint.json and checkpoint.safetensors), for error messages.
    public var file = "checkpoint.json"
    public var stateFile = "checkpoint.safetensors"

    package mutating func keep(best: (loss: Double, epoch: Int, state: [Tensor64])?) {
        guard let best else { return }
        bestEpoch = best.epoch
        bestLoss = best.loss
        state += best.state.map { Tensor64(name: "best." + $0.name, values: $0.values) }
    }

    /// Early stopping's best state, without its `best.` prefix.
    package var bestState: [Tensor64] {
        state.filter { $0.name.hasPrefix("best.") }.map { Tensor64(name: String($0.name.dropFirst(5)), values: $0.values) }
    }

    package var json: JSONObject {
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

    package init(epoch: Int, batch: Int, generatorState: UInt64, groupWeights: [Double]?, epochLoss: Double, epochLossByCategory: [Double],
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

    /// Reads back what `json` wrote, with the tensors and log saved beside it. Both files are
    /// untrusted: every number is checked (whole, finite, in range) before it is used.
    package init(json object: JSONObject, state: [Tensor64], log: [JSONObject], model: RewardModel, file: String, stateFile: String) throws {
        func invalid(_ why: String) -> DataError { .invalidModel(file, why) }
        func whole(_ key: String, in range: ClosedRange<Int>) throws -> Int {
            guard let value = object[key]?.wholeNumber(in: range) else {
                throw invalid("\"\(key)\" must be a whole number from \(range.lowerBound) to \(range.upperBound), got \(object[key].map(ConfigValue.describe) ?? "nothing")")
            }
            return value
        }
        func finite(_ key: String) throws -> Double {
            guard let value = object[key]?.numberValue, value.isFinite else { throw invalid("\"\(key)\" must be a finite number") }
            return value
        }
        func numbers(_ key: String) throws -> [Double]? {
            guard let entry = object[key] else { return nil }
            guard case .array(let items) = entry, case let values = items.compactMap(\.numberValue),
                  values.count == items.count, values.allSatisfy({ $0.isFinite && $0 >= 0 })
            else { throw invalid("\"\(key)\" must be a list of finite numbers ≥ 0") }
            return values
        }
        guard object["format"] == "upweight-checkpoint" else { throw invalid("not an Upweight checkpoint (no \"format\": \"upweight-checkpoint\")") }
        guard let generator = object["generator_state"]?.stringValue.flatMap({ UInt64($0) }) else {
            throw invalid("\"generator_state\" must be a whole number from 0 to 2^64 − 1, written as a string")
        }
        self.init(epoch: try whole("epoch", in: 0...Checkpoint.maximumEpochs), batch: try whole("batch", in: 0...Int(Int32.max)),
                  generatorState: generator, groupWeights: try numbers("group_weights"), epochLoss: try finite("epoch_loss"),
                  epochLossByCategory: try numbers("epoch_loss_by_category") ?? [], epochWeightByCategory: try numbers("epoch_weight_by_category") ?? [],
                  log: log, state: state, model: model)
        self.file = file
        self.stateFile = stateFile
        if object["best_epoch"] != nil || object["best_loss"] != nil {
            bestEpoch = try whole("best_epoch", in: 1...max(1, epoch))
            bestLoss = try finite("best_loss")
        }
    }

    /// Puts this checkpoint's parameters and optimizer state into `model`. A state that does not fit
    /// the model (or whose best epoch's state does not) is a damaged checkpoint.safetensors, found
    /// before any step is taken.
    package func restore<Model: MinibatchTrainable>(_ model: inout Model) throws {
        do {
            var best = model
            try model.restore(state)
            if bestEpoch != nil {
                try best.restore(bestState)
            }
        } catch let error as UsageError {
            throw DataError.invalidModel(stateFile, error.message)
        }
    }

    /// The most epochs a run may have (`--epochs`), so a checkpoint's epoch is bounded too.
    package static let maximumEpochs = 1_000_000

    /// Throws unless this checkpoint is a position inside the run it resumes: an epoch before the
    /// last, a batch inside the epoch or at its end (a signal during its last batch: the resumed run
    /// only closes the epoch), group weights and sums for these categories.
    package func validate(epochs: Int, batchesPerEpoch: Int, categories: Int, groupDRO: Bool) throws {
        func invalid(_ why: String) -> DataError { .invalidModel(file, why) }
        guard epoch < epochs else { throw invalid("epoch \(epoch) is not before the run's last epoch (\(epochs)); nothing is left to resume") }
        guard batch <= batchesPerEpoch else { throw invalid("batch \(batch) is beyond the \(batchesPerEpoch) batches of an epoch") }
        for (key, values) in [("epoch_loss_by_category", epochLossByCategory), ("epoch_weight_by_category", epochWeightByCategory)]
        where !values.isEmpty && values.count != categories {
            throw invalid("\"\(key)\" has \(values.count) entries for \(categories) categories")
        }
        if let groupWeights {
            guard groupDRO, groupWeights.count == categories, abs(groupWeights.reduce(0, +) - 1) < 1e-6 else {
                throw invalid("\"group_weights\" must be one weight per category (\(categories)) summing to 1, and only with --group-dro")
            }
        }
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

extension CheckpointPolicy {
    /// Checkpoints live in the model directory: `--checkpoint-every` and `--resume` need `--out`.
    package static func checkDestination(_ configuration: TrainingConfiguration) throws {
        if configuration.out == nil && (configuration.checkpointEvery != nil || configuration.resume) {
            throw UsageError("--checkpoint-every and --resume need --out: checkpoints live in the model directory")
        }
    }

    /// Writes `position` after `epoch` every `everyEpochs` epochs, but not after the last (the
    /// finished model replaces it).
    package func writeIfDue(after epoch: Int, of epochs: Int, _ position: @autoclosure () -> Checkpoint, reporter: Reporter) throws {
        guard let every = everyEpochs, epoch % every == 0, epoch < epochs, let write else { return }
        try write(position())
        reporter.note("checkpoint after epoch \(epoch) written to \(destination ?? "the model directory")")
    }

    /// Stops a run on `signal`, after writing `position` when there is somewhere to write it.
    package func stop(signal: Int32, at position: Checkpoint) throws -> Never {
        let place = "epoch \(position.epoch + 1), step \(position.batch)"
        guard let write else { throw TrainingInterrupted(signal: signal, at: place, unsaved: unsavedReason) }
        try write(position)
        throw TrainingInterrupted(signal: signal, message: "interrupted by \(Interruption.signalName(signal)) at \(place); checkpoint written to \(destination ?? "the model directory"). To continue, run the same command with --resume")
    }
}
