import UpweightData
import UpweightModels

/// The training objective of an MLP reward model r(x) (MLPRewardModel):
///
///     L(θ) = (1/Σw) Σ_i w_i · ℓ_i(r(x_c,i), r(x_r,i)) + (λ/2)·(Σ_l ‖W_l‖² + ‖v‖²)
///
/// The loss is a weighted *mean* over the minibatch, so rescaling the weights never asks for a new
/// learning rate (see LinearObjective). The L2 term covers the weights W_l and v, not the biases
/// (penalizing a bias only shifts activations, the usual convention). On sparse (hashed) input it
/// covers the rows of W₁ that the minibatch touches — a full ‖W₁‖² would cost a pass over all 2^18
/// rows per step; value and gradient use the same rows, so they stay consistent.
///
/// A minibatch's chosen and rejected rows are stacked into one (2B, D) matrix, so each layer is one
/// matrix product for both sides, forward and backward.
package struct MLPObjective {
    package let features: PairFeatures
    package let weights: [Double]
    package let margins: [Double]
    package let loss: PairLoss
    package let l2: Double
    package let threads: Int
    /// Pairs per forward/backward pass when `evaluate` is given more (e.g. every pair): memory stays bounded.
    package var pairsPerPass = 256
    /// Each pair's category, for per-category losses (group DRO, the training log); nil: one category.
    package var categories: [Int32]? = nil
    package var categoryCount = 1

    /// L(θ) over `pairs` (all pairs when nil), writing ∇L into `gradient`.
    package func evaluate(_ model: MLPRewardModel, pairs: [Int]? = nil, gradient: inout MLPGradient) -> Double {
        evaluate(model, pairs: pairs, categoryScale: nil, gradient: &gradient).value
    }

    /// As above, with pair i counting w_i·scale[k_i] when `categoryScale` is given, and the weighted
    /// loss sums per category (before the scale) beside the value.
    package func evaluate(_ model: MLPRewardModel, pairs: [Int]?, categoryScale: [Double]?, gradient: inout MLPGradient) -> LinearObjective.Value {
        let pairs = pairs ?? Array(0..<features.count)
        let scale = normalizer(pairs: pairs, categoryScale: categoryScale)
        let sums = dataSums(model, pairs: pairs, scale: scale, categoryScale: categoryScale, gradient: &gradient)
        let l2Term = addPenalty(model, into: &gradient)
        return LinearObjective.Value(value: sums.loss * scale + l2Term, lossByCategory: sums.byCategory, weightByCategory: sums.weightByCategory,
                                     l2Term: l2Term)
    }

    /// 1/Σ_i w_i (·scale[k_i]) over `pairs`, the mean's divisor (0 when the weights sum to 0).
    package func normalizer(pairs: [Int], categoryScale: [Double]?) -> Double {
        let weightSum = pairs.reduce(0.0) { $0 + weights[$1] * (categoryScale?[category($1)] ?? 1) }
        return weightSum > 0 ? 1 / weightSum : 0
    }

    private func category(_ pair: Int) -> Int { categories.map { Int($0[pair]) } ?? 0 }

    /// The data term over `pairs` (non-empty): Σ w_i·ℓ_i (each w_i·scale[k_i] with a category
    /// scale), and per category the weighted losses and weights (before the scale); its gradient,
    /// each pair's reward gradient times `scale`, is written into `gradient` (no L2 term). `evaluate`
    /// passes the batch's own normalizer, a rank summing its share of a batch the whole batch's.
    package func dataSums(_ model: MLPRewardModel, pairs: [Int], scale: Double, categoryScale: [Double]?,
                          gradient: inout MLPGradient) -> (loss: Double, byCategory: [Double], weightByCategory: [Double]) {
        func weight(_ pair: Int) -> Double { weights[pair] * (categoryScale?[category(pair)] ?? 1) }
        var byCategory = [Double](repeating: 0, count: categoryCount)
        var weightByCategory = byCategory
        var lossSum = 0.0
        var passStart = 0
        repeat {
            let batchPairs = pairs[passStart..<min(passStart + pairsPerPass, pairs.count)]
            let count = batchPairs.count
            // (2B, D): rows 0..<B are the chosen sides, B..<2B the rejected sides.
            let batch = features.stackingRows(of: batchPairs)
            let cache = model.forward(batch, threads: threads)
            var rewardGradient = [Float](repeating: 0, count: 2 * count)
            for (position, pair) in batchPairs.enumerated() {
                let (value, dChosen, dRejected) = loss.evaluate(
                    chosen: Double(cache.rewards[position]), rejected: Double(cache.rewards[count + position]),
                    margin: margins[pair])
                let pairWeight = weight(pair)
                lossSum += pairWeight * value
                byCategory[category(pair)] += weights[pair] * value
                weightByCategory[category(pair)] += weights[pair]
                rewardGradient[position] = Float(pairWeight * dChosen * scale)
                rewardGradient[count + position] = Float(pairWeight * dRejected * scale)
            }
            model.backward(cache, batch: batch, rewardGradient: rewardGradient, into: &gradient,
                           accumulating: passStart > 0, threads: threads)
            passStart += pairsPerPass
        } while passStart < pairs.count
        return (lossSum, byCategory, weightByCategory)
    }

    /// Σ_{i∈k} w_i over `pairs`, per category.
    package func weightByCategory(pairs: [Int]) -> [Double] {
        var totals = [Double](repeating: 0, count: categoryCount)
        for pair in pairs { totals[categories.map { Int($0[pair]) } ?? 0] += weights[pair] }
        return totals
    }

    /// Adds λθ to the gradient of every weight tensor (W₁ in `gradient.firstLayerRows` when listed)
    /// and returns the L2 term (λ/2)·Σθ² over them.
    package func addPenalty(_ model: MLPRewardModel, into gradient: inout MLPGradient) -> Double {
        0.5 * l2 * addPenaltyGradient(model, into: &gradient)
    }

    /// Adds λθ to the gradient of every weight tensor and returns Σθ² over them.
    private func addPenaltyGradient(_ model: MLPRewardModel, into gradient: inout MLPGradient) -> Double {
        guard l2 != 0 else { return 0 }
        let lambda = Float(l2)
        var squaredNorm = 0.0
        for tensor in Self.weightTensors(model) {
            let rowWidth = tensor == 0 ? model.hidden[0] : model.parameters[tensor].count
            // The rows the penalty covers: the listed rows of a sparse W₁, else the whole tensor as one row.
            let rows = tensor == 0 ? gradient.firstLayerRows.map { $0.map(Int.init) } : nil
            addL2Gradient(lambda, of: model.parameters[tensor], rows: rows, width: rowWidth, into: &gradient.tensors[tensor],
                          squaredNorm: &squaredNorm)
        }
        return squaredNorm
    }

    /// The indices of the weight tensors W₁ … W_L and v in `model.parameters` (not the biases).
    private static func weightTensors(_ model: MLPRewardModel) -> [Int] {
        Array(stride(from: 0, to: 2 * model.hidden.count, by: 2)) + [2 * model.hidden.count]
    }

    /// The L2 term (λ/2)·Σθ² alone, W₁'s rows limited to `firstLayerRows` when given (sparse input:
    /// the rows the pairs touch), as `evaluate` adds it; for an objective whose pairs were evaluated
    /// in parts (a streamed pass), each part listing its own rows.
    package static func l2Term(of model: MLPRewardModel, l2: Double, firstLayerRows: [Int32]?) -> Double {
        guard l2 != 0 else { return 0 }
        var squaredNorm = 0.0
        for tensor in weightTensors(model) {
            let values = model.parameters[tensor]
            let width = model.hidden[0]
            if tensor == 0, let rows = firstLayerRows {
                for row in rows {
                    for value in values[Int(row) * width..<(Int(row) + 1) * width] { squaredNorm += Double(value) * Double(value) }
                }
            } else {
                for value in values { squaredNorm += Double(value) * Double(value) }
            }
        }
        return 0.5 * l2 * squaredNorm
    }
}

extension PairFeatures {
    /// The chosen rows of `pairs`, then their rejected rows: one (2B, D) batch. Dense rows stay where
    /// they are, and the products read them there; sparse rows are copied into one CSR matrix.
    package func stackingRows(of pairs: some Collection<Int>) -> BatchRows {
        if case .dense(let top) = chosen, case .dense(let bottom) = rejected {
            return .stacking(top, bottom, rows: Array(pairs))
        }
        switch (chosen.gatheringRows(pairs), rejected.gatheringRows(pairs)) {
        case (.sparse(var top), .sparse(let bottom)):
            top.append(contentsOf: bottom)
            return .matrix(.sparse(top))
        default:
            preconditionFailure("chosen and rejected features of different kinds")
        }
    }
}
