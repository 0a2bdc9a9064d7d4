import Foundation
import XCTest
@testable import Upweight

/// The collective's ordered sum and status agreement, run on threads standing in for MPI ranks
/// (`ThreadRanks`), so that the plain build tests them without MPI: the streamed L-BFGS objective
/// has the same bits on 1 to 4 ranks as in one process, and one rank's error reaches every rank.
final class CollectiveTests: XCTestCase {
    func test_objective_shared_by_ranks_has_the_single_process_bits() throws {
        let directory = TestSupport.temporaryDirectory(self)
        var specification = SyntheticSpecification()
        (specification.pairs, specification.dimension, specification.seed) = (7000, 64, 3)
        let file = TestSupport.write(specification.generate().jsonl, "train.jsonl", in: directory)
        var options = ReadOptions()
        options.cache = "none"
        let (pairs, _) = try StreamedPairs.read(paths: [file], options: options, directory: directory)
        XCTAssertGreaterThanOrEqual(pairs.unitCount, 4, "4 units or more, so that ranks hold different shares")
        let weights = (0..<pairs.count).map { Double(1 + $0 % 3) }
        let theta = (0..<pairs.dimension).map { sin(Double($0)) / 8 }
        func evaluate(_ collective: any Collective) throws -> [UInt64] {
            let objective = StreamedLinearObjective(pairs: pairs, weights: weights, standardization: nil, loss: PairLoss(), l2: 0.01,
                                                    threads: 2, collective: collective)
            var gradient: [Double] = []
            let value = try objective.evaluate(theta, gradient: &gradient)
            return ([value.value] + gradient + value.lossByCategory + value.weightByCategory).map(\.bitPattern)
        }
        let reference = try evaluate(SingleProcess())
        for size in 1...4 {
            for (rank, bits) in try ThreadRanks.run(size, evaluate).enumerated() {
                XCTAssertEqual(bits, reference, "rank \(rank) of \(size)")
            }
        }
    }

    /// Touched rows (hashed text's first layer) are summed as rows: their union in order of first
    /// appearance, values added in rank order, the same on every rank; a dense part is added too.
    func test_partial_sums_add_touched_rows_in_rank_order() throws {
        let parts = [PartialSums(dense: [1, 2], rows: [5, 1], rowValues: [1, 10, 2, 20], width: 2),
                     PartialSums(dense: [0.5, 0], rows: [], rowValues: [], width: 2),
                     PartialSums(dense: [0, 1], rows: [1, 7], rowValues: [0.25, 0.5, 3, 4], width: 2)]
        let expected = PartialSums(dense: [1.5, 3], rows: [5, 1, 7], rowValues: [1, 10, 2.25, 20.5, 3, 4], width: 2)
        XCTAssertEqual(try ThreadRanks.run(3) { $0.sum(parts[$0.rank]) }, [expected, expected, expected])
        XCTAssertEqual(try ThreadRanks.run(3) { $0.sum(PartialSums(dense: parts[$0.rank].dense)) }.map(\.dense), [[1.5, 3], [1.5, 3], [1.5, 3]])
    }

