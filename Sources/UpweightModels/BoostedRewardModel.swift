import UpweightData

/// R(x) = Σ_t c_t·r_t(x), the reward of a boosted ensemble (Boosting.swift), with c_t = α_t / Σα.
/// Stored as each member's tensors under `boost.T.` plus `boost.coefficients` of shape [T].
public struct BoostedRewardModel: Sendable, Equatable {
    public var members: [RewardModel]
    public var coefficients: [Float]

    public init(members: [RewardModel], coefficients: [Float]) {
        precondition(members.count == coefficients.count && !members.isEmpty, "one coefficient per member")
        self.members = members
        self.coefficients = coefficients
    }

    public func rewards(_ features: FeatureMatrix, threads: Int) -> [Float] {
        var total = [Float](repeating: 0, count: features.rowCount)
        for (member, coefficient) in zip(members, coefficients) {
            let rewards = member.rewards(features, threads: threads)
            for index in total.indices { total[index] += coefficient * rewards[index] }
        }
        return total
    }
}
