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
    /// The ranks sharing the evaluation: each sums its own units (`StreamedPairs.units(ofRank:)`).
    package let collective: any Collective

    package init(pairs: StreamedPairs, weights: [Double], standardization: Standardization?, loss: PairLoss, l2: Double, threads: Int,
                 collective: any Collective = SingleProcess()) {
        precondition(weights.count == pairs.count, "a weight per pair")
        self.pairs = pairs
        self.weights = weights
        self.standardization = standardization
        self.categoryCount = pairs.metadata.categoryNames.count
        self.loss = loss
        self.l2 = l2
        self.threads = max(1, threads)
        self.collective = collective
    }

    /// The same objective under other per-pair weights (sample mode's multiplicities, a boosting round's).
    package func reweighted(_ weights: [Double]) -> StreamedLinearObjective {
        StreamedLinearObjective(pairs: pairs, weights: weights, standardization: standardization, loss: loss, l2: l2, threads: threads,
                                collective: collective)
    }

    /// L(θ) and ∇L (into `gradient`) over every pair of nonzero weight; with `categoryScale`, pair i
    /// counts w_i·scale[k_i] (group DRO), as in `LinearObjective.evaluate`. Each rank sums its units;
    /// the units' sums are added in unit order across the ranks (`Collective.orderedSum`), the
    /// additions one process makes, so the value has the same bits for any rank count. A rank that
    /// cannot read its rows adds a failure count, so every rank stops after the same evaluation.
    package func evaluate(_ theta: [Double], categoryScale: [Double]? = nil, gradient: inout [Double]) throws -> LinearObjective.Value {
        let layout = LossSums(dimension: theta.count, categoryCount: categoryCount)
        var parts: [[Double]] = []
        var readFailure: Error?
        do {
            try pairs.forEachUnitInOrder(units: pairs.units(ofRank: collective.rank, among: collective.size), threads: threads) { unit, rows in
                sums(theta, unit: unit, rows: &rows, categoryScale: categoryScale)
            } combine: { parts.append($0.flattened + [0]) }
        } catch {
            readFailure = error
            parts = [[Double](repeating: 0, count: layout.flattened.count) + [1]]
        }
        let total = collective.orderedSum(parts, count: layout.flattened.count + 1) { total, part in
            for index in total.indices { total[index] += part[index] }
        }
        if let readFailure { throw readFailure }
        if total[total.count - 1] > 0 { throw PeerFailed() }
        return LossSums(flattened: total.dropLast(), dimension: theta.count, categoryCount: categoryCount)
            .finished(theta, l2: l2, gradient: &gradient)
    }

    /// Σ_{i∈k} w_i per category, from the columns in memory (no pass over the rows).
    package var weightByCategory: [Double] {
        var totals = [Double](repeating: 0, count: categoryCount)
        for (pair, category) in pairs.metadata.categoryIndices.enumerated() { totals[Int(category)] += weights[pair] }
        return totals
    }

    /// One unit's sums, on this thread: its interleaved rows (dense or hashed text) standardized in
    /// place where asked, then `LinearObjective.sums` over them.
    private func sums(_ theta: [Double], unit: Int, rows: inout FeatureMatrix, categoryScale: [Double]?) -> LossSums {
        let range = pairs.pairs(ofUnit: unit)
        if let standardization { pairs.standardize(&rows, by: standardization) }
        let metadata = pairs.metadata
        let objective = LinearObjective(
            interleavedRows: rows, weights: Array(weights[range]),
            margins: Array(metadata.margins[range]), categories: Array(metadata.categoryIndices[range]), categoryCount: categoryCount,
            loss: loss, l2: l2)
        return objective.sums(theta, positions: 0..<range.count, categoryScale: categoryScale)
    }
}
