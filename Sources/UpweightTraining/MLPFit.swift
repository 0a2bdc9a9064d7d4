import UpweightSupport
import UpweightIO
import UpweightData
import UpweightModels
import UpweightWeighting

/// Fits an MLP reward model with AdamW over minibatches (EpochLoop), with the weights applied in
/// loss or sample mode, optional group DRO, a learning-rate schedule and early stopping.
package struct MLPFit {
    package let features: PairFeatures
    package let categories: [Int32]
    package let categoryNames: [String]
    package let margins: [Double]
    package let configuration: TrainingConfiguration

    package func fit(weights: [Double], evaluate: ((RewardModel) -> JSONObject)?, validationLoss: ((RewardModel) -> Double)?,
             checkpoints: CheckpointPolicy, reporter: Reporter) throws -> FitResult
    {
        guard configuration.resolvedOptimizer == .adamw else {
            throw UsageError("--optimizer lbfgs is for linear models: an MLP trains with adamw")
        }
        let threads = configuration.reading.threads
        let sampler = configuration.weightMode == .sample ? AliasSampler(weights: weights) : nil
        func objective(_ pairWeights: [Double]) -> MLPObjective {
            MLPObjective(features: features, weights: pairWeights, margins: margins, loss: configuration.loss, l2: configuration.l2,
                         threads: threads, categories: categories, categoryCount: categoryNames.count)
        }
        let model = MLPRewardModel(inputDimension: features.dimension, hidden: configuration.hidden,
                                   activation: configuration.activation, initialization: configuration.initialization, seed: configuration.seed)
        var trainable = MLPTrainable(objective: objective(sampler == nil ? weights : [Double](repeating: 1, count: weights.count)),
                                     model: model, optimizer: TensorAdamW(weightDecay: configuration.weightDecay, threads: threads))
        var dro = GroupDRO(
            stepSize: configuration.groupDRO, adjustment: configuration.groupDROAdjustment,
            categories: categories, categoryCount: categoryNames.count)
        let batches = (features.count + configuration.batchSize - 1) / configuration.batchSize
        let schedule = LearningRateSchedule(peak: configuration.learningRate, warmupSteps: configuration.warmupSteps,
                                            totalSteps: batches * configuration.epochs, decay: configuration.schedule)
        let recorder = EpochRecorder(categoryNames: categoryNames, evaluate: evaluate)
        let loop = EpochLoop(configuration: configuration, categoryNames: categoryNames, pairCount: features.count,
                             sampler: sampler, checkpoints: checkpoints, record: recorder.entry, validationLoss: validationLoss)
        // Besides the loop's checks of the loss, divergence is judged by whether the rewards still vary.
        let probe = features.chosen.prefix(4096)
        let initialRewards = model.rewards(probe, threads: threads)
        let log = try loop.run(&trainable, dro: &dro, schedule: { schedule.rate(atStep: $0 + 1) }, reporter: reporter)
        // The reported objective: the weighted objective of the final model over every pair.
        var gradient = MLPGradient()
        let final = objective(weights).evaluate(trainable.model, pairs: nil, categoryScale: nil, gradient: &gradient)
        let value = final.value
        let divergence = Divergence(configuration)
        try divergence.check(loss: value, initialLoss: nil, parametersFinite: trainable.isFinite, at: "the end of training")
        try divergence.checkRewards(initial: initialRewards, final: trainable.model.rewards(probe, threads: threads), at: "the end of training")
        var details = JSONObject([("steps", JSONValue(trainable.optimizer.step)), ("objective", .number(value))])
        if let dro { details["group_weights"] = .object(JSONObject(categoryNames.indices.map { (categoryNames[$0], .number(dro.groupWeights[$0])) })) }
        if let best = log.last?["best_epoch"] { details["best_epoch"] = best }
        return FitResult(model: .mlp(trainable.model), objective: value, l2Term: final.l2Term, details: details, log: log)
    }
}

/// What one fit produced: the model, its objective on the training pairs, optimizer details, and
/// the training log.
package struct FitResult {
    package var model: RewardModel
    package var objective: Double
    /// The L2 term inside `objective` (the rest is the weighted loss).
    package var l2Term: Double
    package var details: JSONObject
    package var log: [JSONObject]
}
