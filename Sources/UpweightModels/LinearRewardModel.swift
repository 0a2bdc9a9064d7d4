import UpweightData

/// r(x) = θ·x. Stored as one tensor, `linear.weight`, with one element per feature.
public struct LinearRewardModel: Sendable, Equatable {
    public var weight: [Float]

    public init(weight: [Float]) { self.weight = weight }

    public var inputDimension: Int { weight.count }

    /// The reward of every row of `features`.
    public func rewards(_ features: FeatureMatrix, threads: Int) -> [Float] {
        linearScores(features, theta: weight.map(Double.init), threads: threads).map(Float.init)
    }
}
