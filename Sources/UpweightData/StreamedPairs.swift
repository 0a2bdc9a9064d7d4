import UpweightSupport
import UpweightIO

/// Pairs whose feature rows live in a scratch file (or a cache entry), not in memory: every other
/// column (the categories, weights, margins, groups, ids and lines) is held as usual, 60–80 bytes a
/// pair, so that splits, weights and reports work as on in-memory data. Rows are read back a unit
/// (consecutive pairs) at a time, as a `FeatureMatrix` of both sides interleaved (pair j's chosen
/// row at 2j, its rejected row at 2j + 1): dense rows, or the CSR rows of hashed text. Units are
/// fixed by the data alone: they end at every block's end (`FileBlocks`) and, within a block, at
/// about 1 MiB of rows. So sums taken unit by unit, and so the trained model, do not depend on how
/// the file was read (chunk size), on the threads, or on which process read which blocks.
public final class StreamedPairs: @unchecked Sendable {
    /// How the rows are stored: dense Float32 rows, or hashed text in units of CSR rows (`SparseUnits`).
    public enum Layout: Sendable, Equatable {
        case dense
        case hashed(hashBits: Int, includePrompt: Bool, units: SparseUnits)
    }

    /// Every column but the responses (which are empty: dimension 0).
    public let metadata: PreferenceDataset
    public let dimension: Int
    public let layout: Layout
    /// Dense pairs per unit within a block: about 1 MiB of both sides' rows (a thread holds a unit
    /// and its standardized copy).
    public let unitPairs: Int
    /// Unit u holds pairs `unitStarts[u] ..< unitStarts[u + 1]`.
    public let unitStarts: [Int]
    /// An MPI rank's share (`readShare`): the metadata and units are every rank's, the rows only
    /// those of `shard.units`. nil: every row is here.
    public let shard: Shard?

    public struct Shard {
        /// The ranks that read the other shares; every pass over the rows is shared with them.
        public let collective: any Collective
        /// The units whose rows this rank holds (a unit's rows are all on one rank).
        public let units: Range<Int>
        /// Every rank's units, in rank order.
        public let unitsByRank: [Range<Int>]

        /// The rank that holds unit `unit`'s rows.
        public func rank(holding unit: Int) -> Int { unitsByRank.firstIndex { $0.contains(unit) } ?? 0 }
    }

    /// The units whose rows are here.
    public var ownedUnits: Range<Int> { shard?.units ?? 0..<unitCount }
    private var firstOwnedPair: Int { unitStarts[ownedUnits.lowerBound] }
    /// Dense: pair i's chosen row, then its rejected row, at float offset 2·i·dimension. Hashed: the
    /// units one after another. Written once, before any read; reads (`pread`, at distinct offsets)
    /// may run on several threads at once.
    let spill: SpillFile

    public var count: Int { metadata.count }
    public var unitCount: Int { unitStarts.count - 1 }

    /// The text featurizer the rows were hashed with (nil: dense rows).
    public var hashing: Featurizer? {
        guard case .hashed(let bits, let includePrompt, _) = layout else { return nil }
        return .hashed(hashBits: bits, includePrompt: includePrompt)
    }

    /// Bytes of rows a pair takes on average (dense: both its rows), for sizing windows of rows.
    public var bytesPerPair: Int {
        guard case .hashed(_, _, let units) = layout else { return 2 * dimension * MemoryLayout<Float>.stride }
        let rowWords = (0..<units.count).reduce(0) { $0 + units.rowWords(of: $1) }
        return max(1, 4 * rowWords / max(1, units.firstPairs[units.count]))
    }

    /// `unitStarts`: dense rows' units (the text units are in `layout`), or with `shard`, every
    /// rank's units (the text units in `layout` are then this rank's, `shard.units`).
    init(metadata: PreferenceDataset, dimension: Int, layout: Layout, unitStarts: [Int], spill: SpillFile, shard: Shard? = nil) {
        self.metadata = metadata
        self.dimension = dimension
        self.layout = layout
        self.spill = spill
        self.shard = shard
        unitPairs = Self.unitPairs(dimension: dimension)
        if case .hashed(_, _, let units) = layout, shard == nil { self.unitStarts = units.firstPairs } else { self.unitStarts = unitStarts }
    }

