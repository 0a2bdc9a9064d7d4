import UpweightSupport

/// The Bradley-Terry loss of one pair and its options.
///
///     Δ = r(chosen) − r(rejected) − m
///     ℓ = softplus(−Δ)                                   plain Bradley-Terry (−log σ(Δ))
///       → (1−ε)·softplus(−Δ) + ε·softplus(Δ)              label smoothing ε (robust to flipped labels)
///       → exp(−γ·softplus(Δ)) · ℓ                          focal γ: (1−σ(Δ))^γ·ℓ, computed stably (Lin et al. 2017)
///       + λ·(r(chosen) + r(rejected))²                     reward centering λ (TRL's center_rewards_coefficient)
///
/// ε = γ = λ = 0 is exactly the plain loss: each option is skipped, not multiplied by zero.
public struct PairLoss: Sendable, Equatable {
    public var labelSmoothing = 0.0
    public var focalGamma = 0.0
    public var centerRewards = 0.0

    public init(labelSmoothing: Double = 0, focalGamma: Double = 0, centerRewards: Double = 0) {
        self.labelSmoothing = labelSmoothing
        self.focalGamma = focalGamma
        self.centerRewards = centerRewards
    }

    /// The loss of one pair and its derivatives with respect to the chosen and the rejected reward.
    @inline(__always)
    package func evaluate(chosen: Double, rejected: Double, margin: Double) -> (loss: Double, dChosen: Double, dRejected: Double) {
        let delta = chosen - rejected - margin
        var loss = softplus(-delta)
        var dDelta = -sigmoid(-delta)                         // d softplus(−Δ)/dΔ = −σ(−Δ)
        if labelSmoothing != 0 {
            let epsilon = labelSmoothing
            loss = (1 - epsilon) * loss + epsilon * softplus(delta)
            dDelta = (1 - epsilon) * dDelta + epsilon * sigmoid(delta)
        }
        if focalGamma != 0 {
            let factor = exp(-focalGamma * softplus(delta))      // (1−σ(Δ))^γ
            let dFactor = -focalGamma * sigmoid(delta) * factor  // its derivative in Δ
            dDelta = dFactor * loss + factor * dDelta
            loss *= factor
        }
        var dChosen = dDelta
        var dRejected = -dDelta
        if centerRewards != 0 {
            let sum = chosen + rejected
            loss += centerRewards * sum * sum
            dChosen += 2 * centerRewards * sum
            dRejected += 2 * centerRewards * sum
        }
        return (loss, dChosen, dRejected)
    }
}
