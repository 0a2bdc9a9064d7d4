import UpweightSupport
import UpweightIO

/// Dense pairs whose feature rows live in a scratch file, not in memory: every other column (the
/// categories, weights, margins, groups, ids and lines) is held as usual, 60–80 bytes a pair, so
/// that splits, weights and reports work as on in-memory data. Rows are read back in units of
/// `unitPairs` consecutive pairs, a size fixed by the dimension alone: sums taken unit by unit, and
/// so the trained model, do not depend on how the file was read (chunk size) or on the threads.
public final class StreamedPairs: @unchecked Sendable {
    /// Every column but the responses (which are empty: dimension 0).
    public let metadata: PreferenceDataset
    public let dimension: Int
    /// Pairs per unit: about 1 MiB of both sides' rows (a thread holds a unit and its standardized copy).
    public let unitPairs: Int
    /// Pair i's chosen row, then its rejected row, at float offset 2·i·dimension. Written once, before
    /// any read; reads (`pread`, at distinct offsets) may run on several threads at once.
    private let spill: SpillFile

    public var count: Int { metadata.count }
    public var unitCount: Int { (count + unitPairs - 1) / unitPairs }

    private init(metadata: PreferenceDataset, dimension: Int, spill: SpillFile) {
        self.metadata = metadata
        self.dimension = dimension
        self.spill = spill
        unitPairs = max(1, (1 << 20) / (2 * dimension * MemoryLayout<Float>.stride))
    }

    /// Reads `paths` (dense JSONL, any size), spilling the rows to a scratch file in `directory`
    /// (`$TMPDIR` or /tmp when nil) — or, unless `options.cache` is "none", to a cache entry that a
    /// later run with the same files and reader settings reuses without reading them (`note` says
    /// which it did). Rows too long for Float32 arithmetic are refused as in memory (`checkFeatureMagnitudes`).
    public static func read(paths: [String], options: ReadOptions, directory: String?,
                            note: (String) -> Void = { _ in }) throws -> (StreamedPairs, ReadSummary) {
        guard let (location, flag) = PairsCache.location(option: options.cache),
              let key = CacheKey(paths: paths, options: options, unusable: { note("note: cache: not used (\($0))") })
        else {
            let spill = try SpillFile(directory: directory)
            let (metadata, dimension, summary, _) = try read(paths: paths, options: options, into: spill)
            return (StreamedPairs(metadata: metadata, dimension: dimension, spill: spill), summary)
        }
        let cache = try PairsCache(path: location, flag: flag)
        let name = key.entryName
        let entryPath = "\(cache.path)/\(name)"
        switch cache.lookup(name, key: key) {
        case .reusable(let entry):
            note("note: cache: reusing \(entryPath) (built \(entry.built))")
            return (StreamedPairs(metadata: entry.metadata, dimension: entry.dimension, spill: entry.rows), entry.summary)
        case .unusable(let reason):
            note("note: cache: \(entryPath) is \(reason), rebuilding")
        case .missing:
            break
        }
        var result: (PreferenceDataset, Int, ReadSummary)?
        let rows = try cache.build(name) { rows in
            let (metadata, dimension, summary, rowsHash) = try read(paths: paths, options: options, into: rows)
            result = (metadata, dimension, summary)
            let encoded = CachedMetadata.encode(metadata)
            var metadataHash = ContentHash()
            metadataHash.mix(encoded)
            let header = JSONObject([
                ("format", .string(PairsCache.formatName)), ("version", JSONValue(CacheKey.formatVersion)), ("key", key.json),
                ("dimension", JSONValue(dimension)), ("pairs", JSONValue(metadata.count)),
                ("rows_bytes", JSONValue(4 * rows.count)), ("rows_hash", .string(rowsHash)),
                ("metadata_bytes", JSONValue(encoded.count)), ("metadata_hash", .string(metadataHash.hex)),
                ("built", .string(iso8601UTC(time(nil)))), ("summary", summary.cacheJSON),
            ])
            return (header, encoded)
        }
        guard let (metadata, dimension, summary) = result else { throw IOError("\(entryPath): the cache entry was not built") }
        let megabytes = Double(4 * rows.count) / Double(1 << 20)
        note("note: cache: built \(entryPath) (\(plural(metadata.count, "pair", "pairs")), \(fixed(megabytes, 1)) MB)")
        return (StreamedPairs(metadata: metadata, dimension: dimension, spill: rows), summary)
    }