    /// Dense pairs per unit of `dimension` numbers per row.
    static func unitPairs(dimension: Int) -> Int { max(1, (1 << 20) / (2 * max(1, dimension) * MemoryLayout<Float>.stride)) }

    /// Dense units: each block's pairs (blocks end after pairs `blockEnds`) in runs of `unitPairs`.
    static func unitStarts(blockEnds: [Int], unitPairs: Int) -> [Int] {
        var starts = [0]
        for end in blockEnds where end > starts[starts.count - 1] {
            for start in stride(from: starts[starts.count - 1] + unitPairs, to: end, by: unitPairs) { starts.append(start) }
            starts.append(end)
        }
        return starts
    }

    /// Whether `starts` can index `pairs` pairs' units (checked on a cache entry's index).
    static func validUnitStarts(_ starts: [Int], pairs: Int) -> Bool {
        starts.first == 0 && starts.last == pairs && zip(starts, starts.dropFirst()).allSatisfy { $0 < $1 }
    }

    /// Reads `paths` (JSONL, any size; text is hashed by `hashing`, refused without it), spilling
    /// the rows to a scratch file in `directory` (`$TMPDIR` or /tmp when nil) — or, unless
    /// `options.cache` is "none", to a cache entry that a later run with the same files, reader
    /// settings and (for text) hashing reuses without reading them (`note` says which it did).
    /// Dense rows too long for Float32 arithmetic are refused as in memory (`checkFeatureMagnitudes`).
    /// With `share` (a run of `plan`, the blocks of `paths`), only those blocks are read, into a
    /// cache entry of their own: an MPI rank's part of the read (`readShare`).
    public static func read(paths: [String], options: ReadOptions, hashing: Featurizer? = nil, directory: String?,
                            share: (plan: [FileBlock], blocks: Range<Int>)? = nil,
                            note: (String) -> Void = { _ in }) throws -> (StreamedPairs, ReadSummary) {
        let blocks = share.map { Array($0.plan[$0.blocks]) }
        // The hashing is part of the key only for text files: dense entries serve any text settings.
        let textual = paths.contains { DataSample(path: $0)?.isDense != true }
        guard let (location, flag) = PairsCache.location(option: options.cache),
              var key = CacheKey(paths: paths, options: options, hashing: textual ? hashing : nil,
                                 unusable: { note("note: cache: not used (\($0))") })
        else {
            let spill = try SpillFile(directory: directory)
            let (metadata, dimension, layout, starts, summary, _) = try read(paths: paths, options: options, hashing: hashing, share: blocks, into: spill)
            return (StreamedPairs(metadata: metadata, dimension: dimension, layout: layout, unitStarts: starts, spill: spill), summary)
        }
        if let share { key.reader["blocks"] = .string("\(share.blocks.lowerBound)..<\(share.blocks.upperBound) of \(share.plan.count)") }
        let cache = try PairsCache(path: location, flag: flag)
        let name = key.entryName
        let entryPath = "\(cache.path)/\(name)"
        switch cache.lookup(name, key: key) {
        case .reusable(let entry):
            note("note: cache: reusing \(entryPath) (built \(entry.built))")
            return (StreamedPairs(metadata: entry.metadata, dimension: entry.dimension, layout: entry.layout, unitStarts: entry.unitStarts, spill: entry.rows),
                    entry.summary)
        case .unusable(let reason):
            note("note: cache: \(entryPath) is \(reason), rebuilding")
        case .missing:
            break
        }
        var result: (PreferenceDataset, Int, Layout, [Int], ReadSummary)?
        let rows = try cache.build(name) { rows in
            let (metadata, dimension, layout, starts, summary, rowsHash) = try read(paths: paths, options: options, hashing: hashing, share: blocks, into: rows)
            result = (metadata, dimension, layout, starts, summary)
            // Dense entries keep their units' starts in the index's first column.
            var units: SparseUnits? = SparseUnits(firstPairs: starts, wordStarts: [], entries: [])
            var layoutFields: [(String, JSONValue)] = [("layout", .string("dense"))]
            if case .hashed(let bits, let includePrompt, let index) = layout {
                units = index
                layoutFields = [("layout", .string("hashed")), ("hash_bits", JSONValue(bits)), ("include_prompt", .bool(includePrompt))]
            }
            let encoded = CachedMetadata.encode(metadata, units: units)
            var metadataHash = ContentHash()
            metadataHash.mix(encoded)
            let header = JSONObject([
                ("format", .string(PairsCache.formatName)), ("version", JSONValue(CacheKey.formatVersion)), ("key", key.json),
                ("dimension", JSONValue(dimension)), ("pairs", JSONValue(metadata.count)),
            ] + layoutFields + [
                ("rows_bytes", JSONValue(4 * rows.count)), ("rows_hash", .string(rowsHash)),
                ("metadata_bytes", JSONValue(encoded.count)), ("metadata_hash", .string(metadataHash.hex)),
                ("built", .string(iso8601UTC(time(nil)))), ("summary", summary.cacheJSON),
            ])
            return (header, encoded)
        }
        guard let (metadata, dimension, layout, starts, summary) = result else { throw IOError("\(entryPath): the cache entry was not built") }
        let megabytes = Double(4 * rows.count) / Double(1 << 20)
        note("note: cache: built \(entryPath) (\(plural(metadata.count, "pair", "pairs")), \(fixed(megabytes, 1)) MB)")
        return (StreamedPairs(metadata: metadata, dimension: dimension, layout: layout, unitStarts: starts, spill: rows), summary)
    }