    func test_one_ranks_error_is_thrown_on_every_rank() throws {
        let error = DataError(file: "train.jsonl", line: 12, column: 3, message: "expected a number", field: "chosen", reason: "bad number")
        let outcomes = try ThreadRanks.run(3) { collective -> String in
            do {
                try collective.agree(collective.rank == 1 ? error : collective.rank == 2 ? PeerFailed() : nil)
                return "no error"
            } catch let thrown as DataError {
                return thrown == error ? "the data error" : "another data error: \(thrown)"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(outcomes, ["the data error", "the data error", "the data error"])
        XCTAssertEqual(try ThreadRanks.run(2) { collective in try collective.agreeing { collective.rank } }, [0, 1])
    }

    func test_a_measured_collective_passes_every_call_on_and_counts_what_this_rank_sent() throws {
        let outcomes = try ThreadRanks.run(2) { ranks -> (sum: [Double], gathered: [[UInt8]], root: [UInt8], calls: Int, bytes: Int, summary: String, trainingSeconds: String) in
            let measured = MeasuredCollective(ranks)
            var values = [1.0, 2.0, Double(ranks.rank)]
            measured.allreduceSum(&values)                                         // 24 bytes
            let gathered = measured.allgather([UInt8](repeating: 7, count: 3 + ranks.rank))  // 3 or 4
            let before = measured.seconds
            measured.startTraining()
            let root = measured.broadcast([1, 2, 3, 4, 5], from: 1)                // 5 bytes from rank 1 only
            measured.barrier()
            return (values, gathered, root, measured.calls, measured.bytes, measured.summary(runSeconds: 0), fixed(measured.seconds - before, 3))
        }
        for (rank, outcome) in outcomes.enumerated() {
            XCTAssertEqual(outcome.sum, [2, 4, 1], "rank \(rank)")
            XCTAssertEqual(outcome.gathered, [[7, 7, 7], [7, 7, 7, 7]])
            XCTAssertEqual(outcome.root, [1, 2, 3, 4, 5])
            XCTAssertEqual(outcome.calls, 4)
            XCTAssertEqual(outcome.bytes, [24 + 3, 24 + 4 + 5][rank])
            XCTAssertTrue(outcome.summary.hasPrefix("MPI rank \(rank) of 2: 4 exchanges took "), outcome.summary)
            XCTAssertTrue(outcome.summary.contains("; from the start of training 2 exchanges took \(outcome.trainingSeconds) s ("), outcome.summary)
            XCTAssertTrue(outcome.summary.hasSuffix("; waiting for the other ranks included; it sent 0.00 MB"), outcome.summary)
        }
    }

    /// `eval`'s and `score`'s pairs scored by 1 to 4 ranks, in memory (a share of the pairs each) and
    /// streamed (each rank reading its own of 8 blocks of 1 MiB), with a baseline: every rank holds one
    /// process's rewards, bit for bit. 3,000 pairs: ThreadSanitizer's pass reads them 10 times.
    func test_pairs_scored_by_ranks_have_the_single_process_rewards() throws {
        let directory = TestSupport.temporaryDirectory(self)
        var specification = SyntheticSpecification()
        (specification.pairs, specification.dimension, specification.seed) = (3000, 64, 3)
        let file = TestSupport.write(specification.generate().jsonl, "train.jsonl", in: directory)
        let trained = try TestSupport.run(["train", file, "--out", "\(directory)/model", "--standardize", "--cache", "none", "--quiet"])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        for maxMemory in [nil, 1 << 20] {
            func rewards(_ collective: (any Collective)?) throws -> [UInt32] {
                let scored = try ScoredPairs.load(model: "\(directory)/model", data: [file], options: { model in
                    var options = model.reading
                    (options.cache, options.maxMemory, options.blockBytes) = ("none", maxMemory, 1 << 20)
                    return options
                }, heldOutOf: nil, collective: collective, reporter: .silent)
                let baseline = try scored.rewards(ofModelIn: "\(directory)/model")
                return (scored.chosen + scored.rejected + baseline.chosen + baseline.rejected).map(\.bitPattern)
            }
            let reference = try rewards(nil)
            XCTAssertEqual(reference.count, 4 * 3000)
            for size in 1...4 {
                for (rank, bits) in try ThreadRanks.run(size, rewards).enumerated() {
                    XCTAssertTrue(bits == reference, "rank \(rank) of \(size), max memory \(maxMemory.map(String.init) ?? "none")")
                }
            }
        }
    }
}

/// `size` ranks as threads of this process, exchanging through shared slots: a stand-in for MPI
/// with the same calls and the same rule (every rank makes the same collective calls in order).
final class ThreadRanks: Collective, @unchecked Sendable {
    let rank: Int
    let size: Int
    private let board: Board

    /// Runs `body` on `size` threads, one rank each, and returns their results in rank order.
    static func run<T>(_ size: Int, _ body: @escaping (any Collective) throws -> T) throws -> [T] {
        let board = Board(size: size)
        let shared = Outcomes(body, size: size)
        let done = DispatchGroup()
        for rank in 0..<size {
            done.enter()
            Thread {
                let result = Result { try shared.body(ThreadRanks(rank: rank, size: size, board: board)) }
                shared.lock.withLock { shared.results[rank] = result }
                done.leave()
            }.start()
        }
        done.wait()
        return try shared.results.map { try $0!.get() }
    }

    /// What the threads share: `body`, and a slot per rank for its result (written under `lock`).
    private final class Outcomes<T>: @unchecked Sendable {
        let body: (any Collective) throws -> T
        let lock = NSLock()
        var results: [Result<T, Error>?]
        init(_ body: @escaping (any Collective) throws -> T, size: Int) { (self.body, results) = (body, Array(repeating: nil, count: size)) }
    }

    private init(rank: Int, size: Int, board: Board) {
        (self.rank, self.size, self.board) = (rank, size, board)
    }

    func allgather(_ bytes: [UInt8]) -> [[UInt8]] { board.allgather(bytes, rank: rank) }
    func allreduceSum(_ values: inout [Double]) {
        let all = allgather(values.map(\.bitPattern).flatMap(Self.bytes)).map { Self.doubles($0) }
        values = values.indices.map { index in all.reduce(0) { $0 + $1[index] } }
    }
    func allreduceSum(_ values: inout [Int64]) {
        var doubles = values.map(Double.init)
        allreduceSum(&doubles)
        values = doubles.map { Int64($0) }
    }
    func broadcast(_ bytes: [UInt8], from root: Int) -> [UInt8] { allgather(bytes)[root] }
    func broadcast(_ values: inout [Double], from root: Int) {
        values = Self.doubles(broadcast(values.map(\.bitPattern).flatMap(Self.bytes), from: root))
    }
    func barrier() { _ = allgather([]) }
    func send(_ values: [Double], to rank: Int) { board.send(values, from: self.rank, to: rank) }
    func receive(count: Int, from rank: Int) -> [Double] { board.receive(from: rank, to: self.rank) }


    private static func bytes(_ word: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
    private static func doubles(_ bytes: [UInt8]) -> [Double] {
        stride(from: 0, to: bytes.count, by: 8).map { start in
            Double(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[start + $1]) << (8 * $1) })
        }
    }

    /// The shared state: one allgather round at a time, and a mailbox per (sender, receiver).
    /// Values cross between ranks as fresh copies made under the lock, as through MPI's buffers: an
    /// array shared by two threads could be read by its sender while its receiver, once the only
    /// owner, changes it in place, ordered only by a reference count ThreadSanitizer cannot see (CI
    /// reported that race in `orderedSum`).
    private final class Board: @unchecked Sendable {
        let size: Int
        private let condition = NSCondition()
        private var round = 0
        private var posted: [[UInt8]?]
        private var finished: [[UInt8]] = []
        private var collected = 0
        private var mailboxes: [[Int]: [[Double]]] = [:]

        init(size: Int) {
            self.size = size
            posted = Array(repeating: nil, count: size)
        }

        func allgather(_ bytes: [UInt8], rank: Int) -> [[UInt8]] {
            condition.lock()
            defer { condition.unlock() }
            while posted[rank] != nil { condition.wait() }  // the previous round is still being collected
            let myRound = round
            posted[rank] = copy(bytes)
            if posted.allSatisfy({ $0 != nil }) {
                finished = posted.map { $0! }
                round += 1
                condition.broadcast()
            }
            while round == myRound { condition.wait() }
            let result = finished.map(copy)
            collected += 1
            if collected == size {
                collected = 0
                posted = Array(repeating: nil, count: size)
                condition.broadcast()
            }
            return result
        }

        func send(_ values: [Double], from: Int, to: Int) {
            condition.lock()
            mailboxes[[from, to], default: []].append(copy(values))
            condition.broadcast()
            condition.unlock()
        }

        /// A new buffer with `values`' elements (`Array(values)` would share the storage).
        private func copy<T>(_ values: [T]) -> [T] { values.withUnsafeBufferPointer { Array($0) } }

        func receive(from: Int, to: Int) -> [Double] {
            condition.lock()
            defer { condition.unlock() }
            while mailboxes[[from, to], default: []].isEmpty { condition.wait() }
            return mailboxes[[from, to]]!.removeFirst()
        }
    }
}
