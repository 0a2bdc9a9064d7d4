#if canImport(Glibc)
import Glibc
#endif

/// Refuses, before reading, data that would not fit: a run that would be killed by the kernel an
/// hour in is worse than a clear message now.
public enum MemoryBudget {
    /// Reading holds about 1.5 bytes per byte of JSONL (the text or Float32 columns, features, one
    /// chunk in flight) plus a fixed 128 MiB. Deliberately generous: dense files need less.
    public static func estimate(paths: [String]) -> Int {
        paths.reduce(128 << 20) { $0 + Int(1.5 * Double(uncompressedSize($1))) }
    }

    /// Bytes the kernel can still give this process (MemAvailable in /proc/meminfo).
    public static func available() -> Int? {
        guard let file = fopen("/proc/meminfo", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("MemAvailable:"), let kilobytes = Int(text.split(separator: " ")[1]) { return kilobytes * 1024 }
        }
        return nil
    }

    /// Throws when reading `paths` would need more than `limit` (default: the available memory).
    public static func check(paths: [String], limit: Int?) throws {
        guard let limit = limit ?? available() else { return }
        let needed = estimate(paths: paths)
        if needed > limit {
            let source = limit == available() ? "the available memory" : "--max-memory"
            throw UsageError("reading \(paths.joined(separator: ", ")) needs about \(gibibytes(needed)) of memory, more than \(source) (\(gibibytes(limit))); use less data or raise --max-memory")
        }
    }

    /// A plain file's size, or a gzip file's (recognised by its magic bytes, whatever its name)
    /// uncompressed size from its trailer (ISIZE, modulo 2^32, so never less than 4× the compressed
    /// size is assumed; the reader counts what it decompresses too).
    static func uncompressedSize(_ path: String) -> Int {
        var status = stat()
        guard stat(path, &status) == 0 else { return 0 }
        let size = Int(status.st_size)
        guard size >= 18, let file = fopen(path, "rb") else { return size }
        defer { fclose(file) }
        var magic = [UInt8](repeating: 0, count: 2)
        guard fread(&magic, 1, 2, file) == 2, magic == [0x1F, 0x8B] else { return size }
        var trailer = [UInt8](repeating: 0, count: 4)
        fseek(file, -4, SEEK_END)
        guard fread(&trailer, 1, 4, file) == 4 else { return size }
        let isize = trailer.enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        return max(isize, 4 * size)
    }

    static func gibibytes(_ bytes: Int) -> String { "\(fixed(Double(bytes) / Double(1 << 30), 2)) GiB" }

    /// Parses "512M", "8G", "1.5G", "1000000" (bytes).
    public static func parse(_ text: String) -> Int? {
        let units: [Character: Double] = ["K": 0x1p10, "M": 0x1p20, "G": 0x1p30, "T": 0x1p40]
        var digits = text.uppercased()
        var scale = 1.0
        if let last = digits.last, let unit = units[last] { scale = unit; digits.removeLast() }
        guard let value = Double(digits), value > 0 else { return nil }
        return Int(value * scale)
    }
}