    /// Reads `paths`, appending each pair's two rows to `spill` (text: unit by unit, with the texts);
    /// also returns the dense units' starts and the rows' `ContentHash`.
    private static func read(paths: [String], options: ReadOptions, hashing: Featurizer?, share: [FileBlock]?, into spill: SpillFile)
        throws -> (PreferenceDataset, Int, Layout, [Int], ReadSummary, String)
    {
        var blockEnds: [Int] = []
        var interleaved: [Float] = []
        var spilledPairs = 0
        var dimension = 0
        var hash = ContentHash()
        var text = SparseUnitWriter(file: spill)
        var digests = TextDigests()
        var oversized: [(pair: Int, length: Double)?] = [nil, nil]  // the first of each side
        var (metadata, summary) = try PreferenceReader.readStreaming(paths: paths, options: options, hashing: hashing, share: share) { chunk in
            switch chunk {
            case .dense: break
            case .text(let hashed, let texts):
                try text.append(hashed, texts: texts)
                digests.append(prompts: texts.prompts, chosen: texts.chosen, rejected: texts.rejected)
                return
            case .endOfBlock:
                try text.finish()  // a unit ends with its block
                blockEnds.append(spilledPairs)
                return
            }
            guard case .dense(let chosen, let rejected, let rowDimension) = chunk else { return }
            dimension = rowDimension
            for (side, rows) in [chosen, rejected].enumerated() where oversized[side] == nil {
                oversized[side] = PreferenceDataset.firstOversizedRow(rows[...], dimension: dimension).map { (spilledPairs + $0.row, $0.length) }
            }
            // Each pair's two rows side by side: a unit is then one contiguous read.
            interleaved.removeAll(keepingCapacity: true)
            for start in stride(from: 0, to: chosen.count, by: dimension) {
                interleaved.append(contentsOf: chosen[start..<start + dimension])
                interleaved.append(contentsOf: rejected[start..<start + dimension])
            }
            try spill.append(interleaved)
            hash.mix(interleaved)
            spilledPairs += chosen.count / dimension
        }
        if case .hashed(let bits, let includePrompt)? = hashing, dimension == 0 {
            try text.finish()
            metadata.textDigests = digests
            return (metadata, 1 << bits, .hashed(hashBits: bits, includePrompt: includePrompt, units: text.units), text.units.firstPairs, summary,
                    text.hash.hex)
        }
        for side in 0..<2 { if let (pair, length) = oversized[side] { throw metadata.featureMagnitudeError(atPair: pair, side: side, length: length) } }
        return (metadata, dimension, .dense, unitStarts(blockEnds: blockEnds, unitPairs: unitPairs(dimension: dimension)), summary, hash.hex)
    }

