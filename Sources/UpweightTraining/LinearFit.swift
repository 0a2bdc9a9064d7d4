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

    /// L-BFGS from `theta`. In sample mode, over one fixed resample of N pairs drawn with the seed.
    /// Group DRO with a full-batch solver alternates: minimize Σ q_k L_k for fixed q, then one
    /// exponentiated-gradient step on q, until q settles (or 50 rounds). One log entry a round.
    private func fitLBFGS(_ objective: LinearObjective, sampler: AliasSampler?, dro: inout GroupDRO?, theta: inout [Double],
                          details: inout JSONObject, reporter: Reporter) throws -> [JSONObject] {
        let configuration = problem.configuration
        var generator = SplitMix64(seed: configuration.seed)
        let pairs = sampler?.draw(problem.features.count, using: &generator)
        let solver = LBFGS(maxIterations: configuration.maxIterations, gradientTolerance: configuration.tolerance)
        let recorder = EpochRecorder(problem)
        var log: [JSONObject] = []
        var gradient: [Double] = []
        var iterations = 0
        let rounds = dro == nil ? 1 : 50
        // The whole run's ETA counts iterations against the most it may take (it usually converges sooner).
        let runTotal = rounds * configuration.maxIterations
        reporter.progress(.init(phase: "L-BFGS", completed: 0, total: configuration.maxIterations, unit: "iterations",
                                run: .init(completed: 0, total: runTotal, isLimit: true)))
        for round in 1...rounds {
            let scale = dro?.categoryScale(weightByCategory: objective.weightByCategory(pairs: pairs))
            let iterationsBefore = iterations
            let outcome = try solver.minimize(from: theta, objective: { objective.evaluate($0, pairs: pairs, categoryScale: scale, gradient: &$1).value }) { iteration, loss, gradientNorm in
                reporter.progress(.init(phase: "L-BFGS", completed: iteration, total: configuration.maxIterations, unit: "iterations", loss: loss,
                                        run: .init(completed: min(iterationsBefore + iteration, runTotal), total: runTotal, isLimit: true)))
                try Interruption.stopIfPending(at: dro == nil ? "L-BFGS iteration \(iteration)" : "group DRO round \(round), L-BFGS iteration \(iteration)",
                                               unsaved: "L-BFGS runs are not checkpointed; run the command again, or use --optimizer adamw with --checkpoint-every")
            }
            theta = outcome.parameters
            iterations += outcome.iterations
            details["stop_reason"] = .string(outcome.stopReason)
            details["gradient_norm"] = .number(outcome.gradientNorm)
            let value = objective.evaluate(theta, pairs: pairs, categoryScale: scale, gradient: &gradient)
            log.append(try recorder.entry(epoch: round, value: value, rate: nil, groupWeights: dro?.groupWeights,
                                      model: .linear(LinearRewardModel(weight: theta.map { Float($0) }))).entry)
            guard var current = dro else { break }
            let before = current.groupWeights
            current.update(categoryLosses: value.meanLossByCategory)
            dro = current
            reporter.note("group DRO round \(round): q = \(groupWeightsText(current.groupWeights))")
            if zip(before, current.groupWeights).allSatisfy({ abs($0 - $1) < 1e-4 }) { break }
        }
        details["iterations"] = JSONValue(iterations)
        return log
    }

    private func groupWeightsText(_ weights: [Double]) -> String {
        problem.categoryNames.indices.map { "\(problem.categoryNames[$0]) \(fixed(weights[$0], 3))" }.joined(separator: ", ")
    }
}
