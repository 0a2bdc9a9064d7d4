import UpweightSupport

/// A piece of a read: a byte range of a file whose lines are the lines that start in it, or a whole
/// file (gzip, which cannot be entered in the middle; a pipe). Blocks are fixed by the files and the
/// block size alone, so what is computed block by block (the streamed units, `StreamedPairs`) is the
/// same whichever process reads which blocks: one process reads them all in order, MPI ranks each
/// read a contiguous run of them (`share`).
public struct FileBlock: Sendable, Equatable {
    /// The file's index in the paths read.
    public var file: Int
    /// nil: the whole file.
    public var bytes: Range<Int>?
    /// Bytes on disk, for sharing the blocks out evenly.
    public var size: Int
}

public enum FileBlocks {
    /// 16 MiB of JSONL: a few units of rows, and many blocks per rank on data worth sharing.
    public static let defaultBytes = 16 << 20

    /// The blocks of `paths` in reading order: each regular uncompressed file in blocks of
    /// `blockBytes` (an empty file as one empty block), any other file whole. Only regular files are
    /// opened here (a pipe cannot be opened twice); the reader reports what cannot be read.
    public static func plan(_ paths: [String], blockBytes: Int) throws -> [FileBlock] {
        precondition(blockBytes > 0, "a block holds bytes")
        var blocks: [FileBlock] = []
        for (index, path) in paths.enumerated() {
            var status = stat()
            guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
                blocks.append(FileBlock(file: index, bytes: nil, size: 0))
                continue
            }
            let file = try FileBytes(path: path)
            guard let size = file.regularSize, !GzipBytes.isGzip(file) else {
                blocks.append(FileBlock(file: index, bytes: nil, size: file.regularSize ?? 0))
                continue
            }
            for start in stride(from: 0, through: max(0, size - 1), by: blockBytes) {
                let end = min(size, start + blockBytes)
                blocks.append(FileBlock(file: index, bytes: start..<end, size: end - start))
            }
        }
        return blocks
    }

    /// The blocks rank `rank` of `ranks` reads: a contiguous run, each block going to the rank whose
    /// even share of all the bytes holds the block's middle byte (by position when no block has a size).
    public static func share(_ blocks: [FileBlock], rank: Int, ranks: Int) -> Range<Int> {
        precondition(ranks > 0 && (0..<ranks).contains(rank), "a rank among the ranks")
        let total = blocks.reduce(0.0) { $0 + Double($1.size) }
        var before = 0.0
        var owners: [Int] = []
        for (index, block) in blocks.enumerated() {
            let middle = total > 0 ? (before + Double(block.size) / 2) / total : (Double(index) + 0.5) / Double(blocks.count)
            owners.append(min(ranks - 1, Int(middle * Double(ranks))))
            before += Double(block.size)
        }
        let first = owners.firstIndex { $0 >= rank } ?? blocks.count
        let end = owners.firstIndex { $0 > rank } ?? blocks.count
        return first..<end
    }
}
