import UpweightSupport

/// Turns text into the sparse row that scikit-learn 1.9.1 produces with
/// `HashingVectorizer(n_features=2**hashBits, ngram_range=(1, 2), alternate_sign=True, norm="l2", lowercase=True)`
/// and the default token pattern `(?u)\b\w\w+\b`:
/// - The text is lowercased like Python's `str.lower()`: full Unicode mappings (U+0130 "İ" becomes "i" + U+0307),
///   and capital sigma becomes "ς" when it ends a word (Unicode's Final_Sigma context), otherwise "σ".
/// - Tokens are maximal runs of two or more Python `\w` scalars in the lowercased text: "_", letters (Lu Ll Lt Lm Lo)
///   or scalars with a Unicode numeric type. Combining marks (Mn, Mc) are not `\w`, so they split words.
/// - Terms are the tokens, then each pair of neighbouring tokens joined by one space.
/// - Each term's UTF-8 bytes are hashed with MurmurHash3 (x86, 32-bit, seed 0), read as a signed Int32 `h`.
///   The term adds +1 (h >= 0) or -1 (h < 0) at index `|h| % featureCount`; `Int32.min` lands on 0.
/// - The row is divided by its L2 norm. Like scikit-learn, indices whose terms cancel out are kept as explicit
///   zeros; a text without tokens gives an empty row.
public struct TextHasher: Sendable, Equatable {
    /// 1...30; the row has `featureCount = 1 << hashBits` columns.
    public let hashBits: Int

    public init(hashBits: Int) {
        precondition((1...30).contains(hashBits), "hashBits must be in 1...30, got \(hashBits)")
        self.hashBits = hashBits
    }

    public var featureCount: Int { 1 << hashBits }

    /// Appends the L2-normalized sparse row of `text` to `indices`/`values` (indices ascending, no duplicates).
    /// Returns the number of entries appended.
    @discardableResult
    public func appendRow(of text: String, indices: inout [Int32], values: inout [Float]) -> Int {
        var tokens = TokenList()
        tokens.read(text)
        let tokenCount = tokens.bounds.count
        guard tokenCount > 0 else { return 0 }

        // One key per term: the column (< 2^30) shifted left, the sign in bit 0. Sorting groups equal columns,
        // which is cheaper than a dictionary for rows of a few hundred terms.
        let mask = UInt32(featureCount - 1)
        var keys = [UInt32]()
        keys.reserveCapacity(2 * tokenCount - 1)
        func addTerm(_ start: Int, _ end: Int) {
            let h = murmurHash3x86_32(tokens.bytes[start..<end])
            // |h| & mask == |h| % featureCount for a power of two, and sends Int32.min (|h| = 2^31) to 0.
            let column = Int32(bitPattern: h).magnitude & mask
            keys.append(column << 1 | h >> 31)
        }
        for (start, end) in tokens.bounds { addTerm(start, end) }
        // Tokens are stored joined by single spaces, so a bigram is one contiguous slice.
        for i in 1..<tokenCount { addTerm(tokens.bounds[i - 1].start, tokens.bounds[i].end) }
        keys.sort()

        // Counts are integers (exact in Float below 2^24 terms), so `values` holds them until normalized.
        let first = values.count
        var sumOfSquares = 0.0
        var i = 0
        while i < keys.count {
            let column = keys[i] >> 1
            var count = 0.0
            while i < keys.count, keys[i] >> 1 == column {
                count += keys[i] & 1 == 0 ? 1 : -1
                i += 1
            }
            indices.append(Int32(column))
            values.append(Float(count))
            sumOfSquares += count * count
        }
        // Divide (not multiply by the reciprocal) in Double, as sklearn's normalize does. The sum is never 0:
        // k tokens give 2k - 1 terms of +-1, an odd total, so some column is nonzero.
        if sumOfSquares > 0 {
            let norm = sumOfSquares.squareRoot()
            for k in first..<values.count { values[k] = Float(Double(values[k]) / norm) }
        }
        return values.count - first
    }
}

// Nested so these helpers cannot collide with names elsewhere in the module.
extension TextHasher {
    /// The tokens of one text, lowercased and stored as UTF-8 joined by single spaces.
    private struct TokenList {
        var bytes: [UInt8] = []
        var bounds: [(start: Int, end: Int)] = []
        private var runMark = 0     // `bytes.count` before the current run and its separating space
        private var runStart = 0
        private var runLength = 0   // scalars in the current run of word characters

