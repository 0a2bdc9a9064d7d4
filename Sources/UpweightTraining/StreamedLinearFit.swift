import UpweightSupport
import UpweightIO
import UpweightData
import UpweightModels

/// Fits θ of a linear reward model by L-BFGS over pairs streamed from disk: every function
/// evaluation is one pass over the rows (`StreamedLinearObjective`), so the optimum is the one the
/// in-memory fit finds (the same objective, its sums added in another order).
package struct StreamedLinearFit {
    package let objective: StreamedLinearObjective
    package let configuration: TrainingConfiguration

    package init(_ objective: StreamedLinearObjective, configuration: TrainingConfiguration) {
        self.objective = objective
        self.configuration = configuration
    }

    package func fit(categoryNames: [String], reporter: Reporter) throws -> FitResult {
        let solver = LBFGS(maxIterations: configuration.maxIterations, gradientTolerance: configuration.tolerance)
        let started = ContinuousClock.now
        var readFailure: Error?
        // L-BFGS's objective cannot throw: a read error ends the pass with NaN, and is thrown below.
        let evaluate: ([Double], inout [Double]) -> Double = { theta, gradient in
            guard readFailure == nil else { return .nan }
            do { return try objective.evaluate(theta, gradient: &gradient).value } catch {
                readFailure = error
                gradient = [Double](repeating: 0, count: theta.count)
                return .nan
            }
        }
        reporter.progress(.init(phase: "L-BFGS", completed: 0, total: configuration.maxIterations, unit: "iterations",
                                run: .init(completed: 0, total: configuration.maxIterations, isLimit: true)))
        let outcome = try solver.minimize(from: [Double](repeating: 0, count: objective.pairs.dimension), objective: evaluate) { iteration, loss, _ in
            if let readFailure { throw readFailure }
            reporter.progress(.init(phase: "L-BFGS", completed: iteration, total: configuration.maxIterations, unit: "iterations", loss: loss,
                                    run: .init(completed: iteration, total: configuration.maxIterations, isLimit: true)))
            try Interruption.stopIfPending(at: "L-BFGS iteration \(iteration)",
                                           unsaved: "L-BFGS runs are not checkpointed; run the command again")
        }
        if let readFailure { throw readFailure }
        let theta = outcome.parameters
        var gradient: [Double] = []
        let final = try objective.evaluate(theta, gradient: &gradient)
        let initial = try objective.evaluate([Double](repeating: 0, count: theta.count), gradient: &gradient)
        try Divergence(configuration).check(loss: final.value, initialLoss: initial.value, parametersFinite: theta.allSatisfy(\.isFinite),
                                            at: "the end of training")
        var entry = EpochRecorder.lossEntry(epoch: 1, value: final, categoryNames: categoryNames)
        entry["seconds"] = .number(elapsedSeconds(since: started))
        var details = JSONObject()
        details["stop_reason"] = .string(outcome.stopReason)
        details["gradient_norm"] = .number(outcome.gradientNorm)
        details["iterations"] = JSONValue(outcome.iterations)
        details["objective"] = .number(final.value)
        details["streamed"] = true
        return FitResult(model: .linear(LinearRewardModel(weight: theta.map { Float($0) })), objective: final.value, l2Term: final.l2Term,
                         details: details, log: [entry])
    }
}
