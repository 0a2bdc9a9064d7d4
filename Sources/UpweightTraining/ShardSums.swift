import UpweightSupport
import UpweightData
import UpweightModels

/// The linear model's batch in shares: `[gradient | Σw·ℓ | Σw | per category]` (`LossSums`), the
/// gradient as its non-zero entries on hashed text (rows of width 1) rather than all 2^bits.
extension LinearTrainable: ShardableTrainable {
    package mutating func partialSums(of share: Range<Int>, batch: [Int], categoryScale: [Double]?) -> PartialSums {
        let sums = objective.sums(theta, pairs: batch, positions: share, categoryScale: categoryScale)
        guard objective.features.chosen.isSparse else { return PartialSums(dense: sums.flattened) }
        let rows = sums.gradient.indices.filter { sums.gradient[$0] != 0 }
        return PartialSums(dense: Array(sums.flattened[theta.count...]), rows: rows.map { Int32($0) }, rowValues: rows.map { sums.gradient[$0] },
                           width: 1)
    }

    package mutating func finish(_ total: PartialSums, batch: [Int], categoryScale: [Double]?) -> LinearObjective.Value {
        let sparse = total.width > 0
        let flattened = sparse ? [Double](repeating: 0, count: theta.count) + total.dense : total.dense
        var sums = LossSums(flattened: flattened[...], dimension: theta.count, categoryCount: objective.categoryCount)
        for (row, value) in zip(total.rows, total.rowValues) { sums.gradient[Int(row)] = value }
        return sums.finished(theta, l2: objective.l2, gradient: &gradient)
    }

    package var sparseRowCount: Int { objective.features.chosen.isSparse ? theta.count : 0 }
}

/// The MLP's batch in shares: `[Σw·ℓ | per category | every tensor's gradient]`, on hashed text
/// without dW₁, whose touched rows go as rows (2^bits × H values otherwise). Each share's reward
/// gradients are scaled by the whole batch's normalizer, as one process scales them.
extension MLPTrainable: ShardableTrainable {
    package mutating func partialSums(of share: Range<Int>, batch: [Int], categoryScale: [Double]?) -> PartialSums {
        let sparse = objective.features.chosen.isSparse
        let categories = objective.categoryCount
        var dense = [Double](repeating: 0, count: 1 + 2 * categories)
        var tensors = model.parameters.map { [Float](repeating: 0, count: $0.count) }
        var rows: [Int32] = []
        if !share.isEmpty {
            let scale = objective.normalizer(pairs: batch, categoryScale: categoryScale)
            let sums = objective.dataSums(model, pairs: Array(batch[share]), scale: scale, categoryScale: categoryScale, gradient: &shareGradient)
            dense = [sums.loss] + sums.byCategory + sums.weightByCategory
            tensors = shareGradient.tensors
            rows = shareGradient.firstLayerRows ?? []
        }
        for (index, tensor) in tensors.enumerated() where !(sparse && index == 0) { dense += tensor.lazy.map(Double.init) }
        guard sparse else { return PartialSums(dense: dense) }
        let width = model.hidden[0]
        var values: [Double] = []
        values.reserveCapacity(rows.count * width)
        for row in rows { values += tensors[0][Int(row) * width..<(Int(row) + 1) * width].lazy.map(Double.init) }
        return PartialSums(dense: dense, rows: rows, rowValues: values, width: width)
    }

    package mutating func finish(_ total: PartialSums, batch: [Int], categoryScale: [Double]?) -> LinearObjective.Value {
        let categories = objective.categoryCount
        let sizes = model.parameters.map(\.count)
        if gradient.tensors.map(\.count) != sizes {
            gradient.tensors = sizes.map { [Float](repeating: 0, count: $0) }
            gradient.firstLayerRows = nil
        }
        var offset = 1 + 2 * categories
        for index in sizes.indices where !(total.width > 0 && index == 0) {
            gradient.tensors[index] = total.dense[offset..<offset + sizes[index]].map { Float($0) }
            offset += sizes[index]
        }
        if total.width > 0 {
            let width = total.width
            // The previous batch's rows back to zero, then this batch's rows.
            for row in gradient.firstLayerRows ?? [] {
                for column in 0..<width { gradient.tensors[0][Int(row) * width + column] = 0 }
            }
            for (position, row) in total.rows.enumerated() {
                for column in 0..<width { gradient.tensors[0][Int(row) * width + column] = Float(total.rowValues[position * width + column]) }
            }
            gradient.firstLayerRows = total.rows
        }
        let scale = objective.normalizer(pairs: batch, categoryScale: categoryScale)
        let l2Term = objective.addPenalty(model, into: &gradient)
        return LinearObjective.Value(value: total.dense[0] * scale + l2Term, lossByCategory: Array(total.dense[1..<(1 + categories)]),
                                     weightByCategory: Array(total.dense[(1 + categories)..<(1 + 2 * categories)]), l2Term: l2Term)
    }

    package var sparseRowCount: Int { objective.features.chosen.isSparse ? model.inputDimension : 0 }
}
