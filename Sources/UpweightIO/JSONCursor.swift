import UpweightSupport

/// A position in one line's bytes. The one-byte steps are `@inlinable`: the fast scanner in
/// UpweightData calls them for every byte of structure, and a call across the module boundary per
/// byte cost the reader about 1% of its instructions.
package struct JSONCursor {
    package let bytes: UnsafeRawBufferPointer
    package var index = 0

    @inlinable
    package init(bytes: UnsafeRawBufferPointer, index: Int = 0) {
        self.bytes = bytes
        self.index = index
    }

    @inlinable package var atEnd: Bool { index >= bytes.count }
    @inlinable package var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    @inlinable
    package mutating func take(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    /// JSON whitespace: space, tab, newline, carriage return.
    @inlinable
    package static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    @inlinable
    package mutating func skipSpace() {
        while let byte = peek, Self.isSpace(byte) { index += 1 }
    }

    /// Skips string bytes that need no attention, 8 at a time: stops at (or a little before) the first
    /// `"`, `\\` or control byte (< 0x20), which the caller then looks at; returns whether it skipped
    /// a non-ASCII byte. Bit tricks on a 64-bit word (Hacker's Delight 6-1): (w − 0x01…01) & ~w &
    /// 0x80…80 is non-zero iff some byte of w is 0, and (w − 0x20…20) & ~w & 0x80…80 iff some byte is < 0x20.
    private mutating func skipPlainBytes() -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        var high: UInt64 = 0
        while index + 8 <= bytes.count {
            let word = (base + index).loadUnaligned(as: UInt64.self)
            let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
            let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
            if special & highs != 0 { break }
            high |= word
            index += 8
        }
        return high & highs != 0
    }

    /// A string as jansson decodes it: the escapes \" \\ \/ \b \f \n \r \t and \uXXXX (surrogate pairs
    /// combined), valid UTF-8. Nil for what jansson rejects (control characters, a lone surrogate,
    /// \u0000, invalid UTF-8, an unknown escape), so that jansson can say why.
    package mutating func string() -> String? {
        let opening = index
        if let (raw, ascii) = plainString() {  // the common case: no escapes, one copy
            // ASCII needs no validation (and String(validating:) costs a generic lookup per call).
            return ascii ? String(decoding: raw, as: UTF8.self) : String(validating: raw, as: UTF8.self)
        }
        index = opening
        var decoded: [UInt8] = []
        guard escapedString(appendingTo: &decoded) else { return nil }
        return String(decoding: decoded, as: UTF8.self)  // validated as it was decoded
    }

    /// The same string's decoded UTF-8 appended to `output`, with no `String` made; false (and
    /// `output` as it was) for what jansson rejects.
    package mutating func string(appendingTo output: inout [UInt8]) -> Bool {
        let opening = index, length = output.count
        if let (raw, ascii) = plainString() {
            guard ascii || String(validating: raw, as: UTF8.self) != nil else { return false }
            output.append(contentsOf: raw)
            return true
        }
        index = opening
        guard escapedString(appendingTo: &output) else {
            output.removeSubrange(length...)
            return false
        }
        return true
    }

    /// A string without escapes: its bytes (between the quotes, which the cursor is then past) and
    /// whether they are all ASCII. Nil for anything else, with the cursor somewhere inside.
    private mutating func plainString() -> (UnsafeRawBufferPointer, ascii: Bool)? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        var ascii = true
        while true {
            if skipPlainBytes() { ascii = false }
            guard let byte = peek, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") else { break }
            if byte < 0x20 { return nil }
            ascii = ascii && byte < 0x80
            index += 1
        }
        guard peek == UInt8(ascii: "\"") else { return nil }
        index += 1
        return (UnsafeRawBufferPointer(rebasing: bytes[start..<index - 1]), ascii)
    }

    /// The general case, a byte at a time. Runs between escapes are validated on their own: an escape
    /// is ASCII, so it cannot sit inside a valid multi-byte sequence.
    private mutating func escapedString(appendingTo output: inout [UInt8]) -> Bool {
        guard take(UInt8(ascii: "\"")) else { return false }
        var runStart = index
        func endRun(_ end: Int) -> Bool {
            let run = UnsafeRawBufferPointer(rebasing: bytes[runStart..<end])
            guard run.allSatisfy({ $0 < 0x80 }) || String(validating: run, as: UTF8.self) != nil else { return false }
            output.append(contentsOf: run)
            return true
        }
        while let byte = peek, byte != UInt8(ascii: "\"") {
            if byte < 0x20 { return false }
            guard byte == UInt8(ascii: "\\") else { index += 1; continue }
            guard endRun(index) else { return false }
            index += 1
            guard let escape = peek else { return false }
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escape)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex4() else { return false }
                if (0xD800...0xDBFF).contains(scalar) {
                    guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")), let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return false }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) || scalar == 0 {
                    return false
                }
                output.append(contentsOf: UTF8.encode(Unicode.Scalar(scalar)!)!)
            default: return false
            }
            runStart = index
        }
        guard endRun(index), take(UInt8(ascii: "\"")) else { return false }
        return true
    }

    private mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// `true`, `false` or `null`.
    package mutating func literal() -> JSONValue? {
        for (word, value) in [("true", JSONValue.bool(true)), ("false", .bool(false)), ("null", .null)] {
            let utf8 = Array(word.utf8)
            if index + utf8.count <= bytes.count, utf8.indices.allSatisfy({ bytes[index + $0] == utf8[$0] }) {
                index += utf8.count
                return value
            }
        }
        return nil
    }

    /// `[n, n, ...]` of finite Float32 values; nil for anything else (including `[]`).
    package mutating func floatArray() -> [Float]? {
        guard take(UInt8(ascii: "[")) else { return nil }
        var values: [Float] = []
        values.reserveCapacity(bytes.count / 8)
        while true {
            skipSpace()
            guard let (value, _) = number() else { return nil }
            let single = Float(value)
            guard single.isFinite else { return nil }
            values.append(single)
            skipSpace()
            if take(UInt8(ascii: ",")) { continue }
            guard take(UInt8(ascii: "]")) else { return nil }
            return values
        }
    }

    /// A JSON number, as jansson would read it: integers (no fraction, no exponent) through Int64,
    /// reals through strtod. Nil when the text is not a JSON number or jansson would reject it.
    package mutating func number() -> (Double, isInteger: Bool)? {
        let start = index
        let negative = take(UInt8(ascii: "-"))
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        guard let first = peek, first >= 0x30, first <= 0x39 else { return nil }
        if first == 0x30 {
            index += 1
            if let next = peek, next >= 0x30, next <= 0x39 { return nil }  // no leading zeros
        } else {
            while let byte = peek, byte >= 0x30, byte <= 0x39 {
                if digits < 19 { mantissa = mantissa * 10 + UInt64(byte - 0x30); digits += 1 } else { exponent += 1 }
                index += 1
            }
        }
        var isInteger = true
        if take(UInt8(ascii: ".")) {
            isInteger = false
            guard let byte = peek, byte >= 0x30, byte <= 0x39 else { return nil }
            while let byte = peek, byte >= 0x30, byte <= 0x39 {
                if digits < 19 {
                    if mantissa != 0 || byte != 0x30 { digits += 1 }
                    mantissa = mantissa * 10 + UInt64(byte - 0x30)
                    exponent -= 1
                }
                index += 1
            }
        }
        if let byte = peek, byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            let negativeExponent = take(UInt8(ascii: "-"))
            if !negativeExponent { _ = take(UInt8(ascii: "+")) }
            guard let digit = peek, digit >= 0x30, digit <= 0x39 else { return nil }
            var written = 0
            while let byte = peek, byte >= 0x30, byte <= 0x39 {
                if written < 100_000 { written = written * 10 + Int(byte - 0x30) }
                index += 1
            }
            exponent += negativeExponent ? -written : written
        }
        if isInteger {
            // jansson reads these with strtoll: within Int64 (2^53 keeps them exact as doubles too).
            guard exponent == 0, mantissa < 1 << 53 else { return nil }
            return (Double(Int64(mantissa) * (negative ? -1 : 1)), true)
        }
        if digits <= 19, mantissa <= 1 << 53, abs(exponent) <= 22 {
            let magnitude = exponent < 0 ? Double(mantissa) / JSONCursor.powersOfTen[-exponent] : Double(mantissa) * JSONCursor.powersOfTen[exponent]
            return (negative ? -magnitude : magnitude, false)
        }
        return strtodToken(start..<index)
    }

    /// The rare long or extreme number: exactly what jansson does, strtod; overflow is rejected.
    private func strtodToken(_ range: Range<Int>) -> (Double, isInteger: Bool)? {
        var text = [CChar](repeating: 0, count: range.count + 1)
        for (offset, position) in range.enumerated() { text[offset] = CChar(bitPattern: bytes[position]) }
        errno = 0
        let value = strtod(text, nil)
        if errno == ERANGE && value.isInfinite { return nil }
        return (value, false)
    }

    /// 10^0 … 10^22, each exact in a Double (5^22 < 2^53). Written as literals, so the compiler lays the
    /// array out in the binary; built by a closure, it cost a lazy-initialisation check on every number
    /// read (3% of reading a dense file).
    private static let powersOfTen: [Double] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                                1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]
}
