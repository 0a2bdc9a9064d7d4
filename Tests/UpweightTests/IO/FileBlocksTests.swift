import Foundation
import XCTest
@testable import UpweightIO
@testable import Upweight

/// Blocks of a file (`FileBlocks`, `LineChunks(path:block:)`): a line belongs to the block it
/// starts in, so the blocks read every line once, in order, whatever the block and chunk sizes;
/// and the streamed units end at the blocks' ends.
final class FileBlocksTests: XCTestCase {
    /// Bytes with the awkward cases: a byte order mark, CRLF, blank lines, a line longer than the
    /// blocks, a newline right at a block's edge, and no newline at the end.
    private func awkwardBytes(seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        var bytes: [UInt8] = [0xEF, 0xBB, 0xBF]
        for line in 0..<60 {
            let length = line == 17 ? 300 : Int(random.next() % 12)
            bytes += (0..<length).map { UInt8(ascii: "a") + UInt8($0 % 26) }
            if line % 7 == 3 { bytes.append(13) }
            if line < 59 { bytes.append(10) }
        }
        return bytes
    }

    /// The byte ranges the lines starting in `block` cover, found by walking the bytes one at a time.
    private func expectedBytes(of block: Range<Int>, in bytes: [UInt8]) -> Range<Int> {
        let starts = [0] + bytes.indices.filter { bytes[$0] == 10 && $0 + 1 < bytes.count }.map { $0 + 1 }
        let inside = starts.filter { block.contains($0) }
        guard let first = inside.first else { return block.lowerBound..<block.lowerBound }
        let next = starts.first { $0 >= block.upperBound } ?? bytes.count
        return first..<next
    }

    func test_blocks_read_each_line_once_in_order_whatever_the_block_and_chunk_sizes() throws {
        let directory = TestSupport.temporaryDirectory(self)
        for seed in 0..<4 as Range<UInt64> {
            let bytes = awkwardBytes(seed: seed)
            let path = "\(directory)/lines-\(seed).jsonl"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            for blockBytes in [1, 2, 3, 7, 64, 299, bytes.count, bytes.count + 5] {
                for chunkBytes in [1, 5, 1 << 20] {
                    let blocks = try FileBlocks.plan([path], blockBytes: blockBytes)
                    XCTAssertEqual(blocks.compactMap(\.bytes?.lowerBound), Array(stride(from: 0, to: bytes.count, by: blockBytes)))
                    var joined: [UInt8] = []
                    for block in blocks {
                        let range = try XCTUnwrap(block.bytes)
                        let chunks = try LineChunks(path: path, block: range, chunkBytes: chunkBytes)
                        var read: [UInt8] = []
                        while let chunk = try chunks.next() { read += chunk.copiedBytes }
                        var expected = Array(bytes[expectedBytes(of: range, in: bytes)])
                        if range.lowerBound == 0 { expected.removeFirst(3) }  // the byte order mark
                        XCTAssertEqual(read, expected, "seed \(seed), block \(range) of \(blockBytes), chunks of \(chunkBytes)")
                        joined += read
                    }
                    XCTAssertEqual(joined, Array(bytes.dropFirst(3)), "seed \(seed), blocks of \(blockBytes), chunks of \(chunkBytes)")
                }
            }
        }
    }

