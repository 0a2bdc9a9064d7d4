import UpweightIO
import UpweightData

/// What a model directory holds: how to featurize, the model, and how it was made.
public struct TrainedModel: Sendable {
    public var featurizer: Featurizer
    public var model: RewardModel
    /// How training read its data; `eval` and `score` read new data the same way unless told otherwise.
    public var reading: ReadOptions
    /// Training configuration, weight summary, data fingerprint, optimizer outcome (config.json).
    public var provenance: JSONObject
    /// One JSON object per epoch (training_log.jsonl in the model directory).
    public var trainingLog: [JSONObject] = []
    /// Hashes of the training prompts and responses (training_hashes.bin), for `eval`'s contamination check.
    public var trainingTexts: TextFingerprints?
    /// Which pairs `--holdout` held out (held_out.json).
    public var heldOut: HeldOutRecord?

    public init(featurizer: Featurizer, model: RewardModel, reading: ReadOptions, provenance: JSONObject) {
        self.featurizer = featurizer
        self.model = model
        self.reading = reading
        self.provenance = provenance
    }

    /// The rewards of both sides of every pair of `dataset`; a reward that is not finite is an
    /// error at its pair's line, never a NaN in the report.
    public func rewards(for dataset: PreferenceDataset, threads: Int) throws -> (chosen: [Float], rejected: [Float]) {
        try dataset.checkFeatureMagnitudes()
        let features = try featurizer.features(of: dataset, threads: threads)
        let rewards = (chosen: model.rewards(features.chosen, threads: threads), rejected: model.rewards(features.rejected, threads: threads))
        try dataset.checkFinite(chosen: rewards.chosen, rejected: rewards.rejected)
        return rewards
    }
}
