import UpweightSupport
import UpweightIO
import UpweightModels
import UpweightWeighting

/// A minibatch model whose batch gradient can be summed in shares of the batch (one per rank) and
/// finished from the ranks' total: the data term's sums, normalized by the whole batch's weight as
/// one process normalizes it, then the L2 term once.
package protocol ShardableTrainable: MinibatchTrainable {
    /// The sums over `share` (positions of `batch`, possibly none), ready to add to the other ranks'.
    mutating func partialSums(of share: Range<Int>, batch: [Int], categoryScale: [Double]?) -> PartialSums
    /// The batch's value from the ranks' total, keeping its gradient for `optimizerStep`.
    mutating func finish(_ total: PartialSums, batch: [Int], categoryScale: [Double]?) -> LinearObjective.Value
    /// Rows of the matrix whose touched rows `partialSums` lists (hashed text: 2^bits), else 0.
    var sparseRowCount: Int { get }
}

/// `Base` trained by several ranks at once (`mpirun -n K`): every rank holds the batch one process
/// would take (same seed, same pairs), sums the gradient of its contiguous share of the batch's
/// pairs (when the ranks read their own blocks, the batch comes ordered by the rank that holds each
/// pair's rows, and a rank's share is its own pairs, `PairBatch.shares`), the ranks add their sums (`Collective.sum`: the same bits on every rank),
/// and every rank takes the same optimizer step. Parameters are never sent; they stay identical on
/// every rank, so the held-out scores and early stopping agree too.
package struct ShardedTrainable<Base: ShardableTrainable>: MinibatchTrainable {
    package var base: Base
    let collective: any Collective
    /// Bytes this rank sent to the sums, over `steps` batches, and what dense sums would have sent.
    private(set) var sentBytes = 0, denseBytes = 0, steps = 0
    /// The loaded batch's pairs per rank, when each rank holds its own pairs' rows.
    private var shares: [Int]?

    package init(_ base: Base, collective: any Collective) {
        self.base = base
        self.collective = collective
    }

    package mutating func lossAndGradient(batch: [Int], categoryScale: [Double]?) -> LinearObjective.Value {
        let (rank, ranks) = (collective.rank, collective.size)
        var share = batch.count * rank / ranks..<batch.count * (rank + 1) / ranks
        if let shares {
            let start = shares[..<rank].reduce(0, +)
            share = start..<start + shares[rank]
        }
        let part = base.partialSums(of: share, batch: batch, categoryScale: categoryScale)
        sentBytes += 8 * (part.dense.count + part.rowValues.count) + 4 * part.rows.count
        denseBytes += 8 * (part.dense.count + base.sparseRowCount * part.width)
        steps += 1
        let total = collective.sum(part)
        return base.finish(total, batch: batch, categoryScale: categoryScale)
    }

    package mutating func optimizerStep(rate: Double) { base.optimizerStep(rate: rate) }
    package func weightByCategory(pairs: [Int]) -> [Double] { base.weightByCategory(pairs: pairs) }
    package var isFinite: Bool { base.isFinite }
    package var rewardModel: RewardModel { base.rewardModel }
    package var state: [Tensor64] { base.state }
    package mutating func restore(_ state: [Tensor64]) throws { try base.restore(state) }
    package mutating func load(_ batch: PairBatch) {
        shares = batch.shares
        base.load(batch)
    }
}

extension EpochLoop {
    /// `run`, each batch's gradient summed over the ranks' shares when `collective` has several.
    package func run<Model: ShardableTrainable, Source: BatchSource>(_ model: inout Model, on collective: any Collective,
                                                                     batches: inout Source, dro: inout GroupDRO?,
                                                                     schedule: (Int) -> Double, reporter: Reporter) throws -> [JSONObject]
    {
        guard collective.size > 1 else { return try run(&model, batches: &batches, dro: &dro, schedule: schedule, reporter: reporter) }
        var sharded = ShardedTrainable(model, collective: collective)
        defer { model = sharded.base }
        let log = try run(&sharded, batches: &batches, dro: &dro, schedule: schedule, reporter: reporter)
        let steps = max(1, sharded.steps)
        reporter.note("rank \(collective.rank) of \(collective.size) sent \(sharded.sentBytes / steps) bytes of sums per batch on average"
                      + (sharded.denseBytes == sharded.sentBytes ? "" : " (a dense gradient: \(sharded.denseBytes / steps))"))
        return log
    }
}
