import UpweightSupport
import UpweightIO
import UpweightModels
import UpweightWeighting

/// `--boost T` around any fit (in memory or streamed): `Boosting.run`'s rounds, each a fit on the
/// round's weights, the training log's entries marked with their round, and the members combined
/// into one boosted model, R(x) = Σ_t (α_t / Σ_s α_s)·r_t(x).
package enum BoostedFit {
    /// `fit` trains one model on per-pair weights (mean 1); `margins` gives a model's
    /// r(chosen) − r(rejected) on the training pairs, in the weights' order. The result's objective is
    /// the last round's; its details hold each round's error and α.
    package static func run(_ configuration: TrainingConfiguration, weights: [Double], reporter: Reporter,
                            fit: ([Double], CheckpointPolicy, Reporter) throws -> FitResult,
                            margins: (RewardModel) throws -> [Double]) throws -> FitResult {
        guard configuration.checkpointEvery == nil && !configuration.resume else {
            throw UsageError("--boost trains several models in turn: it has no checkpoints (drop --checkpoint-every and --resume)")
        }
        var log: [JSONObject] = []
        var last: FitResult?
        var round = 0
        let rounds = try Boosting.run(rounds: configuration.boostRounds, weights: weights, progress: reporter.note) { roundWeights in
            let fitted = try fit(roundWeights, CheckpointPolicy(unsavedReason: "--boost runs are not checkpointed"),
                                 reporter.part(round, of: configuration.boostRounds, mayEndEarly: true))
            round += 1
            for var entry in fitted.log {
                entry["boost_round"] = JSONValue(round)
                log.append(entry)
            }
            last = fitted
            return (fitted.model, try margins(fitted.model))
        }
        let alphaSum = rounds.reduce(0) { $0 + $1.alpha }
        let model = RewardModel.boosted(BoostedRewardModel(members: rounds.map(\.model), coefficients: rounds.map { Float($0.alpha / alphaSum) }))
        var details = JSONObject()
        details["boost"] = .array(rounds.map { ["error": .number($0.error), "alpha": .number($0.alpha)] })
        details["objective"] = .number(last!.objective)
        return FitResult(model: model, objective: last!.objective, l2Term: last!.l2Term, details: details, log: log)
    }
}
