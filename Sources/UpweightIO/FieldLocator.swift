/// Finds where a top-level field's value starts in a JSONL line, so that an error about a value
/// ("expected a number, got a string") can point at its column. jansson gives positions only for
/// syntax errors, not for the values of a parsed tree.
package enum FieldLocator {
    /// The 1-based column, counted in code points as jansson counts them, at which the value of the
    /// top-level `key` starts; nil when the key is not found (for instance if it is written with escapes).
    package static func valueColumn(of key: String, in line: UnsafeRawBufferPointer) -> Int? {
        let keyBytes = Array(key.utf8)
        var depth = 0
        var index = 0
        var expectingKey = false
        let count = line.count
        while index < count {
            let byte = line[index]
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                expectingKey = depth == 1 && byte == UInt8(ascii: "{")
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                index += 1
            case UInt8(ascii: ","):
                expectingKey = depth == 1
                index += 1
            case UInt8(ascii: "\""):
                let start = index + 1
                var end = start
                while end < count && line[end] != UInt8(ascii: "\"") {
                    end += line[end] == UInt8(ascii: "\\") ? 2 : 1
                }
                if expectingKey && end - start == keyBytes.count
                    && keyBytes.indices.allSatisfy({ line[start + $0] == keyBytes[$0] })
                {
                    var valueStart = end + 1
                    while valueStart < count, isSpaceOrColon(line[valueStart]) { valueStart += 1 }
                    return codePoints(in: line, upTo: valueStart) + 1
                }
                expectingKey = false
                index = end + 1
            default:
                index += 1
            }
        }
        return nil
    }

    /// JSON's whitespace (a CR can sit inside a line) or the colon.
    private static func isSpaceOrColon(_ byte: UInt8) -> Bool {
        JSONCursor.isSpace(byte) || byte == UInt8(ascii: ":")
    }

    /// Counts code points in `line[0..<offset]`: every byte that does not continue a UTF-8 sequence.
    private static func codePoints(in line: UnsafeRawBufferPointer, upTo offset: Int) -> Int {
        var total = 0
        for position in 0..<min(offset, line.count) where line[position] & 0xC0 != 0x80 { total += 1 }
        return total
    }
}
