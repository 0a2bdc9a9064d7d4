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

    /// Reads `data` (or, with `heldOutOf`, the pairs that model directory held out) with `options`
    /// and scores them with the model in directory `path`.
    public static func load(model path: String, data: [String], options base: (TrainedModel) throws -> ReadOptions, heldOutOf: String?,
                            reporter: Reporter) throws -> ScoredPairs {
        let trained = try ModelDirectory.load(path)
        var options = try base(trained)
        // Dense lines' prompts, for the contamination check (text pairs have theirs anyway).
        if trained.trainingTexts != nil { options.fields.group = options.fields.prompt }
        let record = try heldOutOf.map { try HeldOutRecord.load(fromModelDirectory: $0) }
        let recordFile = heldOutOf.map { "\($0)/\(HeldOutRecord.fileName)" } ?? ""
        let paths = data.isEmpty ? (record?.files.map(\.path) ?? []) : data
        reporter.progress(.init(phase: "reading", completed: 0, total: nil, unit: "pairs"))
        var scored: ScoredPairs
        if let reason = streamingReason(paths, options) {
            reporter.note("streaming (\(reason)): \(StreamedPairs.rowsDestination(options, scratchDirectory: SpillFile.defaultDirectory))")
            var streamingOptions = options
            streamingOptions.chunkBytes = chunkBytes(options)
            let hashing: Featurizer? = if case .hashed = trained.featurizer { trained.featurizer } else { nil }
            let (pairs, summary) = try StreamedPairs.read(paths: paths, options: streamingOptions, hashing: hashing,
                                                          directory: SpillFile.defaultDirectory, note: reporter.note)
            logReadSummary(summary, pairs: pairs.count, log: reporter.note)
            var selected = Array(0..<pairs.count)
            if let record {
                selected = try record.pairs(of: pairs.metadata, recordFile: recordFile)
                try record.check(fingerprint: try pairs.fingerprint(of: selected), readFrom: paths, recordFile: recordFile)
            }
            reporter.progress(.init(phase: "scoring", completed: 0, total: selected.count, unit: "pairs"))
            let rewards = try trained.rewards(for: pairs, threads: options.threads)
            scored = ScoredPairs(dataset: pairs.metadata.subset(selected), chosen: selected.map { rewards.chosen[$0] },
                                 rejected: selected.map { rewards.rejected[$0] }, model: trained, streamed: (pairs, selected), threads: options.threads)
        } else {
            var (dataset, summary) = try PreferenceReader.read(paths: paths, options: options, featurizingWith: trained.featurizer)
            logReadSummary(summary, pairs: dataset.count, log: reporter.note)
            if let record { dataset = try record.select(from: dataset, recordFile: recordFile) }
            reporter.progress(.init(phase: "scoring", completed: 0, total: dataset.count, unit: "pairs"))
            let rewards = try trained.rewards(for: dataset, threads: options.threads)
            scored = ScoredPairs(dataset: dataset, chosen: rewards.chosen, rejected: rewards.rejected, model: trained, streamed: nil,
                                 threads: options.threads)
        }
        reporter.progress(.init(phase: "scoring", completed: scored.dataset.count, total: scored.dataset.count, unit: "pairs"))
        return scored
    }

    /// Another model's rewards on the same pairs.
    public func rewards(of other: TrainedModel) throws -> (chosen: [Float], rejected: [Float]) {
        guard let (pairs, selected) = streamed else { return try other.rewards(for: dataset, threads: threads) }
        let rewards = try other.rewards(for: pairs, threads: threads)
        return (selected.map { rewards.chosen[$0] }, selected.map { rewards.rejected[$0] })
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
