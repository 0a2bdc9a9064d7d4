import UpweightSupport
import UpweightIO
import UpweightData
import UpweightTraining

/// `train` as one of several MPI ranks (`mpirun -n K upweight train …`). Every rank reads its own
/// blocks of the data and the ranks join the rest (`StreamedPairs.readShare`), check that all ranks
/// hold the same data and settings, then fit
/// by L-BFGS (dense or hashed text) with each rank summing its own share of the units (`StreamedLinearObjective`),
/// or by AdamW (linear or MLP) with each rank summing its share of every batch (`ShardedTrainable`). Only
/// rank 0 writes files; the CLI prints only on rank 0.
extension TrainingSession {
    /// What runs under MPI yet, as a usage error naming what does not (nil: this run does).
    func distributedRefusal(ranks: Int) -> String? {
        var refused: [String] = []
        if let streaming = StreamingLimits.refusal(configuration) { refused.append(streaming) }
        guard !refused.isEmpty else { return nil }
        return "training on \(ranks) MPI ranks does not take everything one process does; not yet: \(refused.joined(separator: "; "))"
    }

    func runDistributed(on collective: any Collective, reporter: Reporter) throws -> Finished {
        if let refused = distributedRefusal(ranks: collective.size) { throw UsageError(refused) }
        return try runStreamed(because: "MPI, \(plural(collective.size, "rank", "ranks"))", reporter: reporter)
    }

    /// Checks that every rank trains the same problem: the configuration (which includes the seed)
    /// and the training pairs' fingerprint (rows and columns) must be rank 0's.
    func checkRanksAgree(on collective: any Collective, fingerprint: String) throws {
        try collective.requireSame([("training data", fingerprint), ("settings", JSONValue.object(configuration.json).compactText)])
    }
}
