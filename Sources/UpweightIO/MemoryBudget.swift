import UpweightSupport

/// Refuses, before reading, data that would not fit: a run that would be killed by the kernel an
/// hour in is worse than a clear message now.
public enum MemoryBudget {
    /// The peak memory of reading `paths`: 32 MiB for the program, plus per file its Float32 numbers
    /// (dense) or ~3.6× its text, by a sample of its first mebibyte (DataSample). Training adds its
    /// own share, checked separately (TrainingMemory). Measured with `/usr/bin/time -f %M upweight
    /// train FILE` (L-BFGS, 2 threads), the estimate below adding TrainingMemory's share:
    ///
    ///     file (gen_synthetic.py …)                           estimate   real peak   ratio
    ///     dense --dim 256 --n 50000 (194 MB)                  225 MiB     216 MiB    1.04
    ///     text --n 100000 (53 MB)                             263 MiB     253 MiB    1.04
    ///     40 lines of 2 × 200k numbers (134 MB)               191 MiB     139 MiB    1.37
    ///     4 lines of 2 × 2.5M numbers (150 MB)                642 MiB     625 MiB    1.03
    ///
    /// (The former 128 MiB + 1.5 × bytes was 1.9× too high for the first and far too low for the
    /// last, whose 2.5M-parameter L-BFGS state it did not count.) A gzip file is not sampled: its
    /// uncompressed size is taken as text.
    public static func estimate(paths: [String]) -> Int {
        let bytes = paths.reduce(32.0 * 0x1p20) { total, path in
            let size = uncompressedSize(path)
            return total + (DataSample(path: path)?.readingBytes(size: size) ?? 3.6 * Double(size))
        }
        return bytes < 0x1p62 ? Int(bytes) : 1 << 62
    }

    /// Throws when reading `paths` would need more than the memory budget: `limit` (--max-memory)
    /// or else MemAvailable, and never more than the hard limits (ulimit -v/-d, the cgroup's).
    public static func check(paths: [String], limit: Int?) throws {
        // Files are read with pread into a reused buffer (LineChunks), not mapped: nothing to add for
        // the address-space limit.
        try check(needed: estimate(paths: paths), for: "reading \(paths.joined(separator: ", "))", advice: "use less data", limit: limit)
    }

    /// Throws when `needed` bytes (for `purpose`; `mapped` more under the address-space limit)
    /// exceed any limit, naming the one exceeded most.
    package static func check(needed: Int, mapped: Int = 0, for purpose: String, advice: String, limit: Int?) throws {
        let exceeded = SystemMemory.limits(maxMemory: limit).map { ($0, needed + ($0.countsMappings ? mapped : 0)) }.filter { $0.1 > $0.0.bytes }
        guard let (budget, needed) = exceeded.min(by: { $0.0.bytes - $0.1 < $1.0.bytes - $1.1 }) else { return }
        let raise = budget.isSoft ? "raise --max-memory" : "raise that limit"
        throw UsageError("\(purpose) needs about \(gibibytes(needed)) of memory, more than \(budget.source) (\(gibibytes(budget.bytes))); \(advice) or \(raise)")
    }

    /// A plain file's size, or a gzip file's (recognised by its magic bytes, whatever its name)
    /// uncompressed size from its trailer (ISIZE, modulo 2^32, so never less than 4× the compressed
    /// size is assumed; the reader counts what it decompresses too).
    package static func uncompressedSize(_ path: String) -> Int {
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

    package static func gibibytes(_ bytes: Int) -> String { "\(fixed(Double(bytes) / Double(1 << 30), 2)) GiB" }

    /// Parses "512M", "8G", "1.5G", "1000000" (bytes); nil for anything else, including sizes that
    /// are not finite or do not fit in an Int ("inf", "1e300").
    public static func parse(_ text: String) -> Int? {
        let units: [Character: Double] = ["K": 0x1p10, "M": 0x1p20, "G": 0x1p30, "T": 0x1p40]
        var digits = text.uppercased()
        var scale = 1.0
        if let last = digits.last, let unit = units[last] { scale = unit; digits.removeLast() }
        guard let value = Double(digits), value > 0, value.isFinite else { return nil }
        // At least a byte: "0.1" is not a size.
        return Int(exactly: (value * scale).rounded(.down)).flatMap { $0 >= 1 ? $0 : nil }
    }
}
