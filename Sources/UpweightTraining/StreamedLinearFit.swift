import UpweightSupport
import UpweightIO
import UpweightData
import UpweightModels
import UpweightWeighting

/// Fits θ of a linear reward model by L-BFGS over pairs streamed from disk: every function
/// evaluation is one pass over the rows (`StreamedLinearObjective`), in the rounds `LinearFit`
/// runs (`LBFGSRounds`, group DRO's alternation among them), so the optimum is the one the
/// in-memory fit finds (the same objective, its sums added in another order). Sample mode fits
/// the in-memory run's resample, as how often each pair was drawn (`sampleMultiplicities`).
package struct StreamedLinearFit {
    /// The objective under the problem's weights (0 for pairs that do not train).
    package let objective: StreamedLinearObjective
    /// The training pairs (their weights, categories, held-out pairs and configuration; no rows).
    package let problem: TrainingProblem
    /// Training position j of the problem is pair `training[j]` of the streamed pairs.
    package let training: [Int]

    package init(_ objective: StreamedLinearObjective, problem: TrainingProblem, training: [Int]) {
        self.objective = objective
        self.problem = problem
        self.training = training
    }

    package func fit(reporter: Reporter) throws -> FitResult {
        let fitted = problem.sampleMultiplicities().map { objective.reweighted(objective.pairs.spread($0, over: training)) } ?? objective
        var dro = problem.groupDRO()
        var theta = [Double](repeating: 0, count: objective.pairs.dimension)
        var details = JSONObject()
        let rounds = LBFGSRounds(problem: problem, weightByCategory: fitted.weightByCategory) { theta, scale, gradient in
            try fitted.evaluate(theta, categoryScale: scale, gradient: &gradient)
        }
        let log = try rounds.run(theta: &theta, dro: &dro, details: &details, reporter: reporter)
        // The reported objective is the weighted objective of the final θ over the training pairs (loss mode).
        var gradient: [Double] = []
        let final = try objective.evaluate(theta, gradient: &gradient)
        let initial = try objective.evaluate([Double](repeating: 0, count: theta.count), gradient: &gradient)
        try Divergence(problem.configuration).check(loss: final.value, initialLoss: initial.value, parametersFinite: theta.allSatisfy(\.isFinite),
                                                    at: "the end of training")
        details["objective"] = .number(final.value)
        details["streamed"] = true
        if let dro { details["group_weights"] = problem.byCategory(dro.groupWeights) }
        return FitResult(model: .linear(LinearRewardModel(weight: theta.map { Float($0) })), objective: final.value, l2Term: final.l2Term,
                         details: details, log: log)
    }
}
