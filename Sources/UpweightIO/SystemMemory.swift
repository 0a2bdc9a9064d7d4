import UpweightSupport

/// How much memory this process may still use, and what says so.
public struct MemoryLimit: Sendable, Equatable {
    public var bytes: Int
    /// Names the limit in a message: "--max-memory", "the address-space limit (ulimit -v)", …
    public var source: String
    /// Whether raising `--max-memory` helps (it replaces MemAvailable, not the hard limits).
    public var isSoft: Bool
    /// Whether mapped files count against it (the address-space limit), not only resident memory.
    public var countsMappings = false
}

/// The limits the kernel enforces on this process besides MemAvailable: going past any of them ends
/// in an allocation failure (a trap in Swift) or the OOM killer, so the smallest one wins.
package enum SystemMemory {
    /// `maxMemory` (else MemAvailable), RLIMIT_AS and RLIMIT_DATA (minus what is already used),
    /// and the cgroup's memory limit (minus its current usage): every limit known.
    package static func limits(maxMemory: Int?) -> [MemoryLimit] {
        var limits: [MemoryLimit] = []
        if let maxMemory {
            limits.append(MemoryLimit(bytes: maxMemory, source: "--max-memory", isSoft: true))
        } else if let available = available() {
            limits.append(MemoryLimit(bytes: available, source: "the available memory", isSoft: true))
        }
        if let space = resourceLimit(Int32(RLIMIT_AS.rawValue), used: "VmSize:") {
            // Address space is spent beyond resident memory: glibc reserves 64 MiB for each thread's
            // arena, and each thread has an 8 MiB stack (measured: text training peaks at 485 MiB of
            // address space for 253 MiB resident).
            // The reserve is kept after reading too: freed buffers are not all returned to the kernel.
            let arenas = (72 << 20) * (sysconf(Int32(_SC_NPROCESSORS_ONLN)) + 1)
            limits.append(MemoryLimit(bytes: max(0, space - arenas), source: "the address-space limit (ulimit -v)", isSoft: false,
                                      countsMappings: true))
        }
        if let data = resourceLimit(Int32(RLIMIT_DATA.rawValue), used: "VmData:") {
            limits.append(MemoryLimit(bytes: data, source: "the data-segment limit (ulimit -d)", isSoft: false))
        }
        for (limitFile, usageFile) in [("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                       ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")] {
            // v1 writes "no limit" as a huge number (2^63 rounded to pages), v2 as "max": both fail Int(_:) or exceed 2^60.
            guard let limit = firstLine(limitFile).flatMap({ Int($0) }), limit < 1 << 60 else { continue }
            let used = firstLine(usageFile).flatMap { Int($0) } ?? 0
            limits.append(MemoryLimit(bytes: max(0, limit - used), source: "the cgroup memory limit (\(limitFile))", isSoft: false))
            break
        }
        return limits
    }

    /// The smallest limit; nil when none is known.
    package static func limit(maxMemory: Int?) -> MemoryLimit? {
        limits(maxMemory: maxMemory).min { $0.bytes < $1.bytes }
    }

    /// Bytes the kernel can still give this process (MemAvailable in /proc/meminfo).
    package static func available() -> Int? {
        kilobytes("/proc/meminfo", key: "MemAvailable:").flatMap { checkedProduct([$0, 1024]) }
    }

    /// The process's resident memory now (VmRSS): what `--max-memory` has already spent.
    package static func residentBytes() -> Int {
        kilobytes("/proc/self/status", key: "VmRSS:").flatMap { checkedProduct([$0, 1024]) } ?? 0
    }

    /// What is left under a resource limit, given the process's current use (a /proc/self/status key).
    private static func resourceLimit(_ resource: Int32, used key: String) -> Int? {
        var limit = rlimit()
        // RLIM_INFINITY (all ones) is above 2^60 too: no limit.
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur < UInt(1 << 60) else { return nil }
        let used = kilobytes("/proc/self/status", key: key).flatMap { checkedProduct([$0, 1024]) } ?? 0
        return max(0, Int(limit.rlim_cur) - used)
    }

    /// The number after `key` in a "Key:   1234 kB" file such as /proc/meminfo.
    private static func kilobytes(_ path: String, key: String) -> Int? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix(key) { return text.dropFirst(key.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) } }
        }
        return nil
    }

    private static func firstLine(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 64)
        guard fgets(&line, Int32(line.count), file) != nil else { return nil }
        return String(decoding: line.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
