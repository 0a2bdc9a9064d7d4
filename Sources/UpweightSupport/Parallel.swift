import Dispatch
import Synchronization

/// The number of threads to use when the user does not say: every core the process may run on.
public func defaultThreadCount() -> Int {
    max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}

/// Splits `0..<count` into `parts` contiguous ranges of near-equal size. The split depends only on
/// `count` and `parts`, so results reduced in range order are the same on every run.
@usableFromInline package func contiguousRanges(count: Int, parts: Int) -> [Range<Int>] {
    let parts = max(1, min(parts, count))
    return (0..<parts).map { part in (count * part / parts)..<(count * (part + 1) / parts) }
}

/// Runs `body` once per part on up to `threads` threads and returns the results in part order.
@usableFromInline package func parallelMap<Result>(parts: Int, threads: Int, _ body: (Int) -> Result) -> [Result] {
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
@usableFromInline package struct UncheckedSendable<Value>: @unchecked Sendable {
    @usableFromInline package let value: Value
    @usableFromInline package init(_ value: Value) { self.value = value }
}

/// A count shared by worker threads (how many parallel jobs have finished, for progress). An
/// atomic rather than a `Mutex`: the Mutex's lock runs inside the toolchain's Synchronization
/// library, which ThreadSanitizer does not see, so it reported the count's updates as a race (CI).
package final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    package init() {}
    package func increment() -> Int { value.add(1, ordering: .relaxed).newValue }
}
