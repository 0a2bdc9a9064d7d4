import UpweightSupport
import UpweightIO
import UpweightModels
import UpweightWeighting

/// Where a minibatch run (`EpochLoop`) stands between steps, fresh or read back from a checkpoint:
/// the generator, the log so far, the current epoch's running sums, early stopping's best epoch,
/// and the loss that divergence is judged against. `checkpoint` writes it down again.
struct RunState {
    var generator: SplitMix64
    var log: [JSONObject] = []
    /// The first epoch this process trains, and the batch of it to start at.
    let firstEpoch: Int
    private(set) var firstBatch = 0
    /// The generator as the current epoch began: its batch order is drawn again from it on resume.
    private(set) var epochStart: UInt64 = 0
    /// The current epoch's batch losses summed, overall and per category (with the weights behind them).
    private(set) var sums: LinearObjective.Value
    /// Early stopping's best epoch so far by held-out loss, and its exact state.
    var best: (loss: Double, epoch: Int, state: [Tensor64])?
    private let divergence: Divergence
    /// The loss before the first update (see `check`), and a resumed run's first logged epoch loss.
    private var initialLoss: Double?
    private let loggedLoss: Double?

    /// A fresh run.
    init(_ configuration: TrainingConfiguration, categories: Int) {
        generator = SplitMix64(seed: configuration.seed)
        firstEpoch = 1
        sums = Self.zero(categories)
        divergence = Divergence(configuration)
        loggedLoss = nil
    }

    /// The run `checkpoint` continues (already validated against this run).
    init(_ configuration: TrainingConfiguration, categories: Int, resuming checkpoint: Checkpoint) {
        generator = SplitMix64(seed: checkpoint.generatorState)
        log = checkpoint.log
        firstEpoch = checkpoint.epoch + 1
        firstBatch = checkpoint.batch
        sums = Self.zero(categories)
        if checkpoint.batch > 0, checkpoint.epochLossByCategory.count == categories {
            sums = LinearObjective.Value(value: checkpoint.epochLoss, lossByCategory: checkpoint.epochLossByCategory,
                                         weightByCategory: checkpoint.epochWeightByCategory)
        }
        if let epoch = checkpoint.bestEpoch, let loss = checkpoint.bestLoss { best = (loss, epoch, checkpoint.bestState) }
        divergence = Divergence(configuration)
        loggedLoss = log.first?["train_loss"]?.numberValue.flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
    }

    private static func zero(_ categories: Int) -> LinearObjective.Value {
        LinearObjective.Value(value: 0, lossByCategory: [Double](repeating: 0, count: categories),
                              weightByCategory: [Double](repeating: 0, count: categories))
    }

    /// Starts `epoch`: its sums from zero (the resumed epoch's from the checkpoint's), the generator noted.
    mutating func begin(_ epoch: Int) {
        epochStart = generator.state
        if epoch > firstEpoch {
            firstBatch = 0
            sums = Self.zero(sums.lossByCategory.count)
        }
    }

    /// The divergence check after a step (whose loss was `loss`): the loss and the parameters finite.
    /// The first step's loss becomes the initial loss the epochs are judged against. A resumed run takes
    /// the larger of that and its first epoch's (from the log): a well-trained checkpoint's small loss must
    /// not make ordinary noise look like growth, and a log's number can only loosen the test, never fake
    /// a divergence.
    mutating func check(_ loss: Double, parametersFinite: Bool, at place: String) throws {
        try divergence.check(loss: loss, initialLoss: nil, parametersFinite: parametersFinite, at: place)
        if initialLoss == nil { initialLoss = max(loss, loggedLoss ?? 0) }
    }

    mutating func add(_ value: LinearObjective.Value) {
        sums.value += value.value
        for k in sums.lossByCategory.indices {
            sums.lossByCategory[k] += value.lossByCategory[k]
            sums.weightByCategory[k] += value.weightByCategory[k]
        }
    }

    /// The finished epoch's loss, the mean over its batches, once it has passed the divergence check
    /// (not more than 100× the initial loss).
    func finishEpoch(_ epoch: Int, batches: Int) throws -> LinearObjective.Value {
        let value = LinearObjective.Value(value: sums.value / Double(batches), lossByCategory: sums.lossByCategory,
                                          weightByCategory: sums.weightByCategory)
        try divergence.check(loss: value.value, initialLoss: initialLoss, parametersFinite: true, at: "epoch \(epoch)")
        return value
    }

    /// This position as a checkpoint, `epochs` finished and `batches` of the next: mid-epoch, its
    /// generator state is the epoch's start and its sums go along; between epochs, neither is needed.
    func checkpoint<Model: MinibatchTrainable>(_ model: Model, _ dro: GroupDRO?, epochs: Int, batches: Int) -> Checkpoint {
        let midEpoch = batches > 0
        var checkpoint = Checkpoint(epoch: epochs, batch: batches, generatorState: midEpoch ? epochStart : generator.state,
                                    groupWeights: dro?.groupWeights, epochLoss: midEpoch ? sums.value : 0,
                                    epochLossByCategory: midEpoch ? sums.lossByCategory : [],
                                    epochWeightByCategory: midEpoch ? sums.weightByCategory : [],
                                    log: log, state: model.state, model: model.rewardModel)
        checkpoint.keep(best: best)
        return checkpoint
    }
}
