import UpweightSupport
import UpweightData

/// Minibatches of pairs streamed from disk. An epoch visits every training pair once: the units
/// (`StreamedPairs.unitPairs`) in a seeded random order, grouped into windows of at most
/// `windowPairs` pairs (whole units, at least one), each window's training pairs shuffled, and the
/// batches taken one after another from that stream (a batch may span two windows). Only the
/// current window's rows are in memory, plus the batch copied out of them.
package struct StreamedBatches: BatchSource {
    package let pairs: StreamedPairs
    /// Per pair (all of them): its weight in the objective, and whether it trains.
    let weights: [Double]
    let isTraining: [Bool]
    let standardization: Standardization?
    package let windowPairs: Int
    package let pairCount: Int
    /// The epoch's order of pairs, and where each window ends in it (with the window's units).
    private(set) var order: [Int] = []
    private var windows: [(end: Int, units: [Int])] = []
    /// The window whose rows are loaded: unit → offset of its rows in `windowRows`.
    private var loadedWindow: Int?
    private var unitOffsets: [Int: Int] = [:]
    private var windowRows: [Float] = []

    package init(pairs: StreamedPairs, weights: [Double], isTraining: [Bool], standardization: Standardization?, windowPairs: Int) {
        self.pairs = pairs
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
        var start = 0
        while start < units.count {
            var end = start + 1
            var size = pairs.pairs(ofUnit: units[start]).count
            while end < units.count, size + pairs.pairs(ofUnit: units[end]).count <= windowPairs {
                size += pairs.pairs(ofUnit: units[end]).count
                end += 1
            }
            let windowUnits = Array(units[start..<end])
            var windowOrder = windowUnits.flatMap { pairs.pairs(ofUnit: $0).filter { isTraining[$0] } }
            windowOrder.seededShuffle(using: &generator)
            order += windowOrder
            windows.append((order.count, windowUnits))
            start = end
        }
    }

    /// The pairs of batch `index`, in the order they train.
    package func pairs(ofBatch index: Int, batchSize: Int) -> ArraySlice<Int> {
        order[index * batchSize..<min((index + 1) * batchSize, order.count)]
    }

    package mutating func batch<Model: MinibatchTrainable>(_ index: Int, batchSize: Int, for model: inout Model) throws -> [Int] {
        let positions = index * batchSize..<min((index + 1) * batchSize, order.count)
        let dimension = pairs.dimension
        var chosen = [Float](repeating: 0, count: positions.count * dimension)
        var rejected = chosen
        var window = windows.partitioningIndex { $0.end > positions.lowerBound }
        for (row, position) in positions.enumerated() {
            while windows[window].end <= position { window += 1 }
            try load(window: window)
            let pair = order[position]
            let unit = pair / pairs.unitPairs
            let offset = unitOffsets[unit]! / (2 * dimension) + pair - pairs.pairs(ofUnit: unit).lowerBound
            pairs.copySides(of: windowRows, pair: offset, standardizedBy: standardization, chosen: &chosen, rejected: &rejected, at: row)
        }
        let batchPairs = positions.map { order[$0] }
        let metadata = pairs.metadata
        model.load(PairBatch(features: PairFeatures(chosen: .dense(DenseRows(dimension: dimension, values: chosen)),
                                                    rejected: .dense(DenseRows(dimension: dimension, values: rejected))),
                             weights: batchPairs.map { weights[$0] }, margins: batchPairs.map { metadata.margins[$0] },
                             categories: batchPairs.map { metadata.categoryIndices[$0] }))
        return Array(0..<positions.count)
    }

    /// Reads window `window`'s units into `windowRows` (one after another), unless they are there.
    private mutating func load(window: Int) throws {
        guard loadedWindow != window else { return }
        unitOffsets.removeAll(keepingCapacity: true)
        windowRows.removeAll(keepingCapacity: true)
        var rows: [Float] = []
        for unit in windows[window].units {
            unitOffsets[unit] = windowRows.count
            try pairs.readRows(of: pairs.pairs(ofUnit: unit), into: &rows)
            windowRows += rows
        }
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
