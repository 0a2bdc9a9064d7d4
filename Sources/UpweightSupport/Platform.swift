// The one place that names the platform. Every module that imports UpweightSupport (every layer, and
// through the Upweight façade the command line) gets the C library from here: descriptors, files,
// signals, memory limits, math functions. No other file imports it or tests for it.
//
// Upweight builds and is tested on Linux with glibc only, and Package.swift declares no other platform.
// A Darwin port would add `#elseif canImport(Darwin) @_exported import Darwin` below, then handle what
// is Linux's today: `Mutex` and `Atomic` (Parallel.swift, Interruption.swift, SignalCleanup.swift,
// ProgressLine.swift; macOS 15 and later), `stat.st_mtim` (ByteSources.swift; Darwin's `st_mtimespec`),
// `RLIMIT_*.rawValue` and /proc (SystemMemory.swift), the `Glibc.`-qualified calls (ByteSources.swift,
// ReportContext.swift, Upweight.swift) and renameat2's RENAME_EXCHANGE (CSystem's shim; Darwin has
// `renamex_np(RENAME_SWAP)`).
#if canImport(Glibc)
@_exported import Glibc
#else
#error("Upweight builds on Linux (glibc) only: see Sources/UpweightSupport/Platform.swift")
#endif
