import UpweightSupport
import UpweightIO
import UpweightData
import UpweightModels

/// Pairs read for a model and scored by it, as `eval`, `compare` and `score` need them: in memory,
/// or streamed when the data would not fit the memory budget (rows, dense or hashed as the model
/// hashes text, in a scratch file or cache entry, read back unit by unit; every other column, and
/// each pair's two rewards, in memory: 60–90 bytes a pair).
public struct ScoredPairs {
    /// The pairs (when streamed: every column but the responses).
    public var dataset: PreferenceDataset
    public var chosen: [Float]
    public var rejected: [Float]
    public var model: TrainedModel
    /// The streamed rows and which of their pairs `dataset` holds (nil: in memory).
    private var streamed: (pairs: StreamedPairs, selected: [Int])?
    private let threads: Int
    /// The ranks that score the pairs together (`SingleProcess` in a plain run).
    private let ranks: any Collective

    /// Reads `data` (or, with `heldOutOf`, the pairs that model directory held out) with `options`
    /// and scores them with the model in directory `path`. With `collective` (several MPI ranks),
    /// each rank scores its share (DistributedEvaluation.swift): in memory, every rank reads all the
    /// pairs; streamed, each reads its own blocks.
    public static func load(model path: String, data: [String], options base: (TrainedModel) throws -> ReadOptions, heldOutOf: String?,
                            collective: (any Collective)? = nil, reporter: Reporter) throws -> ScoredPairs {
        let ranks = collective ?? SingleProcess()
        // Under MPI, what one rank may fail alone (its files) ends in an agreement before the next collective.
        let (trained, options, record) = try ranks.agreeing { () throws -> (TrainedModel, ReadOptions, HeldOutRecord?) in
            let trained = try ModelDirectory.load(path)
            var options = try base(trained)
            // Dense lines' prompts, for the contamination check (text pairs have theirs anyway).
            if trained.trainingTexts != nil { options.fields.group = options.fields.prompt }
            return (trained, options, try heldOutOf.map { try HeldOutRecord.load(fromModelDirectory: $0) })
        }
        let recordFile = heldOutOf.map { "\($0)/\(HeldOutRecord.fileName)" } ?? ""
        let paths = data.isEmpty ? (record?.files.map(\.path) ?? []) : data
        reporter.progress(.init(phase: "reading", completed: 0, total: nil, unit: "pairs"))
        var scored: ScoredPairs
        // Rank 0 decides (the memory budget may differ between machines): every rank reads alike.
        let reason = ranks.broadcast(streamingReason(paths, options) ?? "")
        if !reason.isEmpty {
            reporter.note("streaming (\(reason)): \(StreamedPairs.rowsDestination(options, scratchDirectory: SpillFile.defaultDirectory))")
            var streamingOptions = options
            streamingOptions.chunkBytes = chunkBytes(options)
            let hashing: Featurizer? = if case .hashed = trained.featurizer { trained.featurizer } else { nil }
            // MPI ranks each read their own blocks (`StreamedPairs.readShare`) and score their own units.
            let (pairs, summary) = ranks.size > 1
                ? try StreamedPairs.readShare(paths: paths, options: streamingOptions, hashing: hashing, directory: SpillFile.defaultDirectory,
                                              collective: ranks, note: reporter.note)
                : try StreamedPairs.read(paths: paths, options: streamingOptions, hashing: hashing, directory: SpillFile.defaultDirectory, note: reporter.note)
            logReadSummary(summary, pairs: pairs.count, log: reporter.note)
            var selected = Array(0..<pairs.count)
            if let record {
                selected = try ranks.agreeing {
                    let selected = try record.pairs(of: pairs.metadata, recordFile: recordFile)
                    try record.check(fingerprint: try pairs.fingerprint(of: selected), readFrom: paths, recordFile: recordFile)
                    return selected
                }
            }
            try checkRanksAgree(on: ranks, model: path, options: options) { try pairs.fingerprint(of: selected) }
            reporter.progress(.init(phase: "scoring", completed: 0, total: selected.count, unit: "pairs"))
            let rewards = try Self.rewards(of: trained, for: pairs, threads: options.threads, on: ranks)
            scored = ScoredPairs(dataset: pairs.metadata.subset(selected), chosen: selected.map { rewards.chosen[$0] },
                                 rejected: selected.map { rewards.rejected[$0] }, model: trained, streamed: (pairs, selected),
                                 threads: options.threads, ranks: ranks)
        } else {
            var (dataset, summary) = try ranks.agreeing { try PreferenceReader.read(paths: paths, options: options, featurizingWith: trained.featurizer) }
            logReadSummary(summary, pairs: dataset.count, log: reporter.note)
            if let record { dataset = try ranks.agreeing { try record.select(from: dataset, recordFile: recordFile) } }
            try checkRanksAgree(on: ranks, model: path, options: options) { UpweightData.fingerprint(of: dataset) }
            reporter.progress(.init(phase: "scoring", completed: 0, total: dataset.count, unit: "pairs"))
            let rewards = try Self.rewards(of: trained, for: dataset, threads: options.threads, on: ranks)
            scored = ScoredPairs(dataset: dataset, chosen: rewards.chosen, rejected: rewards.rejected, model: trained, streamed: nil,
                                 threads: options.threads, ranks: ranks)
        }
        reporter.progress(.init(phase: "scoring", completed: scored.dataset.count, total: scored.dataset.count, unit: "pairs"))
        return scored
    }

    /// Another model's rewards on the same pairs (each rank scoring its share, as `load`).
    public func rewards(of other: TrainedModel) throws -> (chosen: [Float], rejected: [Float]) {
        guard let (pairs, selected) = streamed else { return try Self.rewards(of: other, for: dataset, threads: threads, on: ranks) }
        let rewards = try Self.rewards(of: other, for: pairs, threads: threads, on: ranks)
        return (selected.map { rewards.chosen[$0] }, selected.map { rewards.rejected[$0] })
    }

    /// The rewards of the model in directory `path` on the same pairs (under MPI, the ranks agree
    /// on its loading first).
    public func rewards(ofModelIn path: String) throws -> (chosen: [Float], rejected: [Float]) {
        try rewards(of: ranks.agreeing { try ModelDirectory.load(path) })
    }

    /// `fingerprint(of:)` of the pairs (streamed: two more passes over the rows).
    public func fingerprint() throws -> String {
        guard let (pairs, selected) = streamed else { return UpweightData.fingerprint(of: dataset) }
        return try pairs.fingerprint(of: selected)
    }

    /// Why reading `paths` streams (nil: it does not): plain files (dense or text, not gzip: their
    /// footprint is only estimated) whose estimated footprint exceeds the budget.
    static func streamingReason(_ paths: [String], _ options: ReadOptions) -> String? {
        guard !paths.isEmpty, paths.allSatisfy({ DataSample(path: $0) != nil }),
              (try? MemoryBudget.check(paths: paths, limit: options.maxMemory)) == nil else { return nil }
        let budget = SystemMemory.limit(maxMemory: options.maxMemory)
        return "the data needs about \(MemoryBudget.gibibytes(MemoryBudget.estimate(paths: paths))) in memory, more than \(budget?.source ?? "--max-memory")"
    }

    /// The reading's chunk size when streaming: a quarter of the budget at most (≥ 1 MiB).
    static func chunkBytes(_ options: ReadOptions) -> Int {
        guard let budget = SystemMemory.limit(maxMemory: options.maxMemory)?.bytes else { return options.chunkBytes }
        return min(options.chunkBytes, max(1 << 20, budget / 4))
    }
}
