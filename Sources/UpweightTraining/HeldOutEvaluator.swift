import UpweightIO
import UpweightData
import UpweightModels
import UpweightEvaluation

/// Scores a model on the held-out pairs during training, for every fit: the accuracy and log loss
/// a training-log entry records, and the held-out loss early stopping watches. The held-out pairs
/// are featurized once, with the training featurizer, or (streamed) scored by a pass over their rows.
package struct HeldOutEvaluator {
    package let dataset: PreferenceDataset
    /// The held-out pairs' rewards under a model, in `dataset`'s order.
    private let rewards: (RewardModel) throws -> (chosen: [Float], rejected: [Float])

    package init(_ dataset: PreferenceDataset, featurizer: Featurizer, threads: Int) throws {
        self.dataset = dataset
        let features = try featurizer.features(of: dataset, threads: threads)
        rewards = { ($0.rewards(features.chosen, threads: threads), $0.rewards(features.rejected, threads: threads)) }
    }

    /// Held-out pairs whose rewards `rewards` computes (e.g. from rows streamed from disk).
    package init(_ dataset: PreferenceDataset, rewards: @escaping (RewardModel) throws -> (chosen: [Float], rejected: [Float])) {
        self.dataset = dataset
        self.rewards = rewards
    }

    package struct Score {
        /// The log entry's `eval`: accuracy and log loss, overall and per category.
        package var summary: JSONObject
        /// The held-out log loss, mean softplus(−Δ) (`summary`'s `log_loss`).
        package var loss: Double
    }

    /// Throws only when the streamed rows cannot be read; a report that cannot be made scores NaN.
    package func score(_ model: RewardModel) throws -> Score {
        let (chosen, rejected) = try rewards(model)
        // No bootstrap intervals: they are for the final report.
        let report = try? EvaluationReport(dataset: dataset, chosenRewards: chosen, rejectedRewards: rejected,
                                           options: EvaluationOptions(bootstrapSamples: 0))
        return Score(summary: report?.epochSummary ?? JSONObject(), loss: report?.overall.logLoss ?? .nan)
    }
}

extension EvaluationReport {
    /// What a training-log entry records of a held-out evaluation: per-category accuracy and loss.
    package var epochSummary: JSONObject {
        var categories = JSONObject()
        for (name, metrics) in self.categories {
            categories[name] = ["accuracy": .number(metrics.accuracy), "log_loss": .number(metrics.logLoss)]
        }
        return JSONObject([("accuracy", .number(overall.accuracy)), ("log_loss", .number(overall.logLoss)),
                           ("categories", .object(categories))])
    }
}
