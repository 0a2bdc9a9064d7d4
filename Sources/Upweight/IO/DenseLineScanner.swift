#if canImport(Glibc)
import Glibc
#endif

/// A fast path for the lines of dense files, which are mostly number text: jansson parses numbers at
/// ~35 MB/s per core (a byte-at-a-time lexer, `strtod`, `localeconv()` per number; NOTES.md), this
/// reads them ~10× faster straight into Float32.
///
/// Exactness by construction: the scanner accepts only lines it can read completely — a flat object
/// of strings without escapes, numbers, and the two feature arrays, with valid values — and returns
/// nil for everything else, which then takes the jansson path and gets jansson's verdict and error
/// position. So it never accepts what jansson rejects, and numbers come out bit for bit as jansson's
/// (`strtod`, then Float(double)): a fast exact path for ≤ 19 digits and |10^e| ≤ 10^22 (Clinger
/// 1990), `strtod` itself otherwise.
struct DenseLineScanner {
    let fields: FieldNames

    func scan(_ line: UnsafeRawBufferPointer, number: Int) -> PairRecord? {
        var cursor = Cursor(bytes: line)
        var record = PairRecord(line: number, id: nil, category: "default", weight: 1, margin: 0, split: nil)
        var seenKeys: [ArraySlice<UInt8>] = []
        var hasChosen = false, hasRejected = false
        cursor.skipSpace()
        guard cursor.take(UInt8(ascii: "{")) else { return nil }
        cursor.skipSpace()
        if cursor.peek == UInt8(ascii: "}") { return nil }
        while true {
            guard let key = cursor.plainString(), !seenKeys.contains(key) else { return nil }
            seenKeys.append(key)
            cursor.skipSpace()
            guard cursor.take(UInt8(ascii: ":")) else { return nil }
            cursor.skipSpace()
            let name = String(decoding: key, as: UTF8.self)
            if name == fields.chosenFeatures || name == fields.rejectedFeatures {
                guard let values = cursor.floatArray() else { return nil }
                if name == fields.chosenFeatures { record.chosenFeatures = values; hasChosen = true } else {
                    record.rejectedFeatures = values; hasRejected = true
                }
            } else if cursor.peek == UInt8(ascii: "\"") {
                guard let bytes = cursor.plainString(), let text = String(validating: bytes, as: UTF8.self) else { return nil }
                switch name {
                case fields.id: record.id = text
                case fields.category: record.category = text
                case fields.split: record.split = text
                case fields.weight, fields.margin: return nil  // a type error: let the decoder say so
                default: break
                }
            } else {
                guard let (value, isInteger) = cursor.number() else { return nil }
                switch name {
                case fields.id:
                    guard isInteger, value.magnitude < 0x1p53 else { return nil }
                    record.id = String(Int64(value))
                case fields.weight:
                    guard value.isFinite, value >= 0 else { return nil }
                    record.weight = value
                case fields.margin: record.margin = value
                case fields.category: return nil
                default: break
                }
            }
            cursor.skipSpace()
            if cursor.take(UInt8(ascii: ",")) { cursor.skipSpace(); continue }
            guard cursor.take(UInt8(ascii: "}")) else { return nil }
            break
        }
        cursor.skipSpace()
        guard cursor.atEnd, hasChosen, hasRejected, record.chosenFeatures.count == record.rejectedFeatures.count else { return nil }
        return record
    }
}

/// A position in one line's bytes.
private struct Cursor {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    var atEnd: Bool { index >= bytes.count }
    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func take(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    /// JSON whitespace: space, tab, newline, carriage return.
    mutating func skipSpace() {
        while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    /// A string with no escapes and no control characters (anything else: nil, for the full path).
    mutating func plainString() -> ArraySlice<UInt8>? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while let byte = peek, byte != UInt8(ascii: "\"") {
            if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
            index += 1
        }
        guard !atEnd else { return nil }
        let text = ArraySlice(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        index += 1
        return text
    }

    /// `[n, n, ...]` of finite Float32 values; nil for anything else (including `[]`).
    mutating func floatArray() -> [Float]? {
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
    mutating func number() -> (Double, isInteger: Bool)? {
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
            let magnitude = exponent < 0 ? Double(mantissa) / Cursor.powersOfTen[-exponent] : Double(mantissa) * Cursor.powersOfTen[exponent]
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

    private static let powersOfTen: [Double] = (0...22).map { exponent in (0..<exponent).reduce(1.0) { value, _ in value * 10 } }
}
