private import CZlib
import UpweightSupport

/// Where `LineChunks` gets its bytes: `read` fills the front of `into` and returns how many bytes
/// it wrote, 0 at the end. Errors name the file.
package protocol ByteSource: AnyObject {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// A file read with plain system calls. A regular file is read with `pread` up to the size it had
/// when opened, and must still have that size and modification time at the end: a file truncated
/// or rewritten underneath is an error (`changed while being read`), never a SIGBUS as a mapping
/// would give. A pipe or a terminal is read as it comes.
package final class FileBytes: ByteSource {
    package let path: String
    private let descriptor: Int32
    private let original: stat
    private let regular: Bool
    private var offset = 0
    /// Bytes read ahead by `peek` (a pipe cannot be read twice), handed out first.
    private var peeked: [UInt8] = []

    package init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw DataError(file: path, message: "cannot open: \(String(cString: strerror(errno)))", reason: "unreadable file")
        }
        var status = stat()
        fstat(descriptor, &status)
        original = status
        let kind = status.st_mode & S_IFMT
        regular = kind == S_IFREG
        if kind == S_IFDIR {
            close(descriptor)
            throw DataError(file: path, message: "is a directory, expected a JSONL file", reason: "unreadable file")
        }
        // /dev/zero, /dev/urandom and the like never end; a terminal (a typed-in pair) is allowed.
        if kind == S_IFCHR && isatty(descriptor) == 0 || kind == S_IFBLK {
            close(descriptor)
            throw DataError(file: path, message: "is a device, expected a JSONL file", reason: "unreadable file")
        }
    }

    deinit { close(descriptor) }

    /// The size of a regular file when it was opened (nil: a pipe or a terminal, read as it comes).
    package var regularSize: Int? { regular ? Int(original.st_size) : nil }

    /// Reads on from byte `position` of a regular file (a block of it, `LineChunks(path:block:)`).
    package func seek(to position: Int) {
        precondition(regular && peeked.isEmpty && (0...Int(original.st_size)).contains(position), "a position in a regular file")
        offset = position
    }

    /// The first `count` bytes (fewer in a shorter file), without consuming them. Before any `read`.
    package func peek(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        if regular {
            let got = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, count, 0) }
            return got > 0 ? Array(bytes[..<got]) : []
        }
        while peeked.count < count {
            let got = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress!, count - peeked.count) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { break }
            peeked += bytes[..<got]
        }
        return peeked
    }

    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if !peeked.isEmpty {
            let count = min(peeked.count, buffer.count)
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: peeked.withUnsafeBytes { $0 }[..<count]))
            peeked.removeFirst(count)
            return count
        }
        let wanted = regular ? min(buffer.count, Int(original.st_size) - offset) : buffer.count
        guard wanted > 0 else {
            try checkUnchanged()
            return 0
        }
        while true {
            let got = regular ? pread(descriptor, buffer.baseAddress!, wanted, off_t(offset)) : Glibc.read(descriptor, buffer.baseAddress!, wanted)
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else {
                throw DataError(file: path, message: "read error: \(String(cString: strerror(errno)))", reason: "unreadable file")
            }
            if got == 0 && regular { throw changed() }  // shorter than when it was opened
            offset += got
            return got
        }
    }

    /// Throws unless the file still has the size and modification time it was opened with.
    package func checkUnchanged() throws {
        guard regular else { return }
        var now = stat()
        guard fstat(descriptor, &now) == 0, now.st_size == original.st_size,
              now.st_mtim.tv_sec == original.st_mtim.tv_sec, now.st_mtim.tv_nsec == original.st_mtim.tv_nsec
        else { throw changed() }
    }

    private func changed() -> DataError { Self.changed(path) }

    package static func changed(_ path: String) -> DataError {
        DataError(file: path, message: "changed while being read (truncated, rewritten or appended to); read it again once it is complete",
                  reason: "file changed")
    }
}

/// Bytes held in memory, handed out in pieces of at most `piece` bytes (the fuzzer uses small ones
/// to exercise every chunk boundary).
package final class MemoryBytes: ByteSource {
    private let bytes: [UInt8]
    private let piece: Int
    private var consumed = 0

    package init(_ bytes: [UInt8], piece: Int) {
        self.bytes = bytes
        self.piece = max(piece, 1)
    }

    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, piece, bytes.count - consumed)
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[consumed..<consumed + count])) }
        consumed += count
        return count
    }
}

/// A gzip file (recognised by its magic bytes 1f 8b, whatever its name), inflated with zlib.
/// Concatenated members are read one after the other, as gzip(1) does; anything else after the
/// last member, a truncated stream or corrupt data is an error naming the file.
package final class GzipBytes: ByteSource {
    private let file: FileBytes
    private var stream = z_stream()
    private let input = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
    /// Compressed bytes consumed before the current input buffer, for the trailing-data message.
    private var consumedBefore = 0
    private var betweenMembers = false
    private var finished = false

    package static func isGzip(_ file: FileBytes) -> Bool { file.peek(2) == [0x1F, 0x8B] }

    package init(_ file: FileBytes) throws {
        self.file = file
        // 15 + 16: a 32 KiB window, gzip framing only.
        guard inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            input.deallocate()
            throw DataError(file: file.path, message: "cannot start decompressing: out of memory", reason: "unreadable file")
        }
    }

    deinit {
        inflateEnd(&stream)
        input.deallocate()
    }

    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while !finished {
            if betweenMembers {
                // Another member must start here (1f 8b), or the file must end.
                guard try fillInput(atLeast: 2) > 0 else { finished = true; break }
                let next = UnsafeRawBufferPointer(start: stream.next_in, count: Int(stream.avail_in))
                guard next.count >= 2, next[0] == 0x1F, next[1] == 0x8B else {
                    let position = consumedBefore + (UnsafeRawPointer(stream.next_in) - UnsafeRawPointer(input.baseAddress!))
                    throw error("unexpected data after the end of the gzip stream (at byte \(position)); the file is damaged or is not one gzip file")
                }
                betweenMembers = false
            }
            if try stream.avail_in == 0 && fillInput(atLeast: 1) == 0 {
                throw error("truncated gzip file (unexpected end of file)")
            }
            stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = UInt32(clamping: buffer.count)
            let code = inflate(&stream, Z_NO_FLUSH)
            let produced = buffer.count - Int(stream.avail_out)
            switch code {
            case Z_STREAM_END:
                inflateReset(&stream)
                betweenMembers = true
            case Z_OK, Z_BUF_ERROR:
                break
            case Z_MEM_ERROR:
                throw error("out of memory while decompressing")
            default:
                throw error("corrupt gzip data: \(stream.msg.map { String(cString: $0) } ?? "invalid data")")
            }
            if produced > 0 { return produced }
        }
        return 0
    }

    /// Reads compressed bytes until at least `count` are waiting (fewer at the end of the file);
    /// returns how many are waiting.
    private func fillInput(atLeast count: Int) throws -> Int {
        while Int(stream.avail_in) < count {
            let waiting = Int(stream.avail_in)
            if waiting > 0 { input.baseAddress!.copyMemory(from: stream.next_in, byteCount: waiting) }
            consumedBefore += stream.next_in.map { UnsafeRawPointer($0) - UnsafeRawPointer(input.baseAddress!) } ?? 0
            let got = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: input[waiting...]))
            stream.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_in = UInt32(waiting + got)
            if got == 0 { break }
        }
        return Int(stream.avail_in)
    }

    private func error(_ message: String) -> DataError { DataError(file: file.path, message: message, reason: "unreadable file") }
}
