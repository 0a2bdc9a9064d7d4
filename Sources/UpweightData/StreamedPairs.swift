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
    /// (`$TMPDIR` or /tmp when nil).
    public static func read(paths: [String], options: ReadOptions, directory: String?) throws -> (StreamedPairs, ReadSummary) {
        let spill = try SpillFile(directory: directory)
        var interleaved: [Float] = []
        let (metadata, dimension, summary) = try PreferenceReader.readStreaming(paths: paths, options: options) { chosen, rejected, dimension in
            // Each pair's two rows side by side: a unit is then one contiguous read.
            interleaved.removeAll(keepingCapacity: true)
            for start in stride(from: 0, to: chosen.count, by: dimension) {
                interleaved.append(contentsOf: chosen[start..<start + dimension])
                interleaved.append(contentsOf: rejected[start..<start + dimension])
            }
            try spill.append(interleaved)
        }
        return (StreamedPairs(metadata: metadata, dimension: dimension, spill: spill), summary)
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
