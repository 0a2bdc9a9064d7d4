import UpweightSupport
import UpweightIO

/// What a streaming read hands over after each chunk: dense rows, or text pairs hashed as read
/// together with their texts (which the rows file keeps for the pairs' fingerprint).
public enum StreamedChunk {
    case dense(chosen: [Float], rejected: [Float], dimension: Int)
    case text(HashedTexts, texts: (prompts: TextColumn, chosen: TextColumn, rejected: TextColumn))
    /// The pairs before this came from lines that start in the blocks read so far (`FileBlocks`).
    case endOfBlock
}

/// Where the units of hashed text pairs lie in a rows file. A unit holds consecutive pairs and is
/// one run of 4-byte words, an even number of them (whole 8-byte words for `ContentHash`):
///
///     rows:  2n + 1 row starts (counted from the unit's first entry; pair j's chosen row is row 2j,
///            its rejected row 2j + 1), then every entry's column, then every entry's value;
///     texts: 3n + 1 byte offsets, then each pair's prompt, chosen and rejected text in UTF-8,
///            zero-padded.
///
/// The rows come first so that training reads them in one `pread` and never the texts, which only
/// the fingerprint reads (it hashes the texts, as in memory). A unit closes once its rows take
/// `SparseUnitWriter.unitBytes`, and at the end of each block: where units end depends on the data alone.
public struct SparseUnits: Sendable, Equatable {
    /// Unit u holds pairs `firstPairs[u] ..< firstPairs[u + 1]`, in words `wordStarts[u] ..< wordStarts[u + 1]`.
    public var firstPairs: [Int] = [0]
    public var wordStarts: [Int] = [0]
    /// The entries (stored columns) of unit u's rows.
    public var entries: [Int] = []

    public var count: Int { entries.count }

    /// Words of unit `unit`'s rows (the texts follow them).
    func rowWords(of unit: Int) -> Int {
        2 * (firstPairs[unit + 1] - firstPairs[unit]) + 1 + 2 * entries[unit]
    }

    /// Checks an index read from a cache entry against its `pairs` and the rows file's `words`.
    func validate(pairs: Int, words: Int) throws {
        guard firstPairs.count == count + 1, wordStarts.count == count + 1, firstPairs.first == 0, wordStarts.first == 0,
              firstPairs.last == pairs, wordStarts.last == words
        else { throw BinaryColumnError("has a unit index that does not cover its \(pairs) pairs and \(words) words") }
        for unit in 0..<count {
            // Bounds first, so that the sums below cannot overflow on a forged index.
            guard firstPairs[unit] < firstPairs[unit + 1], firstPairs[unit + 1] <= pairs, wordStarts[unit] <= wordStarts[unit + 1], wordStarts[unit + 1] <= words,
                  (0...words).contains(entries[unit]),
                  wordStarts[unit] + rowWords(of: unit) <= wordStarts[unit + 1]
            else { throw BinaryColumnError("has a unit \(unit) whose bounds do not hold its rows") }
        }
    }
}

/// Writes hashed text pairs to a rows file in units (`SparseUnits`), pair by pair whatever the
/// chunks they come in, and checksums what it writes.
struct SparseUnitWriter {
    /// The rows a unit holds before it closes: about 1 MiB, as dense units.
    static let unitBytes = 1 << 20

    let file: SpillFile
    private(set) var units = SparseUnits()
    private(set) var hash = ContentHash()
    private var rowStarts: [UInt32] = [0]
    private var indices: [UInt32] = []
    private var values: [UInt32] = []
    private var textOffsets: [UInt32] = [0]
    private var textBytes: [UInt8] = []
    private var pendingPairs = 0

    init(file: SpillFile) { self.file = file }

