import UpweightSupport
import UpweightModels

/// Boosting of reward models: RankBoost (Freund, Iyer, Schapire & Singer 2003) with binary weak
/// rankers, i.e. AdaBoost over pairs. Round t trains the configured model on the pair distribution
/// D_t (as weights of mean 1), and with u_i = sign(r_t(chosen_i) − r_t(rejected_i)):
///
///     ε_t = Σ_i D_t(i)·[u_i < 0]  (a tie counts ½)      the weighted error
///     α_t = ½ ln((1 − ε_t) / ε_t)                       RankBoost's α for rankers valued in {0, 1}
///     D_{t+1}(i) ∝ D_t(i)·exp(−α_t·u_i)                 pairs ranked wrongly gain weight
///
/// The final reward is R(x) = Σ_t (α_t / Σ_s α_s)·r_t(x): each round's reward enters as trained
/// (all rounds share the featurizer and λ, so their scales are alike), and T = 1 is exactly the plain
/// model. Boosting stops early when a round is no better than chance (ε_t ≥ ½) or perfect (ε_t = 0).
package enum Boosting {
    package struct Round {
        package var model: RewardModel
        package var error: Double
        package var alpha: Double
    }

    /// `fit` trains one round on weights of mean 1 and returns its model and its training margins.
    package static func run(rounds: Int, weights: [Double], progress: (String) -> Void,
                    fit: ([Double]) throws -> (model: RewardModel, margins: [Double])) throws -> [Round]
    {
        let total = weights.reduce(0, +)
        var distribution = weights.map { $0 / total }
        var result: [Round] = []
        for round in 1...rounds {
            let meanOne = distribution.map { $0 * Double(distribution.count) }
            let (model, margins) = try fit(meanOne)
            var error = 0.0
            for (index, margin) in margins.enumerated() {
                error += distribution[index] * (margin < 0 ? 1 : margin == 0 ? 0.5 : 0)
            }
            if rounds == 1 { return [Round(model: model, error: error, alpha: 1)] }
            if error >= 0.5 && !result.isEmpty {
                progress("boost round \(round): weighted error \(fixed(error, 4)) ≥ 0.5, stopping")
                break
            }
            let clamped = min(max(error, 1e-12), 0.5 - 1e-12)
            let alpha = 0.5 * log((1 - clamped) / clamped)
            result.append(Round(model: model, error: error, alpha: alpha))
            progress("boost round \(round): weighted error \(fixed(error, 4)), α = \(fixed(alpha, 4))")
            if error == 0 || error >= 0.5 { break }
            var sum = 0.0
            for (index, margin) in margins.enumerated() {
                let vote: Double = margin > 0 ? 1 : margin < 0 ? -1 : 0
                distribution[index] *= exp(-alpha * vote)
                sum += distribution[index]
            }
            for index in distribution.indices { distribution[index] /= sum }
        }
        return result
    }
}
