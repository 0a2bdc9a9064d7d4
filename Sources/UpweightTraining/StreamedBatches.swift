import UpweightSupport
import UpweightData
import UpweightWeighting

/// Minibatches of pairs streamed from disk. An epoch visits every training pair once: the units
/// (`StreamedPairs.unitPairs`) in a seeded random order, grouped into windows of at most
/// `windowPairs` pairs (whole units, at least one), each window's training pairs shuffled, and the
/// batches taken one after another from that stream (a batch may span two windows). Only the
/// current window's rows are in memory, plus the batch copied out of them (dense rows, or the CSR
/// rows of hashed text).
///
/// Sample mode (`--weight-mode sample`) draws an epoch's N pairs ∝ weight as in memory, window by
/// window: how many of the N draws each window gets is drawn first (N draws of a window, each ∝
/// its training pairs' total weight W_w), then each window's draws among its pairs ∝ w_i. Pair i of
/// window w is then drawn with probability (W_w/W)·(w_i/W_w) = w_i/W, the in-memory law, and the
/// counts are multinomial as in memory; only the order differs (a window's draws train together).
/// The draws count 1 each in the objective.
package struct StreamedBatches: BatchSource {
    package let pairs: StreamedPairs
    /// Per pair (all of them): its weight in the objective, and whether it trains.
    let weights: [Double]
    let isTraining: [Bool]
    let standardization: Standardization?
    package let windowPairs: Int
    package let pairCount: Int
    /// Sample mode: pairs drawn ∝ weight, counting 1 each (else each training pair once, counting w_i).
    package let drawsByWeight: Bool
    /// The epoch's order of pairs, and where each window ends in it (with the window's units).
    private(set) var order: [Int] = []
    private var windows: [(end: Int, units: [Int])] = []
    /// The window whose rows are loaded, and its units' interleaved rows.
    private var loadedWindow: Int?
    private var windowRows: [Int: FeatureMatrix] = [:]

    package init(pairs: StreamedPairs, weights: [Double], isTraining: [Bool], standardization: Standardization?, windowPairs: Int,
                 drawsByWeight: Bool = false) {
        self.pairs = pairs
        self.drawsByWeight = drawsByWeight
        self.weights = weights
        self.isTraining = isTraining
        self.standardization = standardization
        self.windowPairs = windowPairs
        pairCount = isTraining.lazy.filter { $0 }.count
    }

    package mutating func beginEpoch(using generator: inout SplitMix64) {
        var units = Array(0..<pairs.unitCount)
        units.seededShuffle(using: &generator)
        order.removeAll(keepingCapacity: true)
        windows.removeAll(keepingCapacity: true)
        loadedWindow = nil
        let windowUnits = self.windowUnits(units)
        let draws = drawsByWeight ? drawsPerWindow(windowUnits, using: &generator) : nil
        for (window, units) in windowUnits.enumerated() {
            let training = units.flatMap { pairs.pairs(ofUnit: $0).filter { isTraining[$0] } }
            if let draws {
                guard draws[window] > 0 else { continue }
                let sampler = AliasSampler(weights: training.map { weights[$0] })
                order += sampler.draw(draws[window], using: &generator).map { training[$0] }
            } else {
                var windowOrder = training
                windowOrder.seededShuffle(using: &generator)
                order += windowOrder
            }
            windows.append((order.count, units))
        }
    }

    /// Consecutive units of `units` grouped into windows of at most `windowPairs` pairs (at least one unit).
    private func windowUnits(_ units: [Int]) -> [[Int]] {
        var result: [[Int]] = []
        var start = 0
        while start < units.count {
            var end = start + 1
            var size = pairs.pairs(ofUnit: units[start]).count
            while end < units.count, size + pairs.pairs(ofUnit: units[end]).count <= windowPairs {
                size += pairs.pairs(ofUnit: units[end]).count
                end += 1
            }
            result.append(Array(units[start..<end]))
            start = end
        }
        return result
    }

    /// Sample mode: how many of the epoch's `pairCount` draws each window gets, each draw choosing a
    /// window ∝ the total weight of its training pairs.
    private func drawsPerWindow(_ windowUnits: [[Int]], using generator: inout SplitMix64) -> [Int] {
        let totals = windowUnits.map { units in
            units.reduce(0.0) { sum, unit in pairs.pairs(ofUnit: unit).reduce(sum) { isTraining[$1] ? $0 + weights[$1] : $0 } }
        }
        var draws = [Int](repeating: 0, count: windowUnits.count)
        for window in AliasSampler(weights: totals).draw(pairCount, using: &generator) { draws[window] += 1 }
        return draws
    }

    /// The pairs of batch `index`, in the order they train.
    package func pairs(ofBatch index: Int, batchSize: Int) -> ArraySlice<Int> {
        order[index * batchSize..<min((index + 1) * batchSize, order.count)]
    }

    /// Pairs read in shares (MPI ranks, `StreamedPairs.shard`): the batch's pairs come grouped by
    /// the rank that holds their rows, in batch order within a group, so that each rank's share is
    /// one run of the batch (`PairBatch.shares`); a rank copies only its own rows (the others stay
    /// zero, or empty for text) and loads only its own units of a window.
    package mutating func batch<Model: MinibatchTrainable>(_ index: Int, batchSize: Int, for model: inout Model) throws -> [Int] {
        var positions = Array(index * batchSize..<min((index + 1) * batchSize, order.count))
        var shares: [Int]?
        if let shard = pairs.shard {
            let holders = positions.map { shard.rank(holding: pairs.unit(of: order[$0])) }
            var grouped: [Int] = []
            var counts = [Int](repeating: 0, count: shard.collective.size)
            for rank in counts.indices {
                for (position, holder) in zip(positions, holders) where holder == rank { grouped.append(position) }
                counts[rank] = grouped.count - counts[..<rank].reduce(0, +)
            }
            (positions, shares) = (grouped, counts)
        }
        let dimension = pairs.dimension
        var chosen = [Float](repeating: 0, count: pairs.layout == .dense ? positions.count * dimension : 0)
        var rejected = chosen
        var sparseChosen = SparseRows(dimension: dimension)
        var sparseRejected = sparseChosen
        for (row, position) in positions.enumerated() {
            let pair = order[position]
            let unit = pairs.unit(of: pair)
            guard pairs.ownedUnits.contains(unit) else {
                sparseChosen.rowStarts.append(sparseChosen.indices.count)
                sparseRejected.rowStarts.append(sparseRejected.indices.count)
                continue
            }
            try load(window: windows.partitioningIndex { $0.end > position })
            let offset = pair - pairs.pairs(ofUnit: unit).lowerBound
            switch windowRows[unit]! {
            case .dense(let rows):
                pairs.copySides(of: rows.values, pair: offset, standardizedBy: standardization, chosen: &chosen, rejected: &rejected, at: row)
            case .sparse(let rows):
                sparseChosen.append(contentsOf: rows.subset([2 * offset]))
                sparseRejected.append(contentsOf: rows.subset([2 * offset + 1]))
            }
        }
        let features = pairs.layout == .dense
            ? PairFeatures(chosen: .dense(DenseRows(dimension: dimension, values: chosen)), rejected: .dense(DenseRows(dimension: dimension, values: rejected)))
            : PairFeatures(chosen: .sparse(sparseChosen), rejected: .sparse(sparseRejected))
        let batchPairs = positions.map { order[$0] }
        let metadata = pairs.metadata
        model.load(PairBatch(features: features, weights: batchPairs.map { drawsByWeight ? 1 : weights[$0] }, margins: batchPairs.map { metadata.margins[$0] },
                             categories: batchPairs.map { metadata.categoryIndices[$0] }, shares: shares))
        return Array(0..<positions.count)
    }

    /// Reads window `window`'s units into `windowRows`, unless they are there.
    private mutating func load(window: Int) throws {
        guard loadedWindow != window else { return }
        windowRows.removeAll(keepingCapacity: true)
        for unit in windows[window].units where pairs.ownedUnits.contains(unit) { windowRows[unit] = try pairs.rows(ofUnit: unit) }
        loadedWindow = window
    }
}

extension Array {
    /// The first index whose element satisfies `belongs` (all later ones do too), else `count`.
    func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var (low, high) = (0, count)
        while low < high {
            let middle = (low + high) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
