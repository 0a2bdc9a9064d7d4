import UpweightSupport

/// An anonymous scratch file for rows that do not fit in memory (4-byte words: Float32 values, or
/// a CSR unit's offsets and indices beside its values): written once, in order,
/// then read back in pieces with `pread` into a buffer the caller reuses, so what stays resident
/// is the piece, not the file (the page cache is the kernel's to keep or drop).
///
/// The file is created in `directory` and unlinked at once: nothing is left behind, whatever way
/// the process ends, and no name exists that another program could be using.
public final class SpillFile {
    private let descriptor: Int32
    /// Words (4 bytes each) written so far.
    public private(set) var count = 0
    public let directory: String

    /// Creates the scratch file in `directory` (`$TMPDIR`, else /tmp, when nil).
    public init(directory: String? = nil) throws {
        let folder = directory ?? Self.defaultDirectory
        self.directory = folder
        var template = Array("\(folder)/upweight-spill-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard made >= 0 else {
            throw IOError("\(folder): cannot create a scratch file for streaming: \(String(cString: strerror(errno)))")
        }
        descriptor = made
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    }

    /// Adopts an open file of `floats` words already written (a cache entry's rows, to read or to
    /// append to); `directory` names it in messages. The file is closed with this object.
    package init(adopting descriptor: Int32, floats: Int, directory: String) {
        self.descriptor = descriptor
        self.directory = directory
        count = floats
    }

    deinit { close(descriptor) }

    /// Flushes what was written to the disk.
    public func sync() throws {
        guard fsync(descriptor) == 0 else { throw IOError("\(directory): cannot sync the rows file: \(String(cString: strerror(errno)))") }
    }

    /// `$TMPDIR` when set and not empty, else /tmp.
    public static var defaultDirectory: String {
        guard let value = getenv("TMPDIR"), value.pointee != 0 else { return "/tmp" }
        return String(cString: value)
    }

    /// Appends `values` (4-byte words: Float, Int32, UInt32) at the end of the file.
    public func append<Word: BitwiseCopyable>(_ values: [Word]) throws {
        precondition(MemoryLayout<Word>.stride == 4, "the scratch file holds 4-byte words")
        let failure = { (reason: String) in "\(self.directory): cannot write the streaming scratch file: \(reason) (free some space, or point TMPDIR elsewhere)" }
        try values.withUnsafeBytes { buffer in
            try transfer(buffer.count, at: count * 4, orFail: failure) { done, offset in pwrite(descriptor, buffer.baseAddress! + done, buffer.count - done, offset) }
        }
        count += values.count
    }

    /// Reads words `start ..< start + values.count` into `values` (whose storage is reused).
    public func read<Word: BitwiseCopyable>(from start: Int, into values: inout [Word]) throws {
        precondition(MemoryLayout<Word>.stride == 4, "the scratch file holds 4-byte words")
        precondition(start >= 0 && start + values.count <= count, "a read past what was written")
        let failure = { (reason: String) in "\(self.directory): cannot read the streaming scratch file back: \(reason)" }
        try values.withUnsafeMutableBytes { buffer in
            try transfer(buffer.count, at: start * 4, orFail: failure) { done, offset in pread(descriptor, buffer.baseAddress! + done, buffer.count - done, offset) }
        }
    }

    /// Calls `step(done, offset)` (a pread or pwrite of what is left) until `bytes` bytes are moved,
    /// retrying on EINTR; a failure or a zero-byte step throws `message(reason)`.
    private func transfer(_ bytes: Int, at start: Int, orFail message: (String) -> String, _ step: (Int, off_t) -> Int) throws {
        var done = 0
        while done < bytes {
            let moved = step(done, off_t(start + done))
            if moved < 0 && errno == EINTR { continue }
            guard moved > 0 else { throw IOError(message(moved < 0 ? String(cString: strerror(errno)) : "the file ended early")) }
            done += moved
        }
    }
}
