import UpweightIO
import UpweightData
import UpweightModels
import UpweightEvaluation

/// Scores a model on the held-out pairs during training, for every fit: the accuracy and log loss
/// a training-log entry records, and the held-out loss early stopping watches. The held-out pairs
/// are featurized once, with the training featurizer.
package struct HeldOutEvaluator {
    package let dataset: PreferenceDataset
    package let features: PairFeatures
    package let threads: Int

    package init(_ dataset: PreferenceDataset, featurizer: Featurizer, threads: Int) throws {
        self.dataset = dataset
        self.features = try featurizer.features(of: dataset, threads: threads)
        self.threads = threads
    }

    package struct Score {
        /// The log entry's `eval`: accuracy and log loss, overall and per category.
        package var summary: JSONObject
        /// The held-out log loss, mean softplus(−Δ) (`summary`'s `log_loss`).
        package var loss: Double
    }

    package func score(_ model: RewardModel) -> Score {
        // No bootstrap intervals: they are for the final report.
        let report = try? EvaluationReport(dataset: dataset, chosenRewards: model.rewards(features.chosen, threads: threads),
                                           rejectedRewards: model.rewards(features.rejected, threads: threads),
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
