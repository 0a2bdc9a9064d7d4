#if canImport(Glibc)
import Glibc
#endif
private import CZlib

/// Reads a file in chunks of whole lines. A plain file is mapped into memory and its chunks are
/// views of the mapping: no serial copy through a buffer, and the decoding threads fault its pages
/// in as they read their shares. A `.gz` file (or anything that cannot be mapped) goes through
/// zlib's `gzread` into a buffer. Chunks bound memory: a 1 GB file is never held whole, only
/// `chunkBytes` of it (a mapping's pages are let go once their chunk is done) plus the lines parsed
/// from it. Bytes already in memory go through the same chunking (the fuzzer reads that way).
public final class LineChunks {
    public let path: String
    private enum Source {
        case mapped(UnsafeRawBufferPointer, consumed: Int)
        case file(gzFile, buffer: UnsafeMutableRawBufferPointer)
        case memory([UInt8], consumed: Int)
    }
    private var source: Source
    private var pending: [UInt8] = []
    /// How many bytes at the front of `pending` the last chunk handed out.
    private var handedOut = 0
    private var finished = false
    private var atStart = true
    /// How much of the mapping's front has been let go of (whole pages).
    private var released = 0
    private let chunkBytes: Int

    /// One piece of the file: whole lines. It shares the reader's memory (the mapping, or a buffer
    /// reused in place for the next chunk): let go of it before asking for the next one.
    public struct Chunk {
        fileprivate enum Storage {
            case buffer(ArraySlice<UInt8>)
            case mapped(UnsafeRawBufferPointer)
        }
        fileprivate let storage: Storage

        public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
            switch storage {
            case .buffer(let bytes): return try bytes.withUnsafeBytes(body)
            case .mapped(let bytes): return try body(bytes)
            }
        }
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
        if let mapping = Self.map(path) {
            source = .mapped(mapping, consumed: Self.byteOrderMarkLength(mapping))
            return
        }
        guard let handle = gzopen(path, "rb") else {
            throw DataError(file: path, message: "cannot open: \(String(cString: strerror(errno)))",
                            reason: "unreadable file")
        }
        gzbuffer(handle, 1 << 20)
        source = .file(handle, buffer: .allocate(byteCount: max(min(chunkBytes, 8 << 20), 1 << 16), alignment: 64))
    }

    /// A read-only mapping of a non-empty regular file that is not gzip (magic 1f 8b); nil otherwise.
    private static func map(_ path: String) -> UnsafeRawBufferPointer? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        var magic: (UInt8, UInt8) = (0, 0)
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, status.st_size > 0,
              pread(descriptor, &magic, 2, 0) >= 1, !(magic.0 == 0x1F && magic.1 == 0x8B)
        else { return nil }
        guard let address = mmap(nil, Int(status.st_size), PROT_READ, MAP_PRIVATE, descriptor, 0),
              address != MAP_FAILED
        else { return nil }
        return UnsafeRawBufferPointer(start: address, count: Int(status.st_size))
    }

    /// Lines held in memory; `name` stands for the file in error messages.
    public init(bytes: [UInt8], name: String, chunkBytes: Int = 32 << 20) {
        path = name
        self.chunkBytes = chunkBytes
        source = .memory(bytes, consumed: 0)
    }

    deinit {
        switch source {
        case .file(let file, let buffer):
            gzclose(file)
            buffer.deallocate()
        case .mapped(let mapping, _):
            munmap(UnsafeMutableRawPointer(mutating: mapping.baseAddress!), mapping.count)
        case .memory: break
        }
    }

    /// The next chunk of whole lines, or nil at the end of the file. A final line without a newline
    /// is returned as a line of its own.
    public func next() throws -> Chunk? {
        if case .mapped(let mapping, let consumed) = source { return nextMapped(mapping, consumed) }
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
        return Chunk(storage: .buffer(pending[..<end]))
    }

    /// The mapping's next `chunkBytes` or so, cut after a newline (or at the next one, for a line
    /// longer than a chunk). The pages of the chunks before are dropped from this process (the page
    /// cache keeps them), so that resident memory holds about one chunk of the file, not all of it.
    private func nextMapped(_ mapping: UnsafeRawBufferPointer, _ consumed: Int) -> Chunk? {
        let base = mapping.baseAddress!
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let done = consumed / page * page  // whole pages only: the next chunk may start mid-page
        if done > released {
            madvise(UnsafeMutableRawPointer(mutating: base + released), done - released, MADV_DONTNEED)
            released = done
        }
        guard consumed < mapping.count else { return nil }
        var end = min(mapping.count, consumed + max(chunkBytes, 1))
        if end < mapping.count {
            var lastNewline = end - 1
            while lastNewline >= consumed && mapping[lastNewline] != 10 { lastNewline -= 1 }
            if lastNewline >= consumed {
                end = lastNewline + 1
            } else {
                end = memchr(base + end, 10, mapping.count - end).map { UnsafeRawPointer($0) - base + 1 } ?? mapping.count
            }
        }
        source = .mapped(mapping, consumed: end)
        return Chunk(storage: .mapped(UnsafeRawBufferPointer(rebasing: mapping[consumed..<end])))
    }

    /// 3 when `bytes` start with a UTF-8 byte order mark (accepted and dropped), else 0.
    private static func byteOrderMarkLength(_ bytes: UnsafeRawBufferPointer) -> Int {
        bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
    }

    private func fill() throws {
        switch source {
        case .file(let file, let buffer): try fill(from: file, through: buffer)
        case .mapped: preconditionFailure("a mapping is never filled")
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
        if atStart { pending.removeFirst(pending.withUnsafeBytes(Self.byteOrderMarkLength)) }
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
