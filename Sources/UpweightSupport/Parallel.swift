import Dispatch
import Synchronization

/// The number of threads to use when the user does not say: every core the process may run on.
public func defaultThreadCount() -> Int {
    #if canImport(Glibc)
    return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    #else
    return 1
    #endif
}

#if canImport(Glibc)
import Glibc
#endif

/// Splits `0..<count` into `parts` contiguous ranges of near-equal size. The split depends only on
/// `count` and `parts`, so results reduced in range order are the same on every run.
package func contiguousRanges(count: Int, parts: Int) -> [Range<Int>] {
    let parts = max(1, min(parts, count))
    return (0..<parts).map { part in (count * part / parts)..<(count * (part + 1) / parts) }
}

/// Runs `body` once per part on up to `threads` threads and returns the results in part order.
package func parallelMap<Result>(parts: Int, threads: Int, _ body: (Int) -> Result) -> [Result] {
    if parts <= 1 || threads <= 1 { return (0..<parts).map(body) }
    let slots = UnsafeMutableBufferPointer<Result?>.allocate(capacity: parts)
    slots.initialize(repeating: nil)
    defer { slots.deinitialize(); slots.deallocate() }
    let shared = UncheckedSendable(slots)
    withoutActuallyEscaping(body) { body in
        let work = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            shared.value[part] = work.value(part)
        }
    }
    return slots.map { $0! }
}

/// Wraps a value that is shared across threads in a way the compiler cannot check: each thread
/// writes only its own slot, and the caller reads after `concurrentPerform` returns.
package struct UncheckedSendable<Value>: @unchecked Sendable {
    package let value: Value
    package init(_ value: Value) { self.value = value }
}

/// A count shared by worker threads (how many parallel jobs have finished, for progress).
package final class Counter: Sendable {
    private let value = Mutex(0)
    package init() {}
    package func increment() -> Int { value.withLock { $0 += 1; return $0 } }
}
