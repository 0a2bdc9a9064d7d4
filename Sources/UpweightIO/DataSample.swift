import UpweightSupport

/// What the first mebibyte of a data file says about how much memory reading it takes: dense
/// lines (mostly numbers) are held as Float32, about 8 bytes per number at the peak while the
/// threads' parts are joined; text is held as text plus its hashed features, ~3.6× its bytes.
package struct DataSample {
    /// The share of the sample that is numbers and their separators, and the bytes per number.
    package var numericShare: Double
    package var bytesPerNumber: Double

    package var isDense: Bool { numericShare > 0.9 }

    /// Peak bytes of reading a file of `size` bytes shaped like this sample.
    package func readingBytes(size: Int) -> Double {
        isDense ? Double(size) / bytesPerNumber * 8 : 3.6 * Double(size)
    }

    /// The first 1 MiB of a plain file; nil for a gzip file (its bytes are not the data's), an
    /// unreadable one, or anything but a regular file (a sample read from a pipe would take those
    /// bytes from the reader).
    package init?(path: String, limit: Int = 1 << 20) {
        var status = stat()
        guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: limit)
        let count = fread(&bytes, 1, limit, file)
        guard count > 0, !(count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B) else { return nil }
        self.init(bytes.prefix(count))
    }

    package init(_ bytes: ArraySlice<UInt8>) {
        var numeric = 0
        var numbers = 0
        var previous = UInt8(ascii: " ")
        for byte in bytes {
            let isDigit = byte >= 0x30 && byte <= 0x39
            let partOfNumber = isDigit || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "e")
                || byte == UInt8(ascii: "E") || byte == UInt8(ascii: "+")
            if partOfNumber || byte == UInt8(ascii: ",") || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]") {
                numeric += 1
            }
            // A number starts where a digit or minus sign follows a separator.
            if isDigit || byte == UInt8(ascii: "-"), previous == UInt8(ascii: ",") || previous == UInt8(ascii: "[") || previous == UInt8(ascii: " ") || previous == UInt8(ascii: ":") {
                numbers += 1
            }
            previous = byte
        }
        numericShare = Double(numeric) / Double(max(bytes.count, 1))
        bytesPerNumber = Double(bytes.count) / Double(max(numbers, 1))
    }
}
