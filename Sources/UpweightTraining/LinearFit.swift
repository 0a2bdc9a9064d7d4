import UpweightSupport
import UpweightIO
import UpweightData
import UpweightModels
import UpweightWeighting

/// Fits θ of a linear reward model, by L-BFGS over every pair or AdamW over minibatches, with the
/// weights applied in loss or sample mode and, optionally, group DRO over categories.
package struct LinearFit {
    package let problem: TrainingProblem

    package init(_ problem: TrainingProblem) { self.problem = problem }

    package func fit(checkpoints: CheckpointPolicy = CheckpointPolicy(), reporter: Reporter) throws -> FitResult {
        let configuration = problem.configuration
        let sampler = problem.sampler()
        let objective = self.objective(weights: problem.objectiveWeights)
        var dro = problem.groupDRO()
        var theta = [Double](repeating: 0, count: problem.features.dimension)
        var details = JSONObject()
        let log: [JSONObject]
        switch configuration.resolvedOptimizer {
        case .lbfgs:
            log = try fitLBFGS(objective, sampler: sampler, dro: &dro, theta: &theta, details: &details, reporter: reporter)
        case .adamw:
            var trainable = LinearTrainable(objective: objective, theta: theta,
                                            optimizer: AdamW(learningRate: configuration.learningRate, weightDecay: configuration.weightDecay))
            let loop = EpochLoop(problem: problem, sampler: sampler, checkpoints: checkpoints)
            log = try loop.run(&trainable, dro: &dro, schedule: { _ in configuration.learningRate }, reporter: reporter)
            theta = trainable.theta
            details["steps"] = JSONValue(trainable.optimizer.step)
        }
        // The reported objective is the weighted objective of the final θ over all pairs (loss mode).
        let final = self.objective(weights: problem.weights)
        var gradient: [Double] = []
        let finalValue = final.evaluate(theta, gradient: &gradient)
        let value = finalValue.value
        // θ started at 0: the objective there is the loss the run must not have grown 100-fold.
        let initialValue = final.evaluate([Double](repeating: 0, count: theta.count), gradient: &gradient).value
        try Divergence(configuration).check(loss: value, initialLoss: initialValue, parametersFinite: theta.allSatisfy(\.isFinite),
                                            at: "the end of training")
        details["objective"] = .number(value)
        if let dro { details["group_weights"] = problem.byCategory(dro.groupWeights) }
        return FitResult(model: .linear(LinearRewardModel(weight: theta.map { Float($0) })), objective: value, l2Term: finalValue.l2Term,
                         details: details, log: log)
    }

    private func objective(weights: [Double]) -> LinearObjective {
        LinearObjective(features: problem.features, weights: weights, margins: problem.margins, categories: problem.categories,
                        loss: problem.configuration.loss, l2: problem.configuration.l2, threads: problem.threads)
    }

    /// L-BFGS from `theta` (`LBFGSRounds`, with group DRO's alternation). In sample mode, over one
    /// fixed resample of N pairs drawn with the seed (`sampleOnce`).
    private func fitLBFGS(_ objective: LinearObjective, sampler: AliasSampler?, dro: inout GroupDRO?, theta: inout [Double],
                          details: inout JSONObject, reporter: Reporter) throws -> [JSONObject] {
        let pairs = sampler.map { problem.sampleOnce($0) }
        let rounds = LBFGSRounds(problem: problem, weightByCategory: objective.weightByCategory(pairs: pairs)) { theta, scale, gradient in
            objective.evaluate(theta, pairs: pairs, categoryScale: scale, gradient: &gradient)
        }
        return try rounds.run(theta: &theta, dro: &dro, details: &details, reporter: reporter)
    }
}
