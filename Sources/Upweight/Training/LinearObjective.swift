/// The training objective of a linear reward model r(x) = θ·x:
///
///     L(θ) = (1/Σw) Σ_i w_i · ℓ_i(θ·x_c,i, θ·x_r,i) + (λ/2)‖θ‖²
///
/// The loss is a weighted *mean*, so rescaling every weight changes nothing and the learning rate and λ
/// keep their meaning whatever the weights (the coupling scikit-learn documents for `sample_weight`,
/// where C multiplies a weighted *sum*). Value and gradient come from one pass over the pairs: each
/// row is read once, scored, and added into the gradient while it is still in cache.
struct LinearObjective {
    let features: PairFeatures
    let weights: [Double]
    let margins: [Double]
    let loss: PairLoss
    let l2: Double
    let threads: Int

    /// L(θ) over `pairs` (all pairs when nil), writing ∇L into `gradient`.
    func evaluate(_ theta: [Double], pairs: [Int]? = nil, gradient: inout [Double]) -> Double {
        let dimension = theta.count
        let count = pairs?.count ?? features.count
        // Small minibatches run on one thread: zeroing a per-thread gradient would cost more than the pairs.
        let parts = count >= 4096 ? threads : 1
        let partials = features.chosen.withRowAccess { chosen in
            features.rejected.withRowAccess { rejected in
                theta.withUnsafeBufferPointer { theta in
                    parallelMap(parts: parts, threads: parts) { part -> (loss: Double, weight: Double, gradient: [Double]) in
                        var partGradient = [Double](repeating: 0, count: dimension)
                        var lossSum = 0.0
                        var weightSum = 0.0
                        let range = contiguousRanges(count: count, parts: parts).dropFirst(part).first ?? 0..<0
                        partGradient.withUnsafeMutableBufferPointer { partGradient in
                            for position in range {
                                let pair = pairs?[position] ?? position
                                let weight = weights[pair]
                                if weight == 0 { continue }
                                let (value, dChosen, dRejected) = loss.evaluate(
                                    chosen: chosen.dot(pair, theta.baseAddress!),
                                    rejected: rejected.dot(pair, theta.baseAddress!), margin: margins[pair])
                                lossSum += weight * value
                                weightSum += weight
                                chosen.addScaled(weight * dChosen, row: pair, into: partGradient.baseAddress!)
                                rejected.addScaled(weight * dRejected, row: pair, into: partGradient.baseAddress!)
                            }
                        }
                        return (lossSum, weightSum, partGradient)
                    }
                }
            }
        }
        // Reduce in part order, so the result depends only on the data and the thread count.
        var lossSum = 0.0
        var weightSum = 0.0
        gradient = [Double](repeating: 0, count: dimension)
        for part in partials {
            lossSum += part.loss
            weightSum += part.weight
            for index in 0..<dimension { gradient[index] += part.gradient[index] }
        }
        let scale = weightSum > 0 ? 1 / weightSum : 0
        var squaredNorm = 0.0
        for index in 0..<dimension {
            gradient[index] = gradient[index] * scale + l2 * theta[index]
            squaredNorm += theta[index] * theta[index]
        }
        return lossSum * scale + 0.5 * l2 * squaredNorm
    }
}
