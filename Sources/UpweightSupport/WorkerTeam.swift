import Synchronization

/// Threads kept for the life of the process, for work split into parts many times a second: the
/// matrix products, gathers and optimizer updates of a training step. Dispatch parks its workers
/// between calls, and waking one costs more than a part of a small product; these threads spin for
/// a while after each job (up to ~0.1 ms), so the next job starts at once, then sleep.
///
/// Parts are claimed one at a time by the caller and every worker, so a job needs no more threads
/// than are awake; each part is the same work whoever runs it, so results do not depend on who.
@usableFromInline package final class WorkerTeam: @unchecked Sendable {
    /// One worker per core beside the caller's.
    @usableFromInline package static let shared = WorkerTeam(workers: defaultThreadCount() - 1)

    private let workerCount: Int
    /// The job's generation (high 32 bits) and its next unclaimed part (low 32 bits): a worker claims
    /// a part by a compare-and-exchange that fails once the generation has moved on, so it can never
    /// run a part of a job that has ended.
    private let claims = Atomic<Int>(0)
    private let partCount = Atomic<Int>(0)
    private let unfinished = Atomic<Int>(0)
    private let inUse = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    /// The running job; written before its generation is published (release) and read only by a
    /// thread holding a claim of that generation (acquire), so the write happens before every read.
    private nonisolated(unsafe) var body: ((Int) -> Void)?
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>

    private init(workers: Int) {
        workerCount = max(0, workers)
        lock = .allocate(capacity: 1)
        wake = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        pthread_cond_init(wake, nil)
    }

    /// Runs `body(part)` for every part in 0..<parts and returns when all have ended: on this team
    /// when it is free and `threads` > 1, else on Dispatch (a team already at work: nested or
    /// concurrent callers), or in order on this thread when `threads` or `parts` is 1.
    @usableFromInline package func run(parts: Int, threads: Int, _ body: (Int) -> Void) {
        if parts <= 1 || threads <= 1 || workerCount == 0 {
            for part in 0..<parts { body(part) }
            return
        }
        guard inUse.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            _ = parallelMap(parts: parts, threads: threads, body)
            return
        }
        defer { inUse.store(false, ordering: .releasing) }
        startWorkersOnce()
        withoutActuallyEscaping(body) { body in
            self.body = body
            unfinished.store(parts, ordering: .relaxed)
            partCount.store(parts, ordering: .relaxed)
            let generation = (claims.load(ordering: .relaxed) >> 32) &+ 1
            claims.store(generation << 32, ordering: .releasing)
            pthread_mutex_lock(lock)
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(lock)
            runClaimedParts(of: generation)
            var spins = 0
            while unfinished.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins > 1 << 16 { sched_yield() }
            }
            self.body = nil
        }
    }

    /// Claims and runs parts of `generation` until none is left.
    private func runClaimedParts(of generation: Int) {
        while true {
            let current = claims.load(ordering: .acquiring)
            let next = current & 0xFFFF_FFFF
            guard current >> 32 == generation, next < partCount.load(ordering: .acquiring) else { return }
            guard claims.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing).exchanged else {
                continue
            }
            body!(next)
            unfinished.subtract(1, ordering: .releasing)
        }
    }

    private func startWorkersOnce() {
        guard started.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        for _ in 0..<workerCount {
            let context = Unmanaged.passRetained(self).toOpaque()
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { context in
                Unmanaged<WorkerTeam>.fromOpaque(context!).takeRetainedValue().work()
            }, context)
            if status == 0 { pthread_detach(thread) } else { Unmanaged<WorkerTeam>.fromOpaque(context).release() }
        }
    }

    /// A worker: waits for a new generation (spinning, then asleep), joins its job, and waits again.
    private func work() -> Never {
        var seen = 0
        while true {
            var spins = 0
            while claims.load(ordering: .acquiring) >> 32 == seen {
                spins += 1
                if spins < 1 << 17 { continue }
                pthread_mutex_lock(lock)
                while claims.load(ordering: .acquiring) >> 32 == seen { pthread_cond_wait(wake, lock) }
                pthread_mutex_unlock(lock)
            }
            seen = claims.load(ordering: .acquiring) >> 32
            runClaimedParts(of: seen)
        }
    }
}

extension WorkerTeam {
    /// Runs `body` over 0..<count cut into contiguous ranges, one per thread (`threads` of them) when
    /// `count` reaches `minimum`, else over all of it on this thread: the split every row and element
    /// loop of the kernels uses. The same count always splits the same way; which thread takes which
    /// range is not fixed (parts are claimed), so no result may depend on it.
    @inlinable package func forEachRange(of count: Int, from minimum: Int, threads: Int, _ body: (Range<Int>) -> Void) {
        let parts = count >= minimum ? max(1, min(threads, count)) : 1
        run(parts: parts, threads: parts) { part in body((count * part / parts)..<(count * (part + 1) / parts)) }
    }

    /// As `forEachRange`, keeping what `body` returns for each range, in the ranges' order.
    @inlinable package func mapRanges<Result>(of count: Int, from minimum: Int, threads: Int, _ body: (Range<Int>) -> Result) -> [Result] {
        let parts = count >= minimum ? max(1, min(threads, count)) : 1
        var results = [Result?](repeating: nil, count: parts)
        results.withUnsafeMutableBufferPointer { results in
            let slots = UncheckedSendable(results)
            run(parts: parts, threads: parts) { part in slots.value[part] = body((count * part / parts)..<(count * (part + 1) / parts)) }
        }
        return results.map { $0! }
    }
}