    /// Reads `paths`, appending each pair's two rows to `spill`; also returns the rows' `ContentHash`.
    private static func read(paths: [String], options: ReadOptions, into spill: SpillFile)
        throws -> (PreferenceDataset, Int, ReadSummary, String)
    {
        var interleaved: [Float] = []
        var spilledPairs = 0
        var hash = ContentHash()
        var oversized: [(pair: Int, length: Double)?] = [nil, nil]  // the first of each side
        let (metadata, dimension, summary) = try PreferenceReader.readStreaming(paths: paths, options: options) { chosen, rejected, dimension in
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
        for side in 0..<2 { if let (pair, length) = oversized[side] { throw metadata.featureMagnitudeError(atPair: pair, side: side, length: length) } }
        return (metadata, dimension, summary, hash.hex)
    }

    /// Where `read` puts the rows, for the note that says the run streams.
    public static func rowsDestination(_ options: ReadOptions, scratchDirectory: String) -> String {
        guard let (location, _) = PairsCache.location(option: options.cache) else {
            return "feature rows go to a scratch file in \(scratchDirectory), deleted when the run ends"
        }
        return "feature rows go to the cache in \(location) (--cache none: a scratch file instead)"
    }

    /// The pairs of unit `unit`.
    public func pairs(ofUnit unit: Int) -> Range<Int> {
        unit * unitPairs..<min(count, (unit + 1) * unitPairs)
    }

    /// Reads the rows of `pairs` (consecutive) into `rows`, resized to fit: pair `pairs.lowerBound + j`'s
    /// chosen row at `2·j·dimension`, its rejected row right after.
    public func readRows(of pairs: Range<Int>, into rows: inout [Float]) throws {
        let floats = 2 * dimension * pairs.count
        if rows.count != floats { rows = [Float](repeating: 0, count: floats) }
        try spill.read(from: 2 * dimension * pairs.lowerBound, into: &rows)
    }
}

extension StreamedPairs {
    /// Units each thread takes per round: enough to amortise the round's start, few enough that the
    /// per-unit results kept for the ordered combination stay small.
    private static let unitsPerThread = 16

    /// Reads every unit, `threads` × `unitsPerThread` at a time (each thread its own consecutive
    /// units, into a buffer it reuses), maps each with `body` (the unit and its interleaved rows),
    /// and hands the results to `combine` in unit order: what comes out depends on the data alone.
    /// `body` may change the rows in place (standardize them): the buffer is the thread's own.
    public func forEachUnitInOrder<Part>(threads: Int, _ body: (Int, inout [Float]) -> Part, combine: (Part) -> Void) throws {
        let threads = max(1, threads)
        let round = threads * Self.unitsPerThread
        for first in stride(from: 0, to: unitCount, by: round) {
            let units = first..<min(unitCount, first + round)
            let slices = contiguousRanges(count: units.count, parts: min(threads, units.count))
            let results = parallelMap(parts: slices.count, threads: threads) { part -> Result<[Part], Error> in
                Result {
                    var rows: [Float] = []
                    return try slices[part].map { offset in
                        let unit = units.lowerBound + offset
                        try readRows(of: pairs(ofUnit: unit), into: &rows)
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

    /// z-scores a unit's interleaved rows in place, as `Standardization.apply` does.
    public func standardize(_ rows: inout [Float], by standardization: Standardization) {
        for start in stride(from: 0, to: rows.count, by: dimension) {
            for column in 0..<dimension {
                rows[start + column] = (rows[start + column] - standardization.mean[column]) / standardization.standardDeviation[column]
            }
        }
    }

    /// A unit's interleaved rows as the two sides' matrices, z-scored as `Standardization.apply` does.
    public func sides(of rows: [Float], standardizedBy standardization: Standardization?) -> (chosen: DenseRows, rejected: DenseRows) {
        let count = rows.count / (2 * dimension)
        var chosen = [Float](repeating: 0, count: count * dimension)
        var rejected = chosen
        for pair in 0..<count {
            copySides(of: rows, pair: pair, standardizedBy: standardization, chosen: &chosen, rejected: &rejected, at: pair)
        }
        return (DenseRows(dimension: dimension, values: chosen), DenseRows(dimension: dimension, values: rejected))
    }

    /// Copies pair `pair` of the interleaved `rows` (z-scored as `Standardization.apply` does) into
    /// row `row` of `chosen` and of `rejected`.
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

    /// Standardization statistics over both sides of the pairs `training` marks (as in memory: the
    /// chosen rows, then the rejected rows, here unit by unit; added on one thread in unit order).
    public func standardization(over training: [Bool], threads: Int) throws -> Standardization {
        var moments = Standardization.Moments(dimension: dimension)
        try forEachUnitInOrder(threads: threads) { unit, rows -> [ArraySlice<Float>] in
            let range = pairs(ofUnit: unit)
            var kept: [ArraySlice<Float>] = []
            for side in 0..<2 {
                for pair in range where training[pair] {
                    let start = (2 * (pair - range.lowerBound) + side) * dimension
                    kept.append(rows[start..<start + dimension])
                }
            }
            return kept
        } combine: { $0.forEach { moments.add($0) } }
        return moments.standardization
    }

    /// `fingerprint(of:)` of the pairs at `selected` (ascending), as if they were in memory: every
    /// chosen row, then every rejected row (two passes over the rows), then the other columns.
    public func fingerprint(of selected: [Int]) throws -> String {
        var hasher = PairsFingerprint()
        var rows: [Float] = []
        for side in 0..<2 {
            var next = 0
            for unit in 0..<unitCount where next < selected.count {
                let range = pairs(ofUnit: unit)
                guard selected[next] < range.upperBound else { continue }
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
