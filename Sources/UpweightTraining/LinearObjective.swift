import UpweightSupport
import UpweightData
import UpweightModels

/// The training objective of a linear reward model r(x) = θ·x:
///
///     L(θ) = (1/Σw) Σ_i w_i · ℓ_i(θ·x_c,i, θ·x_r,i) + (λ/2)‖θ‖²
///
/// The loss is a weighted *mean*, so rescaling every weight changes nothing and the learning rate and λ
/// keep their meaning whatever the weights (the coupling scikit-learn documents for `sample_weight`,
/// where C multiplies a weighted *sum*). Value and gradient come from one pass over the pairs: each
/// row is read once, scored, and added into the gradient while it is still in cache.
package struct LinearObjective {
    package let features: PairFeatures
    /// The two sides' rows, checked once for the row kernels.
    private let chosenRows: CheckedRows
    private let rejectedRows: CheckedRows
    /// Both sides in one matrix, pair i's chosen row at 2i and rejected row at 2i + 1 (streamed
    /// rows come so, and are used without being copied apart).
    private let interleaved: Bool
    package let weights: [Double]
    package let margins: [Double]
    /// Each pair's category index, for per-category losses (group DRO, the training log).
    package let categories: [Int32]
    package let categoryCount: Int
    package let loss: PairLoss
    package let l2: Double
    package let threads: Int

    package init(features: PairFeatures, weights: [Double], margins: [Double], categories: [Int32]? = nil, categoryCount: Int? = nil,
         loss: PairLoss, l2: Double, threads: Int)
    {
        self.features = features
        (chosenRows, rejectedRows) = (CheckedRows(features.chosen), CheckedRows(features.rejected))
        interleaved = false
        self.weights = weights
        self.margins = margins
        self.categories = categories ?? [Int32](repeating: 0, count: features.count)
        self.categoryCount = categoryCount ?? Int(self.categories.max() ?? 0) + 1
        self.loss = loss
        self.l2 = l2
        self.threads = threads
    }

    /// The objective over `rows` holding both sides interleaved (pair i: rows 2i and 2i + 1).
    package init(interleavedRows matrix: FeatureMatrix, weights: [Double], margins: [Double], categories: [Int32], categoryCount: Int,
                 loss: PairLoss, l2: Double) {
        self.features = PairFeatures(chosen: matrix, rejected: matrix)
        chosenRows = CheckedRows(matrix)
        rejectedRows = chosenRows
        interleaved = true
        self.weights = weights
        self.margins = margins
        self.categories = categories
        self.categoryCount = categoryCount
        self.loss = loss
        self.l2 = l2
        threads = 1
    }

    /// The objective's value, and the weighted loss sums behind it per category.
    package struct Value {
        package var value: Double
        /// Σ_{i∈k} w_i·ℓ_i and Σ_{i∈k} w_i over the pairs evaluated (before any category scale).
        package var lossByCategory: [Double]
        package var weightByCategory: [Double]
        /// The L2 term (λ/2)‖θ‖² inside `value`; the rest, `value − l2Term`, is the weighted data loss.
        package var l2Term = 0.0

        /// L_k, the weighted mean loss of each category (nil where no pair of it was evaluated).
        package var meanLossByCategory: [Double?] {
            lossByCategory.indices.map { weightByCategory[$0] > 0 ? lossByCategory[$0] / weightByCategory[$0] : nil }
        }
    }

    /// L(θ) over `pairs` (all pairs when nil), writing ∇L into `gradient`. With `categoryScale`, pair
    /// i counts w_i·scale[k_i] instead of w_i (group DRO reweights categories this way).
    package func evaluate(_ theta: [Double], pairs: [Int]? = nil, categoryScale: [Double]? = nil, gradient: inout [Double]) -> Value {
        let count = pairs?.count ?? weights.count
        // Small minibatches run on one thread: zeroing a per-thread gradient would cost more than the pairs.
        let parts = count >= 4096 ? threads : 1
        let partials = parallelMap(parts: parts, threads: parts) { part in
            sums(theta, pairs: pairs, positions: contiguousRanges(count: count, parts: parts).dropFirst(part).first ?? 0..<0,
                 categoryScale: categoryScale)
        }
        // Reduce in part order, so the result depends only on the data and the thread count.
        var total = LossSums(dimension: theta.count, categoryCount: categoryCount)
        for part in partials { total.add(part) }
        return total.finished(theta, l2: l2, gradient: &gradient)
    }

    /// The weighted loss and its gradient summed over `positions` of `pairs` (of every pair when nil),
    /// on this thread: what `evaluate` adds up over its parts, and a streamed pass over its blocks.
    package func sums(_ theta: [Double], pairs: [Int]? = nil, positions: Range<Int>, categoryScale: [Double]? = nil) -> LossSums {
        var sums = LossSums(dimension: theta.count, categoryCount: categoryCount)
        chosenRows.withRowAccess { chosen in
            rejectedRows.withRowAccess { rejected in
                for position in positions {
                    let pair = pairs?[position] ?? position
                    let category = Int(categories[pair])
                    let baseWeight = weights[pair]
                    let weight = baseWeight * (categoryScale?[category] ?? 1)
                    if weight == 0 { continue }
                    let (chosenRow, rejectedRow) = interleaved ? (2 * pair, 2 * pair + 1) : (pair, pair)
                    let (value, dChosen, dRejected) = loss.evaluate(
                        chosen: chosen.dot(chosenRow, theta), rejected: rejected.dot(rejectedRow, theta), margin: margins[pair])
                    sums.loss += weight * value
                    sums.weight += weight
                    sums.lossByCategory[category] += baseWeight * value
                    sums.weightByCategory[category] += baseWeight
                    chosen.addScaled(weight * dChosen, row: chosenRow, into: &sums.gradient)
                    rejected.addScaled(weight * dRejected, row: rejectedRow, into: &sums.gradient)
                }
            }
        }
        return sums
    }

    /// Σ_{i∈k} w_i over `pairs` (all when nil), per category: what group DRO normalizes by.
    package func weightByCategory(pairs: [Int]?) -> [Double] {
        var totals = [Double](repeating: 0, count: categoryCount)
        if let pairs {
            for pair in pairs { totals[Int(categories[pair])] += weights[pair] }
        } else {
            for pair in 0..<weights.count { totals[Int(categories[pair])] += weights[pair] }
        }
        return totals
    }
}

