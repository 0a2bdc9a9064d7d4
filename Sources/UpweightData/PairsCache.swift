import UpweightSupport
import UpweightIO
private import CSystem

/// A directory of cache entries for streamed dense pairs (`--cache DIR`), one per set of files and
/// reader settings: `pairs-<hash>/` holding `rows.f32` (as the scratch file: pair i's chosen row,
/// then its rejected row, Float32 little-endian), `metadata.bin` (`CachedMetadata`) and
/// `header.json` (format, key, sizes, checksums, the reader's summary).
///
/// An entry is untrusted input, like a model directory: anything wrong with it is a note and a
/// rebuild, never a trap. Entries are built beside their place (`NAME.tmp-PID`), synced and renamed
/// in, so a crashed or concurrent build never leaves a half entry under an entry's name. Only what
/// Upweight writes is ever removed; a directory holding anything else is refused.
struct PairsCache {
    static let formatName = "upweight-stream-cache"
    static let entryFileNames: Set<String> = ["header.json", "rows.f32", "metadata.bin"]
    static let tagName = "CACHEDIR.TAG"
    /// The tag's first line (https://bford.info/cachedir/): backup tools skip the directory.
    static let tagText = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by Upweight (upweight --cache).\n"
    static let headerLimit = 16 << 20

    let path: String
    let directory: DirectoryHandle

    /// Opens (creating it if need be) the cache directory `path`, refusing one that holds anything
    /// but Upweight's cache entries. `flag` names it in messages.
    init(path: String, flag: String) throws {
        let absolute = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
        try Files.createParentDirectories(of: absolute + "/" + Self.tagName)
        var status = stat()
        guard lstat(absolute, &status) == 0 else { throw Files.writeFailure(absolute, "create", errno) }
        if (status.st_mode & S_IFMT) == S_IFLNK && !Files.isDirectory(absolute) {
            throw UsageError("\(flag) \(path): is a symbolic link to something that is not a directory; choose another path")
        }
        guard let directory = DirectoryHandle(path: absolute) else {
            throw UsageError("\(flag) \(path): is not a directory; choose another path or remove it")
        }
        let foreign = directory.names().filter { !Self.isOurs($0, in: directory) }.sorted()
        if !foreign.isEmpty {
            let list = foreign.prefix(3).joined(separator: ", ") + (foreign.count > 3 ? ", …" : "")
            throw UsageError("\(flag) \(path): holds files that are not Upweight's cache (\(list)); choose another directory or remove them")
        }
        self.path = absolute
        self.directory = directory
        if directory.status(of: Self.tagName) == nil {
            try Files.writeAndSync(Array(Self.tagText.utf8), to: Self.tagName, in: directory.descriptor, naming: "\(absolute)/\(Self.tagName)")
        }
    }

    /// The cache directory to use: `option` (`--cache`; "none" for no cache), else
    /// `$XDG_CACHE_HOME/upweight`, else `$HOME/.cache/upweight`; nil for none (nor a home).
    static func location(option: String?) -> (path: String, flag: String)? {
        if let option { return option == "none" ? nil : (option, "--cache") }
        let environment = { (name: String) -> String? in getenv(name).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } }
        if let base = environment("XDG_CACHE_HOME"), base.hasPrefix("/") { return (base + "/upweight", "cache directory") }
        if let home = environment("HOME") { return (home + "/.cache/upweight", "cache directory") }
        return nil
    }

    /// The tag, entries (`pairs-` and 16 hex digits: real directories holding only entry files)
    /// and entries being built (the same, `.tmp-PID`).
    private static func isOurs(_ name: String, in directory: DirectoryHandle) -> Bool {
        if name == tagName { return directory.isRegularFile(name) }
        var base = Substring(name)
        if let dot = name.firstIndex(of: ".") {
            guard name[dot...].hasPrefix(".tmp-"), Int32(name[dot...].dropFirst(5)) != nil else { return false }
            base = name[..<dot]
        }
        guard base.hasPrefix("pairs-"), base.count == 22, base.dropFirst(6).allSatisfy(\.isHexDigit) else { return false }
        guard let status = directory.status(of: name) else { return true }
        if (status.st_mode & S_IFMT) == S_IFLNK { return true }  // an entry's name: the link is replaced, never followed
        guard let entry = DirectoryHandle(name: name, in: directory) else { return false }
        return entry.names().allSatisfy { entryFileNames.contains($0) && entry.isRegularFile($0) }
    }

    /// Removes entry `name` (ours, as `init` checked: a link itself, or a directory of entry files).
    func remove(_ name: String) {
        guard let status = directory.status(of: name) else { return }
        if (status.st_mode & S_IFMT) == S_IFLNK { directory.removeFile(name); return }
        guard let entry = DirectoryHandle(name: name, in: directory) else { return }
        for file in Self.entryFileNames where entry.isRegularFile(file) { entry.removeFile(file) }
        directory.removeEmptyDirectory(name)
    }

    /// Builds entry `name` in a staging directory, `build` writing the rows through the file it is
    /// given (then returning the header and metadata), and renames it into place: in place of a
    /// stale entry, beside nothing if another run installed one meanwhile (ours is then dropped).
    func build(_ name: String, _ write: (SpillFile) throws -> (header: JSONObject, metadata: [UInt8])) throws -> SpillFile {
        for abandoned in Files.abandonedTemporaries(of: name, in: directory) { remove(abandoned) }
        let stagingName = "\(name).tmp-\(getpid())"
        let stagingPath = "\(path)/\(stagingName)"
        guard mkdirat(directory.descriptor, stagingName, 0o755) == 0, let staging = DirectoryHandle(name: stagingName, in: directory) else {
            throw Files.writeFailure(stagingPath, "create", errno)
        }
        do {
            let descriptor = openat(staging.descriptor, "rows.f32", O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw Files.writeFailure("\(stagingPath)/rows.f32", "create", errno) }
            let rows = SpillFile(adopting: descriptor, floats: 0, directory: "\(path)/\(name)")
            let (header, metadata) = try write(rows)
            try rows.sync()
            try Files.writeAndSync(metadata, to: "metadata.bin", in: staging.descriptor, naming: "\(path)/\(name)/metadata.bin")
            try Files.writeAndSync(Array(JSONValue.object(header).prettyText.utf8), to: "header.json", in: staging.descriptor,
                                   naming: "\(path)/\(name)/header.json")
            staging.sync()
            try install(stagingName, as: name)
            return rows
        } catch {
            remove(stagingName)
            throw error
        }
    }

    private func install(_ stagingName: String, as name: String) throws {
        let existing = directory.status(of: name)
        if existing.map({ ($0.st_mode & S_IFMT) == S_IFDIR }) == true {
            guard upweight_exchange_at(directory.descriptor, stagingName, name) == 0 else {
                throw Files.writeFailure("\(path)/\(name)", "replace the cache entry", errno)
            }
            remove(stagingName)  // the stale entry, now under the staging name
        } else {
            if existing != nil { directory.removeFile(name) }  // a symbolic link, never followed
            if renameat(directory.descriptor, stagingName, directory.descriptor, name) != 0 {
                guard errno == EEXIST || errno == ENOTEMPTY else { throw Files.writeFailure("\(path)/\(name)", "create", errno) }
                remove(stagingName)  // another run's entry got there first: ours was only for this run
            }
        }
        directory.sync()
    }
}
