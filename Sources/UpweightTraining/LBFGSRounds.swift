import UpweightSupport
import UpweightIO
import UpweightModels
import UpweightWeighting

/// L-BFGS over a linear objective, in rounds when group DRO is on: minimize Σ_k q_k·L_k for fixed
/// q, then one exponentiated-gradient step on q, until q settles (or 50 rounds); one round
/// without it. One log entry a round. The objective is given as a function, so the pairs may be in
/// memory (`LinearFit`) or streamed from disk (`StreamedLinearFit`): the same rounds either way.
package struct LBFGSRounds {
    package let problem: TrainingProblem
    /// Σ_{i∈k} w_i over the pairs the objective covers, per category (what q is normalized by).
    package let weightByCategory: [Double]
    /// L(θ) with pair i counted w_i·scale[k_i] when a scale is given, its gradient into the last
    /// argument. It may throw (a streamed read): L-BFGS then sees NaN, and the error is rethrown.
    package let evaluate: ([Double], [Double]?, inout [Double]) throws -> LinearObjective.Value

    package init(problem: TrainingProblem, weightByCategory: [Double],
                 evaluate: @escaping ([Double], [Double]?, inout [Double]) throws -> LinearObjective.Value) {
        self.problem = problem
        self.weightByCategory = weightByCategory
        self.evaluate = evaluate
    }

    /// Minimizes from `theta` (left at the optimum), stepping `dro` between rounds; stop reason,
    /// gradient norm and iterations go into `details`. Returns the training log.
    package func run(theta: inout [Double], dro: inout GroupDRO?, details: inout JSONObject, reporter: Reporter) throws -> [JSONObject] {
        let configuration = problem.configuration
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
            let scale = dro?.categoryScale(weightByCategory: weightByCategory)
            let iterationsBefore = iterations
            var failure: Error?
            // L-BFGS's objective cannot throw: a failed evaluation ends the search with NaN.
            let objective: ([Double], inout [Double]) -> Double = { point, gradient in
                guard failure == nil else { return .nan }
                do { return try evaluate(point, scale, &gradient).value } catch {
                    failure = error
                    gradient = [Double](repeating: 0, count: point.count)
                    return .nan
                }
            }
            let outcome = try solver.minimize(from: theta, objective: objective) { iteration, loss, _ in
                if let failure { throw failure }
                reporter.progress(.init(phase: "L-BFGS", completed: iteration, total: configuration.maxIterations, unit: "iterations", loss: loss,
                                        run: .init(completed: min(iterationsBefore + iteration, runTotal), total: runTotal, isLimit: true)))
                try Interruption.stopIfPending(at: dro == nil ? "L-BFGS iteration \(iteration)" : "group DRO round \(round), L-BFGS iteration \(iteration)",
                                               unsaved: "L-BFGS runs are not checkpointed; run the command again, or use --optimizer adamw with --checkpoint-every")
            }
            if let failure { throw failure }
            theta = outcome.parameters
            iterations += outcome.iterations
            details["stop_reason"] = .string(outcome.stopReason)
            details["gradient_norm"] = .number(outcome.gradientNorm)
            let value = try evaluate(theta, scale, &gradient)
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