/// Σ w_i·ℓ_i, Σ w_i and Σ w_i·∇ℓ_i over some pairs (and per category), added up in a fixed order
/// before the objective is formed from them:
///
///     L(θ) = Σ w_i·ℓ_i / Σ w_i + (λ/2)‖θ‖²        ∇L = Σ w_i·∇ℓ_i / Σ w_i + λθ
package struct LossSums {
    package var loss = 0.0
    package var weight = 0.0
    package var gradient: [Double]
    package var lossByCategory: [Double]
    package var weightByCategory: [Double]

    package init(dimension: Int, categoryCount: Int) {
        gradient = [Double](repeating: 0, count: dimension)
        lossByCategory = [Double](repeating: 0, count: categoryCount)
        weightByCategory = lossByCategory
    }

    package mutating func add(_ other: LossSums) {
        loss += other.loss
        weight += other.weight
        for index in gradient.indices { gradient[index] += other.gradient[index] }
        for k in lossByCategory.indices {
            lossByCategory[k] += other.lossByCategory[k]
            weightByCategory[k] += other.weightByCategory[k]
        }
    }

    /// The sums as one vector, `[gradient | loss | weight | loss by category | weight by category]`:
    /// what ranks add up (`add` is element-wise addition of these vectors, in the same order).
    package var flattened: [Double] {
        gradient + [loss, weight] + lossByCategory + weightByCategory
    }

    package init(flattened values: ArraySlice<Double>, dimension: Int, categoryCount: Int) {
        let values = Array(values)
        precondition(values.count == dimension + 2 + 2 * categoryCount, "a flattened LossSums of this shape")
        gradient = Array(values[0..<dimension])
        (loss, weight) = (values[dimension], values[dimension + 1])
        lossByCategory = Array(values[(dimension + 2)..<(dimension + 2 + categoryCount)])
        weightByCategory = Array(values[(dimension + 2 + categoryCount)...])
    }

    /// The objective at `theta` from these sums, writing ∇L into `gradient`.
    package func finished(_ theta: [Double], l2: Double, gradient out: inout [Double]) -> LinearObjective.Value {
        let scale = weight > 0 ? 1 / weight : 0
        out = [Double](repeating: 0, count: theta.count)
        var squaredNorm = 0.0
        for index in theta.indices {
            out[index] = gradient[index] * scale + l2 * theta[index]
            squaredNorm += theta[index] * theta[index]
        }
        var value = LinearObjective.Value(value: 0, lossByCategory: lossByCategory, weightByCategory: weightByCategory)
        value.l2Term = 0.5 * l2 * squaredNorm
        value.value = loss * scale + value.l2Term
        return value
    }
}
