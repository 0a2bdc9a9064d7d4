import UpweightSupport
import UpweightData
import UpweightModels

/// `LinearObjective` over pairs streamed from disk: one evaluation is one pass over the rows, unit
/// by unit (`StreamedPairs.unitPairs`), each unit's sums taken on one thread and the units' sums
/// added in unit order. The result depends on the data alone (not the threads, not how it was
/// read), and equals the in-memory objective up to the order of the additions.
package struct StreamedLinearObjective {
    package let pairs: StreamedPairs
    /// Per pair (all of them, training or not): its weight, 0 for pairs that do not train.
    package let weights: [Double]
    package let standardization: Standardization?
    package let categoryCount: Int
    package let loss: PairLoss
    package let l2: Double
    package let threads: Int
    /// Units each thread takes per round: enough to amortise the round's start, few enough that the
    /// per-unit sums kept for the ordered reduction stay small.
    private let unitsPerThread = 16

    package init(pairs: StreamedPairs, weights: [Double], standardization: Standardization?, loss: PairLoss, l2: Double, threads: Int) {
        precondition(weights.count == pairs.count, "a weight per pair")
        self.pairs = pairs
        self.weights = weights
        self.standardization = standardization
        self.categoryCount = pairs.metadata.categoryNames.count
        self.loss = loss
        self.l2 = l2
        self.threads = max(1, threads)
    }

    /// L(θ) and ∇L (into `gradient`) over every pair of nonzero weight.
    package func evaluate(_ theta: [Double], gradient: inout [Double]) throws -> LinearObjective.Value {
        var total = LossSums(dimension: theta.count, categoryCount: categoryCount)
        try pairs.forEachUnitInOrder(threads: threads) { unit, rows in
            sums(theta, unit: unit, rows: &rows)
        } combine: { total.add($0) }
        return total.finished(theta, l2: l2, gradient: &gradient)
    }

    /// One unit's sums, on this thread: its interleaved rows standardized in place, then
    /// `LinearObjective.sums` over them.
    private func sums(_ theta: [Double], unit: Int, rows: inout [Float]) -> LossSums {
        let range = pairs.pairs(ofUnit: unit)
        if let standardization { pairs.standardize(&rows, by: standardization) }
        let metadata = pairs.metadata
        let objective = LinearObjective(
            interleavedRows: DenseRows(dimension: pairs.dimension, values: rows), weights: Array(weights[range]),
            margins: Array(metadata.margins[range]), categories: Array(metadata.categoryIndices[range]), categoryCount: categoryCount,
            loss: loss, l2: l2)
        return objective.sums(theta, positions: 0..<range.count)
    }
}
