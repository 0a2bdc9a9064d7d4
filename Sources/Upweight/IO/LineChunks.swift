#if canImport(Glibc)
import Glibc
#endif
private import CZlib

/// Reads a file in chunks of whole lines, decompressing `.gz` transparently (zlib's `gzread` passes
/// plain files through unchanged, so one code path serves both). Chunks bound memory: a 1 GB file is
/// never held whole, only `chunkBytes` of it plus the lines parsed from it. Bytes already in memory
/// go through the same chunking (the fuzzer reads that way, without files).
public final class LineChunks {
    public let path: String
    private enum Source {
        case file(gzFile, buffer: UnsafeMutableRawBufferPointer)
        case memory([UInt8], consumed: Int)
    }
    private var source: Source
    private var pending: [UInt8] = []
    /// How many bytes at the front of `pending` the last chunk handed out.
    private var handedOut = 0
    private var nextLine = 1
    private var finished = false
    private var atStart = true
    private let chunkBytes: Int

    /// One piece of the file: whole lines, and the number of the first. `bytes` shares the reader's
    /// buffer: let go of it before asking for the next chunk, and the buffer is reused in place
    /// (no new allocation to fault in, and no copy); a chunk kept longer is copied on write instead.
    public struct Chunk {
        public var bytes: ArraySlice<UInt8>
        public var firstLine: Int
    }

    public init(path: String, chunkBytes: Int = 32 << 20) throws {
        self.path = path
        self.chunkBytes = chunkBytes
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw DataError(file: path, message: "cannot open: \(String(cString: strerror(errno)))",
                            reason: "unreadable file")
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            throw DataError(file: path, message: "is a directory, expected a JSONL file", reason: "unreadable file")
        }
        guard let handle = gzopen(path, "rb") else {
            throw DataError(file: path, message: "cannot open: \(String(cString: strerror(errno)))",
                            reason: "unreadable file")
        }
        gzbuffer(handle, 1 << 20)
        source = .file(handle, buffer: .allocate(byteCount: max(min(chunkBytes, 8 << 20), 1 << 16), alignment: 64))
    }

    /// Lines held in memory; `name` stands for the file in error messages.
    public init(bytes: [UInt8], name: String, chunkBytes: Int = 32 << 20) {
        path = name
        self.chunkBytes = chunkBytes
        source = .memory(bytes, consumed: 0)
    }

    deinit {
        if case .file(let file, let buffer) = source {
            gzclose(file)
            buffer.deallocate()
        }
    }

    /// The next chunk of whole lines, or nil at the end of the file. A final line without a newline
    /// is returned as a line of its own.
    public func next() throws -> Chunk? {
        if handedOut > 0 {
            pending.removeSubrange(..<handedOut)  // in place: the partial last line moves to the front
            handedOut = 0
        }
        while !finished && pending.count < chunkBytes { try fill() }
        while !finished && pending.withUnsafeBytes({ $0.isEmpty || memchr($0.baseAddress!, 10, $0.count) == nil }) { try fill() }  // a line longer than a chunk
        if pending.isEmpty { return nil }
        var end = pending.count
        if !finished, let lastNewline = pending.lastIndex(of: UInt8(ascii: "\n")) { end = lastNewline + 1 }
        handedOut = end
        let chunk = Chunk(bytes: pending[..<end], firstLine: nextLine)
        nextLine += Self.newlines(in: chunk.bytes)
        return chunk
    }

    /// How many "\n" bytes `bytes` holds (memchr runs at memory speed; a byte loop does not).
    static func newlines(in bytes: ArraySlice<UInt8>) -> Int {
        bytes.withUnsafeBytes { buffer in
            guard var cursor = buffer.baseAddress else { return 0 }
            let end = cursor + buffer.count
            var count = 0
            while cursor < end, let found = memchr(cursor, 10, end - cursor) {
                count += 1
                cursor = UnsafeRawPointer(found) + 1
            }
            return count
        }
    }

    private func fill() throws {
        switch source {
        case .file(let file, let buffer): try fill(from: file, through: buffer)
        case .memory(let bytes, let consumed):
            // Pieces of at most `chunkBytes`, so that small chunks exercise the chunk boundaries.
            let end = min(bytes.count, consumed + max(chunkBytes, 1))
            pending.append(contentsOf: bytes[consumed..<end])
            source = .memory(bytes, consumed: end)
            if end == consumed { finished = true }
        }
        dropByteOrderMark()
    }

    private func fill(from file: gzFile, through buffer: UnsafeMutableRawBufferPointer) throws {
        // The chunk's whole size at once: growing by doubling would copy it again at each step.
        if pending.capacity < chunkBytes + buffer.count { pending.reserveCapacity(chunkBytes + buffer.count) }
        // zlib writes into a buffer of our own, appended in one copy (no zero fill of the array).
        let got = gzread(file, buffer.baseAddress!, UInt32(buffer.count))
        if got < 0 { throw readError(file) }
        pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[..<Int(got)]))
        if got == 0 {
            finished = true
            // gzread returns 0 on a gzip stream cut short; gzerror tells it apart from a clean end.
            var code: Int32 = 0
            _ = gzerror(file, &code)
            if code != Z_OK { throw readError(file) }
        }
    }

    private func dropByteOrderMark() {
        if atStart, pending.count >= 3, pending[0] == 0xEF, pending[1] == 0xBB, pending[2] == 0xBF {
            pending.removeFirst(3)  // a UTF-8 byte order mark is accepted and dropped
        }
        if pending.count >= 3 || finished { atStart = false }
    }

    private func readError(_ file: gzFile) -> DataError {
        var code: Int32 = 0
        var text = gzerror(file, &code).map { String(cString: $0) } ?? "read error"
        if text.hasPrefix("\(path): ") { text.removeFirst(path.count + 2) }  // zlib prefixes the path
        let detail: String
        switch code {
        case Z_BUF_ERROR: detail = "truncated gzip file (unexpected end of file)"
        case Z_DATA_ERROR: detail = "corrupt gzip data: \(text)"
        case Z_ERRNO: detail = "read error: \(String(cString: strerror(errno)))"
        default: detail = "read error: \(text)"
        }
        return DataError(file: path, message: detail, reason: "unreadable file")
    }
}
