import UpweightSupport
import UpweightIO
import UpweightData
import UpweightModels
import UpweightWeighting

/// Fits an MLP reward model with AdamW over minibatches (EpochLoop), with the weights applied in
/// loss or sample mode, optional group DRO, a learning-rate schedule and early stopping.
package struct MLPFit {
    package let problem: TrainingProblem

    package init(_ problem: TrainingProblem) { self.problem = problem }

    package func fit(checkpoints: CheckpointPolicy, reporter: Reporter) throws -> FitResult {
        let configuration = problem.configuration
        guard configuration.resolvedOptimizer == .adamw else {
            throw UsageError("--optimizer lbfgs is for linear models: an MLP trains with adamw")
        }
        let features = problem.features
        let model = MLPRewardModel(inputDimension: features.dimension, hidden: configuration.hidden,
                                   activation: configuration.activation, initialization: configuration.initialization, seed: configuration.seed)
        var trainable = MLPTrainable(objective: objective(weights: problem.objectiveWeights), model: model,
                                     optimizer: TensorAdamW(weightDecay: configuration.weightDecay, threads: problem.threads))
        var dro = problem.groupDRO()
        let loop = EpochLoop(problem: problem, sampler: problem.sampler(), checkpoints: checkpoints)
        let schedule = LearningRateSchedule(peak: configuration.learningRate, warmupSteps: configuration.warmupSteps,
                                            totalSteps: loop.batchesPerEpoch * configuration.epochs, decay: configuration.schedule)
        // Besides the loop's checks of the loss, divergence is judged by whether the rewards still vary.
        let probe = features.chosen.prefix(4096)
        let initialRewards = model.rewards(probe, threads: problem.threads)
        let log = try loop.run(&trainable, dro: &dro, schedule: { schedule.rate(atStep: $0 + 1) }, reporter: reporter)
        // The reported objective: the weighted objective of the final model over every pair.
        var gradient = MLPGradient()
        let final = objective(weights: problem.weights).evaluate(trainable.model, pairs: nil, categoryScale: nil, gradient: &gradient)
        let value = final.value
        let divergence = Divergence(configuration)
        try divergence.check(loss: value, initialLoss: nil, parametersFinite: trainable.isFinite, at: "the end of training")
        try divergence.checkRewards(initial: initialRewards, final: trainable.model.rewards(probe, threads: problem.threads), at: "the end of training")
        var details = JSONObject([("steps", JSONValue(trainable.optimizer.step)), ("objective", .number(value))])
        if let dro { details["group_weights"] = problem.byCategory(dro.groupWeights) }
        if let best = log.last?["best_epoch"] { details["best_epoch"] = best }
        return FitResult(model: .mlp(trainable.model), objective: value, l2Term: final.l2Term, details: details, log: log)
    }

    private func objective(weights: [Double]) -> MLPObjective {
        MLPObjective(features: problem.features, weights: weights, margins: problem.margins, loss: problem.configuration.loss,
                     l2: problem.configuration.l2, threads: problem.threads, categories: problem.categories,
                     categoryCount: problem.categoryNames.count)
    }
}