    mutating func append(_ hashed: HashedTexts, texts: (prompts: TextColumn, chosen: TextColumn, rejected: TextColumn)) throws {
        for pair in 0..<hashed.chosen.count {
            for rows in [hashed.chosen, hashed.rejected] {
                let entries = rows.rowStarts[pair]..<rows.rowStarts[pair + 1]
                indices += rows.indices[entries].lazy.map { UInt32(bitPattern: $0) }
                values += rows.values[entries].lazy.map(\.bitPattern)
                rowStarts.append(UInt32(indices.count))
            }
            for column in [texts.prompts, texts.chosen, texts.rejected] {
                textBytes += column.utf8(pair)
                guard textBytes.count <= UInt32.max else { throw IOError("\(file.directory): a unit's texts pass 4 GiB") }
                textOffsets.append(UInt32(textBytes.count))
            }
            pendingPairs += 1
            if 4 * (rowStarts.count + 2 * indices.count) >= Self.unitBytes { try closeUnit() }
        }
    }

    /// Writes the last, partial unit (at the end of a block, and of the read).
    mutating func finish() throws {
        if pendingPairs > 0 { try closeUnit() }
    }

    private mutating func closeUnit() throws {
        var words = rowStarts + indices + values + textOffsets
        words.reserveCapacity(words.count + textBytes.count / 4 + 2)
        for start in stride(from: 0, to: textBytes.count, by: 4) {
            var word: UInt32 = 0
            for (shift, byte) in textBytes[start..<min(start + 4, textBytes.count)].enumerated() { word |= UInt32(byte) << (8 * UInt32(shift)) }
            words.append(word)
        }
        if words.count % 2 == 1 { words.append(0) }
        try file.append(words)
        hash.mix(words)
        units.firstPairs.append(units.firstPairs[units.count] + pendingPairs)
        units.wordStarts.append(file.count)
        units.entries.append(indices.count)
        (rowStarts, textOffsets) = ([0], [0])
        indices.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        textBytes.removeAll(keepingCapacity: true)
        pendingPairs = 0
    }
}

extension SparseUnits {
    /// Unit `unit`'s rows (2n, pair j's sides at rows 2j and 2j + 1), read from `file` (its three
    /// consecutive runs straight into their arrays) and checked before the kernels trust them: a
    /// forged entry throws, never traps.
    func rows(ofUnit unit: Int, in file: SpillFile, dimension: Int) throws -> SparseRows {
        let pairs = firstPairs[unit + 1] - firstPairs[unit]
        let entryCount = entries[unit]
        var starts = [UInt32](repeating: 0, count: 2 * pairs + 1)
        var rows = SparseRows(dimension: dimension)
        rows.indices = [Int32](repeating: 0, count: entryCount)
        rows.values = [Float](repeating: 0, count: entryCount)
        try file.read(from: wordStarts[unit], into: &starts)
        try file.read(from: wordStarts[unit] + starts.count, into: &rows.indices)
        try file.read(from: wordStarts[unit] + starts.count + entryCount, into: &rows.values)
        rows.rowStarts = starts.map { Int($0) }
        guard rows.rowStarts.last == entryCount, rows.isWellFormed else {
            throw IOError("\(file.directory): unit \(unit) of the rows file is malformed; remove the file and run again")
        }
        return rows
    }

    /// Unit `unit`'s texts: for each pair, its prompt, chosen and rejected text in UTF-8.
    func texts(ofUnit unit: Int, in file: SpillFile) throws -> [[ArraySlice<UInt8>]] {
        let pairs = firstPairs[unit + 1] - firstPairs[unit]
        let start = wordStarts[unit] + rowWords(of: unit)
        var words = [UInt32](repeating: 0, count: wordStarts[unit + 1] - start)
        try file.read(from: start, into: &words)
        let offsetCount = 3 * pairs + 1
        guard words.count >= offsetCount else { throw IOError("\(file.directory): unit \(unit) of the rows file has no texts") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4 * (words.count - offsetCount))
        for word in words[offsetCount...] { for shift in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: word >> (8 * UInt32(shift)))) } }
        let offsets = words[..<offsetCount].map { Int($0) }
        guard offsets.first == 0, zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }), offsets.last! <= bytes.count else {
            throw IOError("\(file.directory): unit \(unit) of the rows file has malformed texts; remove the file and run again")
        }
        return (0..<pairs).map { pair in (0..<3).map { bytes[offsets[3 * pair + $0]..<offsets[3 * pair + $0 + 1]] } }
    }
}
