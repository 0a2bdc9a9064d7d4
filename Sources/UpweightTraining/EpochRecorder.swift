import UpweightSupport
import UpweightIO
import UpweightModels

/// Builds the training log's entry for one epoch (or one full-batch fit):
/// `{"epoch", "train_loss", "train_loss_by_category", "eval"?, "eval_seconds"?, "group_weights"?, "learning_rate"?,
/// "seconds"}`, where `seconds` is the time since training began and `eval_seconds` this epoch's held-out scoring.
package struct EpochRecorder {
    package let problem: TrainingProblem
    package let started = ContinuousClock.now

    package init(_ problem: TrainingProblem) { self.problem = problem }

    /// The entry for `model` after `epoch`, whose training loss was `value`; with held-out pairs, the
    /// model's score on them comes back too (early stopping watches its loss).
    package func entry(epoch: Int, value: LinearObjective.Value, rate: Double?, groupWeights: [Double]?,
                       model: RewardModel) throws -> (entry: JSONObject, heldOut: HeldOutEvaluator.Score?) {
        var entry = Self.lossEntry(epoch: epoch, value: value, categoryNames: problem.categoryNames)
        let scoring = ContinuousClock.now
        let heldOut = try problem.heldOut?.score(model)
        if let heldOut {
            entry["eval"] = .object(heldOut.summary)
            // Its own time, so that the epoch's steps can be timed alone (as PyTorch's epoch loop is).
            entry["eval_seconds"] = .number(elapsedSeconds(since: scoring))
        }
        if let groupWeights { entry["group_weights"] = problem.byCategory(groupWeights) }
        if let rate { entry["learning_rate"] = .number(rate) }
        entry["seconds"] = .number(elapsedSeconds(since: started))
        return (entry, heldOut)
    }

    /// An entry's first keys: the epoch, its training loss, and that loss per category.
    package static func lossEntry(epoch: Int, value: LinearObjective.Value, categoryNames: [String]) -> JSONObject {
        var entry = JSONObject()
        entry["epoch"] = JSONValue(epoch)
        entry["train_loss"] = .number(value.value)
        var byCategory = JSONObject()
        for (k, loss) in value.meanLossByCategory.enumerated() { if let loss { byCategory[categoryNames[k]] = .number(loss) } }
        entry["train_loss_by_category"] = .object(byCategory)
        return entry
    }
}
