import UpweightSupport

/// UTF-16 text read as UTF-8 fails on its first bytes with "invalid UTF-8" or a NUL: true to the
/// letter and no help. Recognising it lets the reader say what to do instead.
package enum UTF16Detection {
    /// True when a file that starts with `bytes` looks like UTF-16: a UTF-16 byte-order mark
    /// (FF FE or FE FF), or a NUL in every other byte of the first line (ASCII in UTF-16).
    package static func looksLikeUTF16(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if bytes.count >= 2, (bytes[0], bytes[1]) == (0xFF, 0xFE) || (bytes[0], bytes[1]) == (0xFE, 0xFF) { return true }
        let firstLine = bytes.prefix { $0 != 0x0A }.prefix(64)
        guard firstLine.count >= 2, firstLine.contains(where: { $0 != 0 }) else { return false }
        let start = firstLine.startIndex
        let evenBytesAreNUL = stride(from: start, to: firstLine.endIndex, by: 2).allSatisfy { bytes[$0] == 0 }
        let oddBytesAreNUL = stride(from: start + 1, to: firstLine.endIndex, by: 2).allSatisfy { bytes[$0] == 0 }
        return evenBytesAreNUL || oddBytesAreNUL
    }

    /// The error for such a file, at its first byte.
    package static func error(file: String) -> DataError {
        DataError(file: file, line: 1, column: 1, message: "looks like UTF-16; convert to UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)",
                  reason: "UTF-16")
    }
}
