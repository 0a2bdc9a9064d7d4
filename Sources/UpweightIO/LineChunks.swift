import UpweightSupport

/// Reads a file in chunks of whole lines, into one buffer reused from chunk to chunk: a plain file
/// with `pread`, a gzip file (recognised by its magic bytes, not its name) through zlib, a pipe as
/// it comes. Chunks bound memory: a 1 GB file is never held whole, only `chunkBytes` of it plus the
/// lines parsed from it; and `byteLimit` bounds what is read in all, decompressed, so that a gzip
/// bomb or an endless pipe ends in an error, not in the kernel's OOM killer. Bytes already in
/// memory go through the same chunking (the fuzzer reads that way).
public final class LineChunks {
    public let path: String
    private let source: any ByteSource
    private let isGzip: Bool
    /// Holds the chunk handed out last, then the partial line after it, then what was read next.
    private var buffer: UnsafeMutableRawBufferPointer
    /// The bytes not handed out yet are `buffer[start..<end]`.
    private var start = 0
    private var end = 0
    private var finished = false
    private var atStart = true
    private let chunkBytes: Int
    private let byteLimit: Int?
    private let limitName: String
    /// Bytes read so far (decompressed).
    public private(set) var bytesRead = 0
    /// The file's position of `buffer[0]`.
    private var base = 0
    /// A block read (`init(path:block:)`): only the lines that start before `blockEnd`, after
    /// skipping (`skipsPartialLine`) the end of the line that started before the block.
    private var blockEnd: Int?
    private var skipsPartialLine = false
    private var blockDone = false
    private var file: FileBytes?

    /// One piece of the file: whole lines. It shares the reader's buffer, reused for the next
    /// chunk: let go of it before asking for the next one.
    public struct Chunk {
        fileprivate let bytes: UnsafeRawBufferPointer

        public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
            try body(bytes)
        }

