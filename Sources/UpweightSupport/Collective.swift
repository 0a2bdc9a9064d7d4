/// The processes that train one model together, and what they exchange: sums, gathered bytes, a
/// broadcast, a barrier. The trainer knows only this protocol; `SingleProcess` is the one process of
/// a plain run, `MPICollective` (built with `--traits MPI`) the ranks of `mpirun -n K`. Every rank
/// makes the same calls in the same order, as MPI requires; calls come from one thread (FUNNELED).
public protocol Collective: AnyObject {
    /// This process's number, 0..<size; rank 0 prints and writes.
    var rank: Int { get }
    var size: Int { get }
    /// Replaces `values` by their element-wise sum over the ranks (same count on every rank). For
    /// Doubles the order of the additions is MPI's, so the bits may depend on the rank count.
    func allreduceSum(_ values: inout [Double])
    /// As above, exactly: integer sums do not depend on the order.
    func allreduceSum(_ values: inout [Int64])
    /// Every rank's `bytes`, in rank order (the counts may differ).
    func allgather(_ bytes: [UInt8]) -> [[UInt8]]
    /// Rank `root`'s `bytes`, on every rank.
    func broadcast(_ bytes: [UInt8], from root: Int) -> [UInt8]
    /// Replaces `values` by rank `root`'s (same count on every rank).
    func broadcast(_ values: inout [Double], from root: Int)
    func barrier()
    /// Point to point, for a reduction in a fixed order (`orderedSum`).
    func send(_ values: [Double], to rank: Int)
    func receive(count: Int, from rank: Int) -> [Double]
}

extension Collective {
    public var isRoot: Bool { rank == 0 }

    /// Every rank's string, in rank order.
    public func allgather(_ string: String) -> [String] {
        allgather(Array(string.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Rank `root`'s string, on every rank.
    public func broadcast(_ string: String, from root: Int = 0) -> String {
        String(decoding: broadcast(Array(string.utf8), from: root), as: UTF8.self)
    }

    /// Every rank's `values` joined in rank order, on every rank, bit for bit (the counts may differ):
    /// each value travels as the 4 bytes of its bit pattern, little-endian.
    public func allgather(_ values: [Float]) -> [Float] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4 * values.count)
        for value in values {
            for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value.bitPattern >> shift)) }
        }
        return allgather(bytes).flatMap { part in
            stride(from: 0, to: part.count, by: 4).map { start in
                Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(part[start + $1]) << (8 * $1) })
            }
        }
    }

    /// This rank's contiguous share of `count` items (0..<count cut into `size` near-equal ranges).
    public func share(of count: Int) -> Range<Int> {
        (count * rank / size)..<(count * (rank + 1) / size)
    }

    /// Stops the job unless every rank's value of each of `checks` is rank 0's: a usage error naming
    /// the first rank that differs and what (every rank throws it, as all see every value).
    public func requireSame(_ checks: [(what: String, value: String)]) throws {
        for (what, mine) in checks {
            let all = allgather(mine)
            if let differing = all.firstIndex(where: { $0 != all[0] }) {
                throw UsageError("MPI rank \(differing) has other \(what) than rank 0 (every rank must see the same files and flags)")
            }
        }
    }

    /// The sum of every rank's `parts` (vectors of one length), added one at a time in rank order
    /// and, within a rank, in the order given: the additions a single process would make over all
    /// the parts in that order, so the bits do not depend on the rank count. Rank r adds its parts
    /// to rank r−1's running total and passes it on; the last rank's total is then broadcast.
    /// Its cost is size − 1 messages in sequence plus a broadcast, each of one vector.
    public func orderedSum(_ parts: [[Double]], count: Int, add: (inout [Double], [Double]) -> Void) -> [Double] {
        var total = rank == 0 ? [Double](repeating: 0, count: count) : receive(count: count, from: rank - 1)
        for part in parts { add(&total, part) }
        guard size > 1 else { return total }
        if rank < size - 1 { send(total, to: rank + 1) }
        broadcast(&total, from: size - 1)
        return total
    }
}

extension Collective {
    /// `body` applied to one state by every rank in turn, rank 0 first, each continuing from the
    /// state the rank before left (a pass over rows that several ranks hold, made in the order one
    /// process would make it); the last rank's state is then every rank's. The passes run one after
    /// another. A rank whose `body` throws passes the state on marked failed and throws its error;
    /// the others throw `PeerFailed` (for `agree` to settle).
    public func orderedFold(_ initial: [Double], _ body: (inout [Double]) throws -> Void) throws -> [Double] {
        let count = initial.count + 1
        var state = rank == 0 ? initial + [0] : receive(count: count, from: rank - 1)
        var failure: Error?
        if state[count - 1] == 0 {
            var inner = Array(state[..<(count - 1)])
            do {
                try body(&inner)
                precondition(inner.count == count - 1, "a fold keeps its state's length")
                state = inner + [0]
            } catch {
                failure = error
                state[count - 1] = 1
            }
        }
        if size > 1 {
            if rank < size - 1 { send(state, to: rank + 1) }
            broadcast(&state, from: size - 1)
        }
        if let failure { throw failure }
        if state[count - 1] != 0 { throw PeerFailed() }
        return Array(state[..<(count - 1)])
    }
}

/// The one process of a run not started by an MPI launcher: every collective is the identity.
public final class SingleProcess: Collective {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceSum(_ values: inout [Double]) {}
    public func allreduceSum(_ values: inout [Int64]) {}
    public func allgather(_ bytes: [UInt8]) -> [[UInt8]] { [bytes] }
    public func broadcast(_ bytes: [UInt8], from root: Int) -> [UInt8] { bytes }
    public func broadcast(_ values: inout [Double], from root: Int) {}
    public func barrier() {}
    public func send(_ values: [Double], to rank: Int) { preconditionFailure("a single process has no rank \(rank) to send to") }
    public func receive(count: Int, from rank: Int) -> [Double] { preconditionFailure("a single process has no rank \(rank) to receive from") }
}