    /// Where `read` puts the rows, for the note that says the run streams.
    public static func rowsDestination(_ options: ReadOptions, scratchDirectory: String) -> String {
        guard let (location, _) = PairsCache.location(option: options.cache) else {
            return "feature rows go to a scratch file in \(scratchDirectory), deleted when the run ends"
        }
        return "feature rows go to the cache in \(location) (--cache none: a scratch file instead)"
    }

    /// The units rank `rank` of `ranks` evaluates: a contiguous share, so that a rank reads one
    /// stretch of the rows and the ranks' sums join in unit order by passing one running total on.
    /// A rank's share of the rows (`shard`): its own units.
    public func units(ofRank rank: Int, among ranks: Int) -> Range<Int> {
        if let shard {
            precondition(shard.collective.rank == rank && shard.collective.size == ranks, "a share's units are its own rank's")
            return shard.units
        }
        return (unitCount * rank / ranks)..<(unitCount * (rank + 1) / ranks)
    }

    /// The pairs of unit `unit`.
    public func pairs(ofUnit unit: Int) -> Range<Int> { unitStarts[unit]..<unitStarts[unit + 1] }

    /// The unit that holds `pair`.
    public func unit(of pair: Int) -> Int {
        // The last unit that starts at or before `pair`.
        var (low, high) = (0, unitCount - 1)
        while low < high {
            let middle = (low + high + 1) / 2
            if unitStarts[middle] <= pair { low = middle } else { high = middle - 1 }
        }
        return low
    }

    /// Unit `unit`'s rows, both sides interleaved: pair `pairs(ofUnit:).lowerBound + j`'s chosen row
    /// at row 2j, its rejected row at 2j + 1.
    public func rows(ofUnit unit: Int) throws -> FeatureMatrix {
        switch layout {
        case .dense:
            var rows: [Float] = []
            try readRows(of: pairs(ofUnit: unit), into: &rows)
            return .dense(DenseRows(dimension: dimension, values: rows))
        case .hashed(_, _, let units):
            return .sparse(try units.rows(ofUnit: localUnit(unit), in: spill, dimension: dimension))
        }
    }

    /// Reads the dense rows of `pairs` (consecutive) into `rows`, resized to fit: pair `pairs.lowerBound + j`'s
    /// chosen row at `2·j·dimension`, its rejected row right after.
    public func readRows(of pairs: Range<Int>, into rows: inout [Float]) throws {
        precondition(layout == .dense, "hashed text is read a unit at a time")
        precondition(pairs.isEmpty || pairs.lowerBound >= firstOwnedPair && pairs.upperBound <= unitStarts[ownedUnits.upperBound], "rows held here")
        let floats = 2 * dimension * pairs.count
        if rows.count != floats { rows = [Float](repeating: 0, count: floats) }
        try spill.read(from: 2 * dimension * (pairs.lowerBound - firstOwnedPair), into: &rows)
    }

    /// Unit `unit`'s index among the units held here.
    private func localUnit(_ unit: Int) -> Int {
        precondition(ownedUnits.contains(unit), "unit \(unit) is held by another rank")
        return unit - ownedUnits.lowerBound
    }

    /// Unit `unit`'s texts (hashed text only): each pair's prompt, chosen and rejected text in UTF-8.
    func texts(ofUnit unit: Int) throws -> [[ArraySlice<UInt8>]] {
        guard case .hashed(_, _, let units) = layout else { return [] }
        return try units.texts(ofUnit: localUnit(unit), in: spill)
    }
}

