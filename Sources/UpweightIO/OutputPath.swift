import UpweightSupport

/// Where a run will write, checked before any data is read: a bad path should cost seconds, not
/// the hour of training before the save. A model directory may replace only nothing, an empty
/// directory or an Upweight model directory holding nothing but what Upweight writes: whatever
/// else is there belongs to the user and is never deleted.
public enum OutputPath {
    /// The files Upweight writes into a model directory (ModelDirectory.save); nothing else in one is
    /// ever removed.
    public static let modelFileNames: Set<String> = ["config.json", "model.safetensors", "training_log.jsonl",
                                                      "training_hashes.bin", "held_out.json",
                                                      "checkpoint.json", "checkpoint.safetensors"]

    /// Throws a `UsageError` naming `flag` unless `path` can become (or be replaced by) a model directory.
    public static func checkModelDirectory(_ path: String, flag: String = "--out") throws {
        let (parent, name) = try split(path, flag: flag)
        try checkParent(parent, of: path, flag: flag)
        guard let parentHandle = DirectoryHandle(path: parent) else { return }
        try checkReplaceable(name, in: parentHandle, path: path, flag: flag)
    }

    /// Throws a `UsageError` naming `flag` unless a file can be written at `path`: not a directory,
    /// in a directory that exists (or can be made) and is writable — or a device or pipe we may
    /// write into (/dev/null, /dev/stdout). Nor may it be one of `inputs` (the data, a config), or
    /// lie inside `modelDirectory` (which may hold only Upweight's own files).
    public static func checkFile(_ path: String, flag: String, apartFrom inputs: [String] = [],
                                 outside modelDirectory: String? = nil) throws
    {
        let (parent, _) = try split(path, flag: flag)
        if Files.isDirectory(path) {
            throw UsageError("\(flag) \(path): is a directory; expected the path of a file to write")
        }
        if let input = inputs.first(where: { sameFile($0, path) }) {
            throw UsageError("\(flag) \(path): is the input \(input); choose another path, or it would be overwritten")
        }
        if let modelDirectory, canonical(parent) == canonical(modelDirectory) {
            throw UsageError("\(flag) \(path): is inside the model directory \(modelDirectory); choose a path outside it (a model directory holds only Upweight's files)")
        }
        if Files.isStream(path) {
            guard access(path, W_OK) == 0 else {
                throw UsageError("\(flag) \(path): cannot write: \(String(cString: strerror(errno)))")
            }
            return
        }
        try checkParent(parent, of: path, flag: flag)
    }

    /// Refuses `name` in `parent` unless it is missing, an empty directory or an Upweight model
    /// directory holding only Upweight's files. Called again right before a directory is replaced.
    package static func checkReplaceable(_ name: String, in parent: DirectoryHandle, path: String, flag: String) throws {
        guard let status = parent.status(of: name) else { return }  // nothing there yet
        switch status.st_mode & S_IFMT {
        case S_IFLNK:
            throw UsageError("\(flag) \(path): is a symbolic link; choose another path or remove the link (Upweight does not write through links)")
        case S_IFDIR:
            guard let directory = DirectoryHandle(name: name, in: parent) else {
                throw UsageError("\(flag) \(path): cannot open: \(String(cString: strerror(errno)))")
            }
            let names = directory.names()
            guard !names.isEmpty else { return }
            let foreign = names.filter { !modelFileNames.contains($0) || !directory.isRegularFile($0) }.sorted()
            if foreign.isEmpty && isModelConfig(directory) { return }
            let shown = foreign.isEmpty ? names.sorted() : foreign
            let list = shown.prefix(3).joined(separator: ", ") + (shown.count > 3 ? ", …" : "")
            throw UsageError("\(flag) \(path): exists and is not an Upweight model directory (it holds \(list)); choose another path or remove it")
        default:
            throw UsageError("\(flag) \(path): exists and is not a directory; choose another path or remove it")
        }
    }

    /// Whether the directory's config.json carries Upweight's format marker.
    private static func isModelConfig(_ directory: DirectoryHandle) -> Bool {
        guard let bytes = directory.contents(of: "config.json", limit: Files.settingsLimit),
              case .object(let config)? = try? JSONParser.parse(bytes)
        else { return false }
        return config["format"] == "upweight-reward-model"
    }

    /// Whether both paths exist and are the same file (following links).
    private static func sameFile(_ first: String, _ second: String) -> Bool {
        var a = stat(), b = stat()
        return stat(first, &a) == 0 && stat(second, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }

    /// `path` with its existing part resolved (links, `.`, `..`) and the rest appended as written.
    private static func canonical(_ path: String) -> String {
        var existing = path
        var rest: [Substring] = []
        while !Files.exists(existing), let slash = existing.lastIndex(of: "/") {
            rest.insert(existing[existing.index(after: slash)...], at: 0)
            existing = slash == existing.startIndex ? "/" : String(existing[..<slash])
        }
        if !Files.exists(existing) { rest.insert(Substring(existing), at: 0); existing = "." }
        guard let resolved = realpath(existing, nil) else { return path }
        defer { free(resolved) }
        return ([String(cString: resolved)] + rest.filter { !$0.isEmpty && $0 != "." }.map(String.init)).joined(separator: "/")
    }

    /// The parent directory (where staging and temporary files go) and the last component, which
    /// must name something: not `/`, `.` or `..`.
    package static func split(_ path: String, flag: String) throws -> (parent: String, name: String) {
        guard !path.isEmpty else { throw UsageError("\(flag): expected a path, got an empty string") }
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        let slash = trimmed.lastIndex(of: "/")
        let name = String(slash.map { trimmed[trimmed.index(after: $0)...] } ?? trimmed)
        guard !name.isEmpty, name != ".", name != ".." else {
            throw UsageError("\(flag) \(path): names no new file or directory; give a path such as \(path == "/" ? "" : path)/model")
        }
        let parent = slash.map { $0 == trimmed.startIndex ? "/" : String(trimmed[..<$0]) } ?? "."
        return (parent, name)
    }

    /// The nearest existing ancestor of `parent` must be a directory this process may write in
    /// (the missing ones are created when writing).
    private static func checkParent(_ parent: String, of path: String, flag: String) throws {
        var ancestor = parent
        while !Files.exists(ancestor) {
            guard let slash = ancestor.lastIndex(of: "/") else { ancestor = "."; break }
            ancestor = slash == ancestor.startIndex ? "/" : String(ancestor[..<slash])
        }
        guard Files.isDirectory(ancestor) else {
            throw UsageError("\(flag) \(path): \(ancestor) is not a directory")
        }
        guard access(ancestor, W_OK | X_OK) == 0 else {
            throw UsageError("\(flag) \(path): cannot write in \(ancestor): \(String(cString: strerror(errno)))")
        }
    }
}
