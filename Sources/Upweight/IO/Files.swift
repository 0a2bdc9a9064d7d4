#if canImport(Glibc)
import Glibc
#endif
private import CSystem

/// Whole-file reads and crash-safe writes. A write goes to a temporary file in the same directory,
/// is flushed to disk (fsync), renamed over the target and the directory is synced: a reader sees
/// the old file or the new one, never half of one, whatever kills the process.
public enum Files {
    public static func read(_ path: String) throws -> [UInt8] {
        guard let file = fopen(path, "rb") else {
            throw UsageError("\(path): cannot open: \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = fread(&buffer, 1, buffer.count, file)
            if got > 0 { bytes.append(contentsOf: buffer[..<got]) }
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
        let bytes = try read(path)
        let parsed = bytes.withUnsafeBytes { buffer in Result { () throws(JSONSyntaxError) in try JSONParser.parse(buffer) } }
        switch parsed {
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
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporary = "\(path).tmp-\(getpid())"
        try writeAndSync(bytes, to: temporary)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw UsageError("\(path): cannot write: \(reason)")
        }
        syncDirectory(containing: path)
    }

    public static func writeAtomically(_ text: String, to path: String) throws {
        try writeAtomically(Array(text.utf8), to: path)
    }

    /// Replaces directory `path` with one holding `files` (name → bytes) in one atomic step: the new
    /// directory is built and synced beside it, then swapped in with renameat2(RENAME_EXCHANGE).
    public static func replaceDirectory(_ path: String, with files: [(name: String, bytes: [UInt8])]) throws {
        let trimmed = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
        let staging = "\(trimmed).tmp-\(getpid())"
        try createParentDirectories(of: trimmed)
        removeAbandonedStaging(of: trimmed)
        guard mkdir(staging, 0o755) == 0 else {
            throw UsageError("\(trimmed): cannot create \(staging): \(String(cString: strerror(errno)))")
        }
        for file in files { try writeAndSync(file.bytes, to: "\(staging)/\(file.name)") }
        syncDirectory(staging)
        if isDirectory(trimmed) {
            guard upweight_exchange_paths(staging, trimmed) == 0 else {
                let reason = String(cString: strerror(errno))
                removeTree(staging)
                throw UsageError("\(trimmed): cannot replace the model directory: \(reason)")
            }
            removeTree(staging)  // now holds the previous contents
        } else {
            if exists(trimmed) {
                removeTree(staging)
                throw UsageError("\(trimmed): exists and is not a directory")
            }
            guard rename(staging, trimmed) == 0 else {
                let reason = String(cString: strerror(errno))
                removeTree(staging)
                throw UsageError("\(trimmed): cannot create: \(reason)")
            }
        }
        syncDirectory(containing: trimmed)
    }

    /// Removes `PATH.tmp-PID` directories that a killed process left behind (its PID no longer
    /// runs), and our own from an earlier failed attempt.
    static func removeAbandonedStaging(of path: String) {
        let slash = path.lastIndex(of: "/")
        let parent = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let prefix = (slash.map { String(path[path.index(after: $0)...]) } ?? path) + ".tmp-"
        guard let directory = opendir(parent) else { return }
        var abandoned: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasPrefix(prefix), let pid = Int32(name.dropFirst(prefix.count)) else { continue }
            if pid == getpid() || kill(pid, 0) != 0 { abandoned.append("\(parent)/\(name)") }
        }
        closedir(directory)
        for name in abandoned { removeTree(name) }
    }

    /// `mkdir -p` of the directory that will hold `path`.
    static func createParentDirectories(of path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/").dropLast() {
            prefix += "/" + component
            if isDirectory(prefix) { continue }
            guard mkdir(prefix, 0o755) == 0 || errno == EEXIST else {
                throw UsageError("\(path): cannot create directory \(prefix): \(String(cString: strerror(errno)))")
            }
        }
    }

    private static func writeAndSync(_ bytes: [UInt8], to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw UsageError("\(path): cannot write: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, bytes.count - written) }
            guard result > 0 else { throw UsageError("\(path): cannot write: \(String(cString: strerror(errno)))") }
            written += result
        }
        guard fsync(descriptor) == 0 else { throw UsageError("\(path): cannot sync: \(String(cString: strerror(errno)))") }
    }

    private static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY)
        if descriptor >= 0 { fsync(descriptor); close(descriptor) }
    }

    private static func syncDirectory(containing path: String) {
        let slash = path.lastIndex(of: "/")
        syncDirectory(slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? ".")
    }

    /// Removes a file or a directory of files (our own staging directories are one level deep).
    static func removeTree(_ path: String) {
        if isDirectory(path), let directory = opendir(path) {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { unlink("\(path)/\(name)") }
            }
            closedir(directory)
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