extension StreamedPairs {
    /// Units each thread takes per round: enough to amortise the round's start, few enough that the
    /// per-unit results kept for the ordered combination stay small. A unit of hashed text is worth a
    /// 2^bits gradient to the linear objective (2 MiB at 18 bits), so a round keeps fewer of them.
    private var unitsPerThread: Int { hashing == nil ? 16 : 2 }

    /// Reads every unit of `units` (every unit held here when nil), `threads` × `unitsPerThread` at a time (each
    /// thread its own consecutive units), maps each with `body` (the unit and its interleaved rows,
    /// `rows(ofUnit:)`), and hands the results to `combine` in unit order: what comes out depends on
    /// the data alone. `body` may change the rows in place (standardize them): they are the thread's own.
    public func forEachUnitInOrder<Part>(units selected: Range<Int>? = nil, threads: Int, _ body: (Int, inout FeatureMatrix) -> Part,
                                         combine: (Part) -> Void) throws {
        let threads = max(1, threads)
        let round = threads * unitsPerThread
        let selected = selected ?? ownedUnits
        for first in stride(from: selected.lowerBound, to: selected.upperBound, by: round) {
            let units = first..<min(selected.upperBound, first + round)
            let slices = contiguousRanges(count: units.count, parts: min(threads, units.count))
            let results = parallelMap(parts: slices.count, threads: threads) { part -> Result<[Part], Error> in
                Result {
                    try slices[part].map { offset in
                        let unit = units.lowerBound + offset
                        var rows = try rows(ofUnit: unit)
                        return body(unit, &rows)
                    }
                }
            }
            for result in results { try result.get().forEach(combine) }
        }
    }

    /// Values of the pairs at `positions` (value j is pair `positions[j]`'s) spread over every pair,
    /// 0 for the others: per-pair weights of the training pairs, in the form the passes take.
    public func spread(_ values: [Double], over positions: [Int]) -> [Double] {
        var all = [Double](repeating: 0, count: count)
        for (value, pair) in zip(values, positions) { all[pair] = value }
        return all
    }

    /// z-scores a unit's interleaved dense rows in place, as `Standardization.apply` does.
    public func standardize(_ rows: inout FeatureMatrix, by standardization: Standardization) {
        guard case .dense(var dense) = rows else { preconditionFailure("hashed text is not standardized") }
        rows = .dense(DenseRows(dimension: dimension, values: []))  // `dense` is then the values' only owner
        for start in stride(from: 0, to: dense.values.count, by: dimension) {
            for column in 0..<dimension {
                dense.values[start + column] = (dense.values[start + column] - standardization.mean[column]) / standardization.standardDeviation[column]
            }
        }
        rows = .dense(dense)
    }

    /// A unit's interleaved rows as the two sides' matrices (dense rows z-scored as `Standardization.apply` does).
    public func sides(of rows: FeatureMatrix, standardizedBy standardization: Standardization?) -> (chosen: FeatureMatrix, rejected: FeatureMatrix) {
        switch rows {
        case .sparse(let sparse):
            let pairs = sparse.count / 2
            return (.sparse(sparse.subset((0..<pairs).map { 2 * $0 })), .sparse(sparse.subset((0..<pairs).map { 2 * $0 + 1 })))
        case .dense(let dense):
            let count = dense.values.count / (2 * dimension)
            var chosen = [Float](repeating: 0, count: count * dimension)
            var rejected = chosen
            for pair in 0..<count {
                copySides(of: dense.values, pair: pair, standardizedBy: standardization, chosen: &chosen, rejected: &rejected, at: pair)
            }
            return (.dense(DenseRows(dimension: dimension, values: chosen)), .dense(DenseRows(dimension: dimension, values: rejected)))
        }
    }

