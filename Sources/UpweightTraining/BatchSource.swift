import UpweightSupport
import UpweightData
import UpweightWeighting

/// Where an epoch's minibatches come from (`EpochLoop`): the order is drawn from the run's
/// generator as each epoch begins (so a resumed run draws it again), and a batch is handed to the
/// model as the pair positions its objective evaluates.
package protocol BatchSource {
    /// Training pairs an epoch visits (the batches per epoch follow from it).
    var pairCount: Int { get }
    mutating func beginEpoch(using generator: inout SplitMix64) throws
    /// Batch `index` of the epoch (0-based, `batchSize` pairs but the last), ready for `model`.
    mutating func batch<Model: MinibatchTrainable>(_ index: Int, batchSize: Int, for model: inout Model) throws -> [Int]
}

/// The training pairs in memory: a full shuffle each epoch (or a draw ∝ weight in sample mode), and
/// batches as positions into the model's own objective.
package struct InMemoryBatches: BatchSource {
    package let pairCount: Int
    let sampler: AliasSampler?
    private var order: [Int] = []

    package init(pairCount: Int, sampler: AliasSampler?) {
        self.pairCount = pairCount
        self.sampler = sampler
    }

    package mutating func beginEpoch(using generator: inout SplitMix64) {
        if let sampler {
            order = sampler.draw(pairCount, using: &generator)
            return
        }
        order = Array(0..<pairCount)
        order.seededShuffle(using: &generator)
    }

    package func batch<Model: MinibatchTrainable>(_ index: Int, batchSize: Int, for model: inout Model) -> [Int] {
        let start = index * batchSize
        return Array(order[start..<min(start + batchSize, order.count)])
    }
}
