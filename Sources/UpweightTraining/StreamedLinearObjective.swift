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
        try forEachUnitInOrder { unit, rows in
            sums(theta, unit: unit, rows: rows)
        } combine: { total.add($0) }
        return total.finished(theta, l2: l2, gradient: &gradient)
    }

    /// Standardization statistics over both sides of the pairs `training` marks (as in memory:
    /// every chosen row, then every rejected row, here unit by unit).
    package static func fitStandardization(_ pairs: StreamedPairs, training: [Bool], threads: Int) throws -> Standardization {
        let dimension = pairs.dimension
        let objective = StreamedLinearObjective(pairs: pairs, weights: [Double](repeating: 0, count: pairs.count),
                                                standardization: nil, loss: PairLoss(), l2: 0, threads: threads)
        var moments = Standardization.Moments(dimension: dimension)
        // Rows are kept per unit and added on this thread in unit order, so the sums do not depend on the threads.
        try objective.forEachUnitInOrder { unit, rows -> [ArraySlice<Float>] in
            let range = pairs.pairs(ofUnit: unit)
            var kept: [ArraySlice<Float>] = []
            for side in 0..<2 {
                for pair in range where training[pair] {
                    let start = (2 * (pair - range.lowerBound) + side) * dimension
                    kept.append(rows[start..<start + dimension])
                }
            }
            return kept
        } combine: { $0.forEach { moments.add($0) } }
        return moments.standardization
    }

    /// The rewards of both sides of every pair under `model` (its own kernels, on rows standardized
    /// as training's were): what `TrainedModel.rewards` gives in memory.
    package func rewards(of model: RewardModel) throws -> (chosen: [Float], rejected: [Float]) {
        var chosen: [Float] = []
        var rejected: [Float] = []
        chosen.reserveCapacity(pairs.count)
        rejected.reserveCapacity(pairs.count)
        try forEachUnitInOrder { unit, rows -> ([Float], [Float]) in
            let (chosenRows, rejectedRows) = sides(of: rows, pairs: pairs.pairs(ofUnit: unit).count)
            return (model.rewards(.dense(chosenRows), threads: 1), model.rewards(.dense(rejectedRows), threads: 1))
        } combine: {
            chosen += $0.0
            rejected += $0.1
        }
        return (chosen, rejected)
    }

    /// Reads every unit, `threads` × `unitsPerThread` at a time (each thread its own consecutive
    /// units, into a buffer it reuses), maps each with `body`, and hands the results to `combine`
    /// in unit order.
    private func forEachUnitInOrder<Part>(_ body: (Int, [Float]) -> Part, combine: (Part) -> Void) throws {
        let round = threads * unitsPerThread
        for first in stride(from: 0, to: pairs.unitCount, by: round) {
            let units = first..<min(pairs.unitCount, first + round)
            let slices = contiguousRanges(count: units.count, parts: min(threads, units.count))
            let results = parallelMap(parts: slices.count, threads: threads) { part -> Result<[Part], Error> in
                Result {
                    var rows: [Float] = []
                    return try slices[part].map { offset in
                        let unit = units.lowerBound + offset
                        try pairs.readRows(of: pairs.pairs(ofUnit: unit), into: &rows)
                        return body(unit, rows)
                    }
                }
            }
            for result in results { try result.get().forEach(combine) }
        }
    }

    /// One unit's sums, on this thread: its rows split into the two sides (and standardized), then
    /// `LinearObjective.sums` over them.
    private func sums(_ theta: [Double], unit: Int, rows: [Float]) -> LossSums {
        let range = pairs.pairs(ofUnit: unit)
        let (chosen, rejected) = sides(of: rows, pairs: range.count)
        let metadata = pairs.metadata
        let objective = LinearObjective(
            features: PairFeatures(chosen: .dense(chosen), rejected: .dense(rejected)), weights: Array(weights[range]),
            margins: Array(metadata.margins[range]), categories: Array(metadata.categoryIndices[range]), categoryCount: categoryCount,
            loss: loss, l2: l2, threads: 1)
        return objective.sums(theta, positions: 0..<range.count)
    }

    /// A unit's interleaved rows as two matrices, z-scored as `Standardization.apply` does.
    private func sides(of rows: [Float], pairs count: Int) -> (DenseRows, DenseRows) {
        let dimension = pairs.dimension
        var chosen = [Float](repeating: 0, count: count * dimension)
        var rejected = chosen
        for pair in 0..<count {
            for column in 0..<dimension {
                let (c, r) = (rows[2 * pair * dimension + column], rows[(2 * pair + 1) * dimension + column])
                if let standardization {
                    let (mean, deviation) = (standardization.mean[column], standardization.standardDeviation[column])
                    chosen[pair * dimension + column] = (c - mean) / deviation
                    rejected[pair * dimension + column] = (r - mean) / deviation
                } else {
                    chosen[pair * dimension + column] = c
                    rejected[pair * dimension + column] = r
                }
            }
        }
        return (DenseRows(dimension: dimension, values: chosen), DenseRows(dimension: dimension, values: rejected))
    }
}