    /// Copies pair `pair` of the interleaved dense `rows` (z-scored as `Standardization.apply` does)
    /// into row `row` of `chosen` and of `rejected`.
    public func copySides(of rows: [Float], pair: Int, standardizedBy standardization: Standardization?,
                          chosen: inout [Float], rejected: inout [Float], at row: Int) {
        for column in 0..<dimension {
            let (c, r) = (rows[2 * pair * dimension + column], rows[(2 * pair + 1) * dimension + column])
            if let standardization {
                let (mean, deviation) = (standardization.mean[column], standardization.standardDeviation[column])
                chosen[row * dimension + column] = (c - mean) / deviation
                rejected[row * dimension + column] = (r - mean) / deviation
            } else {
                chosen[row * dimension + column] = c
                rejected[row * dimension + column] = r
            }
        }
    }

    /// Standardization statistics over both sides of the dense pairs `training` marks (as in memory:
    /// the chosen rows, then the rejected rows, here unit by unit; added on one thread in unit order).
    /// A share's ranks add their rows in turn, each continuing from the sums before it.
    public func standardization(over training: [Bool], threads: Int) throws -> Standardization {
        precondition(layout == .dense, "hashed text is not standardized")
        guard let shard else { return try moments(over: training, from: Standardization.Moments(dimension: dimension), threads: threads).standardization }
        let sums = try shard.collective.orderedFold(Standardization.Moments(dimension: dimension).state) { state in
            state = try moments(over: training, from: Standardization.Moments(state: state), threads: threads).state
        }
        return Standardization.Moments(state: sums).standardization
    }

    /// `moments` with the rows held here of the pairs `training` marks added, in unit order.
    private func moments(over training: [Bool], from moments: Standardization.Moments, threads: Int) throws -> Standardization.Moments {
        var moments = moments
        try forEachUnitInOrder(threads: threads) { unit, rows -> [ArraySlice<Float>] in
            guard case .dense(let dense) = rows else { return [] }
            let range = pairs(ofUnit: unit)
            var kept: [ArraySlice<Float>] = []
            for side in 0..<2 {
                for pair in range where training[pair] {
                    let start = (2 * (pair - range.lowerBound) + side) * dimension
                    kept.append(dense.values[start..<start + dimension])
                }
            }
            return kept
        } combine: { $0.forEach { moments.add($0) } }
        return moments
    }

    /// `fingerprint(of:)` of the pairs at `selected` (ascending), as if they were in memory: dense,
    /// every chosen row, then every rejected row (two passes over the rows); text, each pair's
    /// prompt, chosen and rejected text (one pass over the texts); then the other columns. A
    /// share's ranks hash their rows in turn, each continuing from the hash before it.
    public func fingerprint(of selected: [Int]) throws -> String {
        var hasher = PairsFingerprint()
        var next = 0
        let firstHere = selected.firstIndex { $0 >= firstOwnedPair } ?? selected.count
        func eachSelected(_ body: (Int, Range<Int>) throws -> Void) throws {
            func pass() throws {
                next = firstHere
                for unit in ownedUnits where next < selected.count {
                    let range = pairs(ofUnit: unit)
                    guard selected[next] < range.upperBound else { continue }
                    try body(unit, range)
                }
            }
            guard let shard else { return try pass() }
            hasher = PairsFingerprint(state: try shard.collective.orderedFold(hasher.state) { state in
                hasher = PairsFingerprint(state: state)
                try pass()
                state = hasher.state
            })
        }
        if layout != .dense {
            try eachSelected { unit, range in
                let texts = try texts(ofUnit: unit)
                while next < selected.count && selected[next] < range.upperBound {
                    texts[selected[next] - range.lowerBound].forEach { hasher.mix(utf8: $0) }
                    next += 1
                }
            }
            return hasher.finish(metadata.subset(selected))
        }
        var rows: [Float] = []
        for side in 0..<2 {
            try eachSelected { _, range in
                try readRows(of: range, into: &rows)
                while next < selected.count && selected[next] < range.upperBound {
                    let start = (2 * (selected[next] - range.lowerBound) + side) * dimension
                    hasher.mix(rows[start..<start + dimension])
                    next += 1
                }
            }
            hasher.endFloats()
        }
        return hasher.finish(metadata.subset(selected))
    }
}
