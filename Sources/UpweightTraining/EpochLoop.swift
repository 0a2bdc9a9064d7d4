import UpweightSupport
import UpweightIO
import UpweightModels
import UpweightWeighting

/// Epochs of minibatches for any `MinibatchTrainable` (the linear model and the MLP under AdamW):
///
///     for each epoch:   the batch order (shuffled, or drawn ∝ weight in sample mode)
///         for each batch:   loss and gradient → optimizer step → divergence check → group DRO step
///                           → progress; on SIGINT/SIGTERM, a checkpoint and stop
///         record the epoch (train loss, held-out score) → early stop? → checkpoint?
///
/// A run resumed from a checkpoint starts where it stood (`RunState`) and ends with the same bytes
/// as a run never interrupted.
package struct EpochLoop {
    package let problem: TrainingProblem
    package let sampler: AliasSampler?
    package let checkpoints: CheckpointPolicy
    private let recorder: EpochRecorder
    package let batchesPerEpoch: Int
    /// Training pairs per epoch.
    private let pairCount: Int
    private var configuration: TrainingConfiguration { problem.configuration }

    package init(problem: TrainingProblem, sampler: AliasSampler?, checkpoints: CheckpointPolicy, pairCount: Int? = nil) {
        self.problem = problem
        self.sampler = sampler
        self.checkpoints = checkpoints
        recorder = EpochRecorder(problem)
        self.pairCount = pairCount ?? problem.features.count
        batchesPerEpoch = (self.pairCount + problem.configuration.batchSize - 1) / problem.configuration.batchSize
    }

    /// Trains `model` for the configured epochs at the learning rate `schedule` gives each step
    /// (0-based), and returns the training log. With early stopping, `model` ends as its best epoch.
    package func run<Model: MinibatchTrainable>(_ model: inout Model, dro: inout GroupDRO?, schedule: (Int) -> Double,
                                                reporter: Reporter) throws -> [JSONObject]
    {
        var batches = InMemoryBatches(pairCount: pairCount, sampler: sampler)
        return try run(&model, batches: &batches, dro: &dro, schedule: schedule, reporter: reporter)
    }

    /// As above, with the batches from `batches` (the training pairs in memory, or streamed from disk).
    package func run<Model: MinibatchTrainable, Source: BatchSource>(_ model: inout Model, batches: inout Source, dro: inout GroupDRO?,
                                                                     schedule: (Int) -> Double, reporter: Reporter) throws -> [JSONObject]
    {
        precondition(batches.pairCount == pairCount, "the batches cover the loop's pairs")
        var run = try start(&model, dro: &dro)
        reporter.progress(progress(epoch: run.firstEpoch, batches: run.firstBatch))
        for epoch in stride(from: run.firstEpoch, through: configuration.epochs, by: 1) {
            run.begin(epoch)
            try batches.beginEpoch(using: &run.generator)
            for index in run.firstBatch..<batchesPerEpoch {
                let batch = try batches.batch(index, batchSize: configuration.batchSize, for: &model)
                let scale = dro?.categoryScale(weightByCategory: model.weightByCategory(pairs: batch))
                let value = model.lossAndGradient(batch: batch, categoryScale: scale)
                model.optimizerStep(rate: schedule((epoch - 1) * batchesPerEpoch + index))
                try run.check(value.value, parametersFinite: model.isFinite, at: "epoch \(epoch), step \(index + 1)")
                dro?.update(categoryLosses: value.meanLossByCategory)
                run.add(value)
                reporter.progress(progress(epoch: epoch, batches: index + 1, loss: run.sums.value / Double(index - run.firstBatch + 1)))
                if let signal = Interruption.pending {
                    try checkpoints.stop(signal: signal, at: run.checkpoint(model, dro, epochs: epoch - 1, batches: index + 1))
                }
            }
            let epochLoss = try run.finishEpoch(epoch, batches: batchesPerEpoch)
            var (entry, heldOut) = try recorder.entry(epoch: epoch, value: epochLoss, rate: schedule(epoch * batchesPerEpoch - 1),
                                                  groupWeights: dro?.groupWeights, model: model.rewardModel)
            let stop = earlyStop(after: epoch, heldOut, model, &run, &entry)
            run.log.append(entry)
            reporter.note(EpochLine.text(log: run.log, epochs: configuration.epochs, patience: configuration.patience))
            if stop {
                reporter.note("early stop after epoch \(epoch): the held-out loss last improved at epoch \(run.best!.epoch)")
                break
            }
            try checkpoints.writeIfDue(after: epoch, of: configuration.epochs, run.checkpoint(model, dro, epochs: epoch, batches: 0), reporter: reporter)
        }
        if let best = run.best { try model.restore(best.state) }  // early stopping keeps the best epoch
        return run.log
    }

    /// A fresh run, or the one the checkpoint continues: its model, group weights and position.
    private func start<Model: MinibatchTrainable>(_ model: inout Model, dro: inout GroupDRO?) throws -> RunState {
        guard let resume = checkpoints.resume else { return RunState(configuration, categories: problem.categoryNames.count) }
        try resume.validate(epochs: configuration.epochs, batchesPerEpoch: batchesPerEpoch, categories: problem.categoryNames.count,
                            groupDRO: dro != nil)
        try resume.restore(&model)
        if let weights = resume.groupWeights { dro?.restore(weights) }
        return RunState(configuration, categories: problem.categoryNames.count, resuming: resume)
    }

    /// `batches` batches into `epoch`: where the epoch stands, and the whole run in pairs over every
    /// epoch, for an ETA of the run (early stopping may end it sooner).
    private func progress(epoch: Int, batches: Int, loss: Double? = nil) -> Reporter.Progress {
        let pairsDone = min(batches * configuration.batchSize, pairCount)
        return .init(phase: "epoch \(epoch)/\(configuration.epochs)", completed: pairsDone, total: pairCount, unit: "pairs", loss: loss,
                     run: .init(completed: (epoch - 1) * pairCount + pairsDone, total: configuration.epochs * pairCount,
                                isLimit: configuration.patience != nil))
    }

    /// Early stopping (`--patience`, with held-out pairs): keeps the best epoch by held-out loss and
    /// notes it in `entry`; true once it lies `patience` epochs back.
    private func earlyStop<Model: MinibatchTrainable>(after epoch: Int, _ heldOut: HeldOutEvaluator.Score?, _ model: Model,
                                                      _ run: inout RunState, _ entry: inout JSONObject) -> Bool {
        guard let patience = configuration.patience, let loss = heldOut?.loss else { return false }
        if loss < run.best?.loss ?? .infinity { run.best = (loss, epoch, model.state) }
        entry["validation_loss"] = .number(loss)
        entry["best_epoch"] = JSONValue(run.best!.epoch)
        return epoch - run.best!.epoch >= patience
    }
}
