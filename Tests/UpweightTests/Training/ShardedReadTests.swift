import Foundation
import XCTest
@testable import Upweight
@testable import UpweightData

/// MPI ranks that each read their own blocks (`StreamedPairs.readShare`), run on threads standing in
/// for ranks (`ThreadRanks`): whatever the rank count, they hold one process's read (columns,
/// units, summary) and their passes over the rows give one process's bits (standardization,
/// fingerprint, the L-BFGS objective); a bad line is reported at its line in the file.
final class ShardedReadTests: XCTestCase {
    private func options(blockBytes: Int) -> ReadOptions {
        var options = ReadOptions()
        (options.cache, options.blockBytes, options.threads) = ("none", blockBytes, 2)
        return options
    }

    /// Per rank, what it holds and computes: to compare with one process's bits.
    private struct Observed: Equatable {
        var unitStarts: [Int]
        var categories: [String]
        var categoryIndices: [Int32]
        var lines: [Int32]
        var summary: ReadSummary
        var standardization: [UInt32]
        var fingerprint: String
        var objective: [UInt64]
    }

    private func observe(_ pairs: StreamedPairs, _ summary: ReadSummary, collective: any Collective) throws -> Observed {
        let standardization = pairs.hashing == nil ? try pairs.standardization(over: pairs.metadata.margins.indices.map { $0 % 5 != 0 }, threads: 2) : nil
        let weights = (0..<pairs.count).map { Double(1 + $0 % 3) }
        let objective = StreamedLinearObjective(pairs: pairs, weights: weights, standardization: standardization, loss: PairLoss(), l2: 0.01,
                                                threads: 2, collective: collective)
        var gradient: [Double] = []
        let theta = (0..<pairs.dimension).map { sin(Double($0)) / 8 }
        let value = try objective.evaluate(theta, gradient: &gradient)
        return Observed(unitStarts: pairs.unitStarts, categories: pairs.metadata.categoryNames, categoryIndices: pairs.metadata.categoryIndices,
                        lines: pairs.metadata.sources.map(\.line), summary: summary,
                        standardization: ((standardization?.mean ?? []) + (standardization?.standardDeviation ?? [])).map(\.bitPattern),
                        fingerprint: try pairs.fingerprint(of: Array(stride(from: 0, to: pairs.count, by: 2))),
                        objective: ([value.value] + gradient + value.lossByCategory).map(\.bitPattern))
    }

    private func assertRanksHoldOneProcessRead(_ jsonl: String, blockBytes: Int, hashing: Featurizer? = nil) throws {
        let directory = TestSupport.temporaryDirectory(self)
        let file = TestSupport.write(jsonl, "train.jsonl", in: directory)
        let options = options(blockBytes: blockBytes)
        let (single, summary) = try StreamedPairs.read(paths: [file], options: options, hashing: hashing, directory: directory)
        XCTAssertGreaterThan(single.unitCount, 6, "several units per rank")
        let reference = try observe(single, summary, collective: SingleProcess())
        for size in 1...4 {
            let observed = try ThreadRanks.run(size) { ranks in
                let (pairs, summary) = try StreamedPairs.readShare(paths: [file], options: options, hashing: hashing, directory: directory, collective: ranks)
                XCTAssertEqual(pairs.ownedUnits.count < pairs.unitCount, size > 1, "each rank holds its own rows only")
                return try self.observe(pairs, summary, collective: ranks)
            }
            for (rank, bits) in observed.enumerated() { XCTAssertEqual(bits, reference, "rank \(rank) of \(size)") }
        }
    }

    func test_dense_ranks_reading_their_own_blocks_hold_one_process_read_and_its_bits() throws {
        var specification = SyntheticSpecification()
        (specification.pairs, specification.dimension, specification.seed) = (3000, 24, 7)
        try assertRanksHoldOneProcessRead(specification.generate().jsonl, blockBytes: 60_000)
    }

    func test_text_ranks_reading_their_own_blocks_hold_one_process_read_and_its_bits() throws {
        var specification = SyntheticSpecification()
        (specification.pairs, specification.dimension, specification.seed) = (3000, nil, 8)
        try assertRanksHoldOneProcessRead(specification.generate().jsonl, blockBytes: 40_000, hashing: .hashed(hashBits: 12, includePrompt: true))
    }

    /// A bad line in the last rank's blocks: every rank stops with one process's message (its line
    /// number in the file); under --on-error skip, the summary counts and places it as one process does.
    func test_a_bad_line_read_by_a_later_rank_is_reported_at_its_line_in_the_file() throws {
        var specification = SyntheticSpecification()
        (specification.pairs, specification.dimension, specification.seed) = (2000, 8, 9)
        var lines = specification.generate().jsonl.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[1733] = #"{"chosen_features": [1, 2], "rejected_features": "#
        lines.insert("", at: 1200)  // a blank line before it, which counts as a line
        let directory = TestSupport.temporaryDirectory(self)
        let file = TestSupport.write(lines.joined(separator: "\n"), "train.jsonl", in: directory)
        var options = options(blockBytes: 10_000)
        XCTAssertThrowsError(try StreamedPairs.read(paths: [file], options: options, directory: directory)) { error in
            XCTAssertEqual("\(error)", "\(file):1735:49: invalid JSON: unexpected token near end of file")
        }
        for size in 2...3 {
            let outcomes = try ThreadRanks.run(size) { ranks in
                Result { try StreamedPairs.readShare(paths: [file], options: options, hashing: nil, directory: directory, collective: ranks) }
            }
            for (rank, outcome) in outcomes.enumerated() {
                XCTAssertThrowsError(try outcome.get(), "rank \(rank) of \(size)") { error in
                    XCTAssertEqual("\(error)", "\(file):1735:49: invalid JSON: unexpected token near end of file")
                }
            }
        }
        options.onError = .skip
        let (_, summary) = try StreamedPairs.read(paths: [file], options: options, directory: directory)
        XCTAssertEqual(summary.firstSkipped.map(\.line), [1735])
        let summaries = try ThreadRanks.run(3) { ranks in
            try StreamedPairs.readShare(paths: [file], options: options, hashing: nil, directory: directory, collective: ranks).1
        }
        for merged in summaries { XCTAssertEqual(merged, summary) }
    }
}