    /// A block is read in chunks as a file is: `chunkBytes` and the reader's 64 KiB of slack, plus
    /// the rest of a line, never the whole block at once.
    func test_a_large_block_is_read_in_chunks() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let line = String(repeating: "x", count: 99) + "\n"
        let path = TestSupport.write(String(repeating: line, count: 4000), "lines.jsonl", in: directory)
        let chunks = try LineChunks(path: path, block: 100_050..<400_000, chunkBytes: 1000)
        var sizes: [Int] = []
        while let chunk = try chunks.next() { sizes.append(chunk.copiedBytes.count) }
        XCTAssertEqual(sizes.reduce(0, +), 400_000 - 100_100, "the lines that start in the block")
        XCTAssertLessThanOrEqual(sizes.max() ?? 0, 1000 + (1 << 16) + 100)
        XCTAssertGreaterThan(sizes.count, 3)
    }

    func test_gzip_files_are_one_block_and_an_empty_file_one_empty_block() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let plain = TestSupport.write(String(repeating: "{}\n", count: 10), "plain.jsonl", in: directory)
        let empty = TestSupport.write("", "empty.jsonl", in: directory)
        let gzipped = "\(directory)/packed.jsonl.gz"
        try TestSupport.gzip(String(repeating: "{}\n", count: 10), self).write(to: URL(fileURLWithPath: gzipped))
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: gzipped)[.size] as? Int)
        let blocks = try FileBlocks.plan([plain, gzipped, empty], blockBytes: 12)
        XCTAssertEqual(blocks, [FileBlock(file: 0, bytes: 0..<12, size: 12), FileBlock(file: 0, bytes: 12..<24, size: 12),
                                FileBlock(file: 0, bytes: 24..<30, size: 6), FileBlock(file: 1, bytes: nil, size: size),
                                FileBlock(file: 2, bytes: 0..<0, size: 0)])
        // A file that is not there is the reader's to report, as any file it cannot read.
        XCTAssertEqual(try FileBlocks.plan(["\(directory)/missing.jsonl"], blockBytes: 12), [FileBlock(file: 0, bytes: nil, size: 0)])
    }

    func test_ranks_take_contiguous_runs_of_blocks_by_bytes() {
        let sizes = [10, 10, 10, 10, 40, 10, 10]  // 100 bytes: halves at 50
        let blocks = sizes.enumerated().map { FileBlock(file: 0, bytes: nil, size: $0.element) }
        XCTAssertEqual((0..<2).map { FileBlocks.share(blocks, rank: $0, ranks: 2) }, [0..<4, 4..<7])  // block 4's middle is byte 60
        XCTAssertEqual((0..<3).map { FileBlocks.share(blocks, rank: $0, ranks: 3) }, [0..<3, 3..<5, 5..<7])
        // More ranks than blocks: some read nothing, and the runs still cover every block once.
        let shares = (0..<10).map { FileBlocks.share(blocks, rank: $0, ranks: 10) }
        XCTAssertEqual(shares.flatMap { Array($0) }, Array(0..<7))
        XCTAssertEqual(shares.filter(\.isEmpty).count, 3)
        XCTAssertEqual(FileBlocks.share(blocks, rank: 0, ranks: 1), 0..<7)
    }

    /// Streamed dense units end where the blocks end: block ends counted in pairs by hand from the
    /// lines' byte offsets (each line one pair), then runs of `unitPairs` within each block.
    func test_streamed_units_end_at_block_ends() throws {
        let directory = TestSupport.temporaryDirectory(self)
        var specification = SyntheticSpecification()
        (specification.pairs, specification.dimension, specification.seed) = (3000, 64, 5)
        let text = specification.generate().jsonl
        let file = TestSupport.write(text, "train.jsonl", in: directory)
        var options = ReadOptions()
        (options.cache, options.blockBytes) = ("none", 700_000)
        let (pairs, _) = try StreamedPairs.read(paths: [file], options: options, directory: directory)
        let bytes = Array(text.utf8)
        let lineStarts = [0] + bytes.indices.filter { bytes[$0] == 10 && $0 + 1 < bytes.count }.map { $0 + 1 }
        let blockEnds = stride(from: 700_000, to: bytes.count, by: 700_000).map { end in lineStarts.filter { $0 < end }.count } + [3000]
        XCTAssertEqual(blockEnds.count, (bytes.count + 699_999) / 700_000)
        var expected = [0]
        for end in blockEnds {
            while expected.last! + pairs.unitPairs < end { expected.append(expected.last! + pairs.unitPairs) }
            expected.append(end)
        }
        XCTAssertGreaterThan(blockEnds.count, 2)
        XCTAssertEqual(pairs.unitStarts, expected)
        // Each unit's rows are its pairs' rows as read in memory.
        let inMemory = try TestSupport.read(paths: [file])
        guard case .dense(let dimension, let chosen, _) = inMemory.responses else { return XCTFail("dense data") }
        var rows: [Float] = []
        let unit = pairs.unit(of: blockEnds[0])
        XCTAssertEqual(pairs.pairs(ofUnit: unit).lowerBound, blockEnds[0], "a unit starts at the first block's end")
        try pairs.readRows(of: pairs.pairs(ofUnit: unit), into: &rows)
        XCTAssertEqual(Array(rows[0..<dimension]), Array(chosen[blockEnds[0] * dimension..<(blockEnds[0] + 1) * dimension]))
    }

    /// A named pipe is one block, opened once: planning the blocks does not open it (a pipe opened
    /// twice would lose what it held).
    func test_a_named_pipe_is_streamed_whole() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let pipe = "\(directory)/pipe.jsonl"
        XCTAssertEqual(mkfifo(pipe, 0o600), 0)
        var specification = SyntheticSpecification()
        (specification.pairs, specification.dimension, specification.seed) = (300, 4, 3)
        let text = specification.generate().jsonl
        let writer = Thread {
            guard let handle = FileHandle(forWritingAtPath: pipe) else { return }
            handle.write(Data(text.utf8))
            handle.closeFile()
        }
        writer.start()
        var options = ReadOptions()
        (options.cache, options.blockBytes) = ("none", 1000)
        let (pairs, _) = try StreamedPairs.read(paths: [pipe], options: options, directory: directory)
        XCTAssertEqual(pairs.count, 300)
        XCTAssertEqual(try FileBlocks.plan([pipe], blockBytes: 1000), [FileBlock(file: 0, bytes: nil, size: 0)])
    }
}