        mutating func read(_ text: String) {
            bytes.reserveCapacity(text.utf8.count + 1)
            // Walk the UTF-8 bytes, decoding a scalar only for non-ASCII (a lead byte's index is a scalar index).
            let utf8 = text.utf8, scalars = text.unicodeScalars
            var index = utf8.startIndex
            while index < utf8.endIndex {
                let byte = utf8[index]
                if byte < 0x80 {
                    add(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
                    utf8.formIndex(after: &index)
                    continue
                }
                let scalar = scalars[index]
                if scalar.value == 0x3A3 {
                    add(Self.isFinalSigma(at: index, in: scalars) ? "ς" : "σ" as Unicode.Scalar)
                } else if scalar.properties.changesWhenLowercased {
                    for lower in scalar.properties.lowercaseMapping.unicodeScalars { add(lower) }
                } else {
                    add(scalar)
                }
                scalars.formIndex(after: &index)
            }
            endRun()
        }

        private mutating func add(_ byte: UInt8) {
            let isWord = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x5F
            guard isWord else { return endRun() }
            startRunIfNeeded()
            bytes.append(byte)
            runLength += 1
        }

        private mutating func add(_ scalar: Unicode.Scalar) {
            if scalar.isASCII { return add(UInt8(scalar.value)) }
            guard Self.isWordCharacter(scalar) else { return endRun() }
            startRunIfNeeded()
            bytes.append(contentsOf: scalar.utf8)
            runLength += 1
        }

        private mutating func startRunIfNeeded() {
            guard runLength == 0 else { return }
            runMark = bytes.count
            if !bounds.isEmpty { bytes.append(0x20) }
            runStart = bytes.count
        }

        /// Keeps a run of two or more word characters as a token; drops a lone one with its separator.
        private mutating func endRun() {
            if runLength >= 2 {
                bounds.append((runStart, bytes.count))
            } else if runLength == 1 {
                bytes.removeLast(bytes.count - runMark)
            }
            runLength = 0
        }

        /// Python's `\w` for str patterns: "_" or `str.isalnum()` (letter categories, or any numeric type).
        static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
            let properties = scalar.properties
            switch properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
                return true
            default:
                return scalar == "_" || properties.numericType != nil
            }
        }

        /// CPython's `handle_capital_sigma`: final when a cased scalar comes before it and none after it,
        /// skipping case-ignorable scalars (apostrophes, periods, combining marks...) on both sides.
        static func isFinalSigma(
            at index: String.UnicodeScalarView.Index, in scalars: String.UnicodeScalarView
        ) -> Bool {
            var before = index
            var casedBefore = false
            while before > scalars.startIndex {
                scalars.formIndex(before: &before)
                let properties = scalars[before].properties
                if !properties.isCaseIgnorable {
                    casedBefore = properties.isCased
                    break
                }
            }
            guard casedBefore else { return false }
            var after = scalars.index(after: index)
            while after < scalars.endIndex {
                let properties = scalars[after].properties
                if !properties.isCaseIgnorable { return !properties.isCased }
                scalars.formIndex(after: &after)
            }
            return true
        }
    }
}

/// MurmurHash3 x86 32-bit (Austin Appleby's reference `MurmurHash3_x86_32`), blocks read little-endian.
public func murmurHash3x86_32<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, seed: UInt32 = 0) -> UInt32 where Bytes.Index == Int {
    @inline(__always) func mix(_ block: UInt32) -> UInt32 {
        var k = block &* 0xCC9E_2D51
        k = k << 15 | k >> 17
        return k &* 0x1B87_3593
    }
    @inline(__always) func byte(_ offset: Int) -> UInt32 { UInt32(bytes[bytes.startIndex + offset]) }
    var h = seed
    let blockCount = bytes.count / 4
    for block in 0..<blockCount {
        let offset = block * 4
        h ^= mix(byte(offset) | byte(offset + 1) << 8 | byte(offset + 2) << 16 | byte(offset + 3) << 24)
        h = h << 13 | h >> 19
        h = h &* 5 &+ 0xE654_6B64
    }
    let tail = blockCount * 4
    var k: UInt32 = 0
    switch bytes.count & 3 {
    case 3: k ^= byte(tail + 2) << 16; fallthrough
    case 2: k ^= byte(tail + 1) << 8; fallthrough
    case 1: k ^= byte(tail); h ^= mix(k)
    default: break
    }
    h ^= UInt32(truncatingIfNeeded: bytes.count)
    h ^= h >> 16
    h &*= 0x85EB_CA6B
    h ^= h >> 13
    h &*= 0xC2B2_AE35
    h ^= h >> 16
    return h
}
