import UpweightIO

/// What a label audit did to the training pairs (`--noise-aware`), handed to `Trainer.train` by
/// whoever ran the audit (the audit lives above this layer, in UpweightTuning): a weight factor
/// for each pair that trains, and the audit's summary, which config.json keeps as "noise_audit" so
/// that a run says what was dropped or downweighted and why.
public struct NoiseAdjustment: Sendable {
    /// One factor per training pair, multiplied into its weight (PairWeights.swift).
    public var factors: [Double]
    public var summary: JSONObject

    public init(factors: [Double], summary: JSONObject) {
        self.factors = factors
        self.summary = summary
    }
}
