import UpweightSupport
import UpweightIO
import UpweightData
import UpweightModels
import UpweightTraining

/// `eval` and `score` as one of several MPI ranks (`mpirun -n K upweight eval|score …`). Every rank
/// reads all the pairs as one process would (in memory, or streamed when rank 0 would stream),
/// checks that every rank holds the same pairs, model and reading settings, and scores a contiguous
/// share of the pairs (in memory) or of the units (streamed). The rewards, gathered bit for bit in
/// pair order, are then one process's on every rank, so rank 0's report is one process's byte for byte.
extension ScoredPairs {
    typealias Rewards = (chosen: [Float], rejected: [Float])

    /// `model`'s rewards for every pair of `dataset`, each rank scoring a contiguous share of them.
    static func rewards(of model: TrainedModel, for dataset: PreferenceDataset, threads: Int, on ranks: any Collective) throws -> Rewards {
        try ranks.joined {
            guard ranks.size > 1 else { return try model.rewards(for: dataset, threads: threads) }
            let share = ranks.share(of: dataset.count)
            return share.isEmpty ? ([], []) : try model.rewards(for: dataset.subset(Array(share)), threads: threads)
        }
    }

    /// `model`'s rewards for every pair of `pairs`, each rank scoring a contiguous share of the units.
    static func rewards(of model: TrainedModel, for pairs: StreamedPairs, threads: Int, on ranks: any Collective) throws -> Rewards {
        try ranks.joined {
            try model.rewards(for: pairs, selected: nil, units: pairs.units(ofRank: ranks.rank, among: ranks.size), threads: threads)
        }
    }

    /// Stops the job (exit 64) unless every rank holds rank 0's pairs (`fingerprint`), model files
    /// and reading settings.
    static func checkRanksAgree(on ranks: any Collective, model path: String, options: ReadOptions, fingerprint: () throws -> String) throws {
        guard ranks.size > 1 else { return }
        let (pairs, model) = try ranks.agreeing { (try fingerprint(), try modelFingerprint(path)) }
        var settings = options
        settings.threads = 1  // each machine's share of its cores
        try ranks.requireSame([("pairs", pairs), ("model", model), ("reading settings", JSONValue.object(ModelDirectory.readerJSON(settings)).compactText)])
    }

    /// A hash of the bytes of a model directory's config.json and model.safetensors.
    private static func modelFingerprint(_ path: String) throws -> String {
        var hash = ContentHash()
        for file in ["config.json", "model.safetensors"] { hash.mix(try ModelDirectory.readBytes("\(path)/\(file)")) }
        return hash.hex
    }
}

extension Collective {
    /// `score` on every rank (agreeing on how it ended), the ranks' rewards joined in rank order.
    fileprivate func joined(_ score: () throws -> ScoredPairs.Rewards) throws -> ScoredPairs.Rewards {
        let own = try agreeing(score)
        guard size > 1 else { return own }
        return (allgather(own.chosen), allgather(own.rejected))
    }
}
