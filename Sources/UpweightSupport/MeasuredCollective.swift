/// A collective that times the calls it passes on: how much of a run a rank spends exchanging (or
/// waiting for the others at an exchange, which a wall clock cannot tell apart), and how many bytes
/// it contributes. `Launch` wraps the MPI ranks in it; the CLI prints the total at the end.
public final class MeasuredCollective: Collective {
    public let base: any Collective
    /// Wall seconds inside the calls, the calls made, and the bytes this rank passed in.
    public private(set) var seconds = 0.0
    public private(set) var calls = 0
    public private(set) var bytes = 0

    /// Where training began (`startTraining`): the clock and the totals then.
    private var trainingStart: (time: ContinuousClock.Instant, seconds: Double, calls: Int)?

    public init(_ base: any Collective) { self.base = base }

    /// Marks the start of training, so that the summary also gives the exchanges' share from then
    /// on, apart from the reading (where ranks wait their turn to build a cache entry).
    public func startTraining() { trainingStart = (ContinuousClock.now, seconds, calls) }

    public var rank: Int { base.rank }
    public var size: Int { base.size }

    /// One line for the end of a run: what the exchanges cost this rank out of `runSeconds`.
    public func summary(runSeconds: Double) -> String {
        func share(_ part: Double, of whole: Double) -> String { whole > 0 ? " (\(fixed(100 * part / whole, 1))% of \(fixed(whole, 2)) s)" : "" }
        var text = "MPI rank \(rank) of \(size): \(plural(calls, "exchange", "exchanges")) took \(fixed(seconds, 3)) s\(share(seconds, of: runSeconds))"
        if let start = trainingStart {
            let part = seconds - start.seconds
            text += "; from the start of training \(plural(calls - start.calls, "exchange", "exchanges")) took \(fixed(part, 3)) s"
                + share(part, of: elapsedSeconds(since: start.time))
        }
        return text + "; waiting for the other ranks included; it sent \(fixed(Double(bytes) / 1e6, 2)) MB"
    }

    private func timed<T>(_ sentBytes: Int, _ body: () -> T) -> T {
        let start = ContinuousClock.now
        defer {
            seconds += elapsedSeconds(since: start)
            calls += 1
            bytes += sentBytes
        }
        return body()
    }

    public func allreduceSum(_ values: inout [Double]) { timed(8 * values.count) { base.allreduceSum(&values) } }
    public func allreduceSum(_ values: inout [Int64]) { timed(8 * values.count) { base.allreduceSum(&values) } }
    public func allgather(_ bytes: [UInt8]) -> [[UInt8]] { timed(bytes.count) { base.allgather(bytes) } }
    public func broadcast(_ bytes: [UInt8], from root: Int) -> [UInt8] {
        timed(rank == root ? bytes.count : 0) { base.broadcast(bytes, from: root) }
    }
    public func broadcast(_ values: inout [Double], from root: Int) {
        timed(rank == root ? 8 * values.count : 0) { base.broadcast(&values, from: root) }
    }
    public func barrier() { timed(0) { base.barrier() } }
    public func send(_ values: [Double], to rank: Int) { timed(8 * values.count) { base.send(values, to: rank) } }
    public func receive(count: Int, from rank: Int) -> [Double] { timed(0) { base.receive(count: count, from: rank) } }
}