        /// The chunk's bytes, copied out of the buffer (for readers that need no speed).
        public var copiedBytes: [UInt8] { Array(bytes) }
    }

    /// Reading more than `byteLimit` bytes (decompressed) throws a `UsageError` that says the data
    /// is more than `limitName` allows.
    public init(path: String, chunkBytes: Int = 32 << 20, byteLimit: Int? = nil, limitName: String = "--max-memory") throws {
        let file = try FileBytes(path: path)
        isGzip = GzipBytes.isGzip(file)
        source = isGzip ? try GzipBytes(file) : file
        self.path = path
        self.chunkBytes = max(chunkBytes, 1)
        self.byteLimit = byteLimit
        self.limitName = limitName
        buffer = .allocate(byteCount: self.chunkBytes + (1 << 16), alignment: 64)
    }

    /// The lines of a regular, uncompressed file that start in `block` (byte offsets): a line
    /// belongs to the block it starts in, so the blocks of a file (`FileBlocks`) read its lines
    /// once each, in order. The last line may run past the block's end and is read to its end.
    public init(path: String, block: Range<Int>, chunkBytes: Int = 32 << 20) throws {
        let file = try FileBytes(path: path)
        // The blocks were planned from what the file was then (`FileBlocks.plan`).
        guard let size = file.regularSize, !GzipBytes.isGzip(file), block.lowerBound >= 0, block.upperBound <= size else {
            throw FileBytes.changed(path)
        }
        self.file = file
        source = file
        isGzip = false
        self.path = path
        self.chunkBytes = max(chunkBytes, 1)
        byteLimit = nil
        limitName = ""
        blockEnd = block.upperBound
        // From the byte before the block: if it is a newline, a line starts at the block's first byte.
        base = max(0, block.lowerBound - 1)
        file.seek(to: base)
        skipsPartialLine = block.lowerBound > 0
        atStart = block.lowerBound == 0
        blockDone = block.isEmpty
        buffer = .allocate(byteCount: min(self.chunkBytes, block.count) + (1 << 16), alignment: 64)
    }

    /// Lines held in memory; `name` stands for the file in error messages. Pieces of at most
    /// `chunkBytes` are taken at a time, so that small chunks exercise the chunk boundaries.
    public init(bytes: [UInt8], name: String, chunkBytes: Int = 32 << 20) {
        path = name
        self.chunkBytes = max(chunkBytes, 1)
        source = MemoryBytes(bytes, piece: self.chunkBytes)
        isGzip = false
        byteLimit = nil
        limitName = ""
        buffer = .allocate(byteCount: min(self.chunkBytes, bytes.count) + (1 << 16), alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// Every line in turn, numbered from 1, without its newline (nor a CR before it), copied out of
    /// each chunk: for readers that need no speed (split files, target files).
    public func forEachLine(_ body: (_ line: ArraySlice<UInt8>, _ number: Int) throws -> Void) throws {
        var number = 0
        while let chunk = try next() {
            let bytes = chunk.copiedBytes
            var start = 0
            while start < bytes.count {
                let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                number += 1
                var end = newline
                if end > start && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                try body(bytes[start..<end], number)
                start = newline + 1
            }
        }
    }

    /// The next chunk of whole lines, or nil at the end of the file. A final line without a newline
    /// is returned as a line of its own.
    public func next() throws -> Chunk? {
        if start > 0 {  // the partial last line moves to the front
            if end > start { memmove(buffer.baseAddress!, buffer.baseAddress! + start, end - start) }
            end -= start
            base += start
            start = 0
        }
        if skipsPartialLine { try skipPartialLine() }
        if blockDone { return nil }
        while atStart && !finished && end < 3 { try fill() }
        if atStart { dropByteOrderMark() }
        while !finished && end < chunkBytes && !reachedBlockEnd { try fill() }
        var searched = 0
        while !finished {  // a line longer than a chunk: read on to its end
            if memchr(buffer.baseAddress! + searched, 10, end - searched) != nil { break }
            searched = end
            try fill()
        }
        guard start < end else { return nil }
        var cut = end
        if !finished, let newline = lastNewline(in: start..<end) { cut = newline + 1 }
        if let blockEnd {
            let last = try endOfLastLine(before: blockEnd)
            if last <= cut {
                cut = last
                blockDone = true
                try file?.checkUnchanged()
            }
        }
        defer { start = cut }
        return Chunk(bytes: UnsafeRawBufferPointer(rebasing: buffer[start..<cut]))
    }

    /// Whether a block read holds every byte up to the block's end.
    private var reachedBlockEnd: Bool { blockEnd.map { base + end >= $0 } ?? false }

    /// Drops the bytes up to the first newline (a block read that does not start at the file's
    /// start begins at the byte before the block); a block no line starts in is done.
    private func skipPartialLine() throws {
        skipsPartialLine = false
        while true {
            if let newline = memchr(buffer.baseAddress! + start, 10, end - start) {
                start = UnsafeRawPointer(newline) - UnsafeRawPointer(buffer.baseAddress!) + 1
                if base + start >= blockEnd! { blockDone = true }
                return
            }
            if finished { blockDone = true; return }
            (base, start, end) = (base + end, 0, 0)  // a long line: keep none of it
            try fill()
        }
    }

    /// The buffer index just past the newline that ends the last line starting before `blockEnd`
    /// (reading on to it), or the end of the file.
    private func endOfLastLine(before blockEnd: Int) throws -> Int {
        // Until the buffer reaches the block's end, every line in it starts in the block.
        guard base + end >= blockEnd || finished else { return Int.max }
        var searched = max(start, blockEnd - 1 - base)
        while true {
            if searched < end, let newline = memchr(buffer.baseAddress! + searched, 10, end - searched) {
                return UnsafeRawPointer(newline) - UnsafeRawPointer(buffer.baseAddress!) + 1
            }
            if finished { return end }
            searched = max(searched, end)
            try fill()
        }
    }

    /// Reads into the free end of the buffer, growing it when full; a block read reads no further
    /// than its block's end, then on in small steps to the end of its last line.
    private func fill() throws {
        if end == buffer.count { grow() }
        var room = buffer.count - end
        if let blockEnd { room = min(room, blockEnd - (base + end) > 0 ? blockEnd - (base + end) : 1 << 16) }
        let got = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end..<end + room]))
        if got == 0 { finished = true; return }
        end += got
        bytesRead += got
        if let byteLimit, bytesRead > byteLimit {
            let size = MemoryBudget.gibibytes(byteLimit)
            throw UsageError("\(path): more data than \(limitName) allows (over \(size)\(isGzip ? " decompressed" : "")); use less data or raise --max-memory")
        }
    }

    /// Doubles the buffer (a long line costs a few copies, not one per chunk), but never past what
    /// the limit still allows to be read.
    private func grow() {
        var size = buffer.count * 2
        if let byteLimit { size = min(size, end + (byteLimit - bytesRead) + 1) }
        let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        larger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: end)
        buffer.deallocate()
        buffer = larger
    }

    private func lastNewline(in range: Range<Int>) -> Int? {
        var index = range.upperBound - 1
        while index >= range.lowerBound {
            if buffer[index] == 10 { return index }
            index -= 1
        }
        return nil
    }

    /// A UTF-8 byte order mark at the start of the file is accepted and dropped.
    private func dropByteOrderMark() {
        atStart = false
        if end >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { start = 3 }
    }
}
