import UpweightSupport

/// Whole-file reads and crash-safe writes. A write goes to a temporary file in the same directory,
/// is flushed to disk (fsync), renamed over the target and the directory is synced: a reader sees
/// the old file or the new one, never half of one, whatever kills the process. A failed write
/// removes its temporary file; one a killed process left behind is removed by the next write.
public enum Files {
    /// The most a settings file (a config, a grid, sections, a model's config.json) may hold: more
    /// is the wrong file, or an endless one such as /dev/zero.
    public static let settingsLimit = 16 << 20

    /// The file's bytes; more than `limit` bytes is an error (reading stops there). A directory or
    /// a device (/dev/zero never ends) is refused; a pipe or a terminal is read.
    public static func read(_ path: String, limit: Int? = nil) throws -> [UInt8] {
        guard let file = fopen(path, "rb") else {
            throw UsageError("\(path): cannot open: \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var status = stat()
        if fstat(fileno(file), &status) == 0 {
            let kind = status.st_mode & S_IFMT
            if kind == S_IFDIR { throw UsageError("\(path): is a directory, expected a file") }
            if kind == S_IFBLK || kind == S_IFCHR && isatty(fileno(file)) == 0 {
                throw UsageError("\(path): is a device, expected a file")
            }
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = fread(&buffer, 1, buffer.count, file)
            if got > 0 { bytes.append(contentsOf: buffer[..<got]) }
            if let limit, bytes.count > limit {
                throw UsageError("\(path): more than \(limit >> 20) MiB, too large for a JSON file of settings (is it the right file?)")
            }
            if got < buffer.count {
                if ferror(file) != 0 { throw UsageError("\(path): read error: \(String(cString: strerror(errno)))") }
                return bytes
            }
        }
    }

    public static func readText(_ path: String) throws -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    /// A JSON object from a file (a config, a grid, a model's config.json); errors name the file, line and column.
    public static func readJSONObject(_ path: String) throws -> JSONObject {
        let bytes = try read(path, limit: settingsLimit)
        switch Result(catching: { () throws(JSONSyntaxError) in try JSONParser.parse(bytes) }) {
        case .success(.object(let object)): return object
        case .success(let other): throw UsageError("\(path): expected a JSON object, got \(other.typeName)")
        case .failure(let error): throw UsageError("\(path):\(error.line):\(error.column): invalid JSON: \(error.message)")
        }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
    }

    /// Writes `bytes` to `path` atomically (temporary file, fsync, rename, fsync of the directory).
    /// A device or a pipe (/dev/null, /dev/stdout, a FIFO) is written straight into, not replaced.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        if isStream(path) { return try writeIntoStream(bytes, path) }
        try createParentDirectories(of: path)
        let (parent, name) = try OutputPath.split(path, flag: "output")
        if let directory = DirectoryHandle(path: parent) { removeAbandonedTemporaries(of: name, in: directory) }
        let temporary = "\(path).tmp-\(getpid())"
        SignalCleanup.removeOnSignal(temporary)
        defer { SignalCleanup.removeOnSignal(nil) }
        do {
            try writeAndSync(bytes, to: temporary, naming: path)
            guard rename(temporary, path) == 0 else { throw writeFailure(path, "write", errno) }
        } catch {
            unlink(temporary)
            throw error
        }
        syncDirectory(containing: path)
    }

    public static func writeAtomically(_ text: String, to path: String) throws {
        try writeAtomically(Array(text.utf8), to: path)
    }

    /// `mkdir -p` of the directory that will hold `path`.
    package static func createParentDirectories(of path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/").dropLast() {
            prefix += "/" + component
            if isDirectory(prefix) { continue }
            guard mkdir(prefix, 0o755) == 0 || errno == EEXIST else {
                throw writeFailure(path, "create directory \(prefix)", errno)
            }
        }
    }

    /// The error for a failed write: an `IOError` when the system failed (full disk or quota, I/O
    /// error, file too large), a `UsageError` when the path is wrong (missing, not permitted, read-only).
    package static func writeFailure(_ path: String, _ action: String, _ code: Int32) -> any Error {
        let message = "\(path): cannot \(action): \(String(cString: strerror(code)))"
        return [ENOSPC, EDQUOT, EIO, EFBIG].contains(code) ? IOError(message) : UsageError(message)
    }

    /// Writes all of `bytes` to `descriptor`; a failure names `path`.
    package static func writeAll(_ bytes: [UInt8], to descriptor: Int32, naming path: String) throws {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, bytes.count - written) }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else {
                if result == 0 { throw IOError("\(path): cannot write: only \(written) of \(bytes.count) bytes were written") }
                throw writeFailure(path, "write", errno)
            }
            written += result
        }
    }

    /// Creates `file` (which must not exist) relative to `directory` (AT_FDCWD: the current one),
    /// writes `bytes` and flushes them to disk. Errors name `path`, the file the user will see.
    package static func writeAndSync(_ bytes: [UInt8], to file: String, in directory: Int32 = AT_FDCWD, naming path: String) throws {
        let descriptor = openat(directory, file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw writeFailure(path, "write", errno) }
        defer { close(descriptor) }
        try writeAll(bytes, to: descriptor, naming: path)
        guard fsync(descriptor) == 0 else { throw writeFailure(path, "sync", errno) }
    }

    /// A character device or a FIFO (following links: /dev/stdout is one).
    package static func isStream(_ path: String) -> Bool {
        var status = stat()
        guard stat(path, &status) == 0 else { return false }
        return [S_IFCHR, S_IFIFO].contains(status.st_mode & S_IFMT)
    }

    private static func writeIntoStream(_ bytes: [UInt8], _ path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw writeFailure(path, "write", errno) }
        defer { close(descriptor) }
        try writeAll(bytes, to: descriptor, naming: path)
    }

    package static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if descriptor >= 0 { fsync(descriptor); close(descriptor) }
    }

    package static func syncDirectory(containing path: String) {
        let slash = path.lastIndex(of: "/")
        syncDirectory(slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? ".")
    }

    /// `NAME.tmp-PID` entries in `directory` whose process no longer runs (or is this one, from an
    /// earlier failed attempt): what a killed writer left behind.
    package static func abandonedTemporaries(of name: String, in directory: DirectoryHandle) -> [String] {
        let prefix = name + ".tmp-"
        return directory.names().filter { entry in
            guard entry.hasPrefix(prefix), let pid = Int32(entry.dropFirst(prefix.count)), pid > 0 else { return false }
            return pid == getpid() || (kill(pid, 0) != 0 && errno == ESRCH)
        }
    }

    /// Removes abandoned temporary files of `name` (regular files only: never a link, never a directory).
    private static func removeAbandonedTemporaries(of name: String, in directory: DirectoryHandle) {
        for entry in abandonedTemporaries(of: name, in: directory) where directory.isRegularFile(entry) {
            directory.removeFile(entry)
        }
    }
}
