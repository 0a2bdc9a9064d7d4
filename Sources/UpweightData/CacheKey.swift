import UpweightSupport
import UpweightIO

/// What a cache entry was built from: each file (absolute path, size, modification time, device
/// and inode), the reader's settings that change what is read and, for text, the hashing's. The entry's name comes from the
/// paths and settings alone, so that a changed file makes its entry stale, rebuilt in place.
struct CacheKey: Equatable {
    static let formatVersion = 3  // 2: hashed text in CSR units; 3: units end at block ends

    var files: [JSONValue]
    var reader: JSONObject

    /// The key of reading `paths` with `options` (text hashed by `hashing`); nil when a path is not a regular file (a pipe,
    /// standard input), which has no identity to key on. `unusable` receives why.
    init?(paths: [String], options: ReadOptions, hashing: Featurizer? = nil, unusable: (String) -> Void) {
        var files: [JSONValue] = []
        for path in paths {
            var status = stat()
            guard path != "-", stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, let resolved = realpath(path, nil) else {
                unusable("\(path) is not a regular file")
                return nil
            }
            defer { free(resolved) }
            files.append(.object(JSONObject([
                ("path", .string(String(cString: resolved))),
                ("size", JSONValue(Int(status.st_size))),
                ("modified_ns", .integer(Int64(status.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(status.st_mtim.tv_nsec))),
                ("device", .integer(Int64(truncatingIfNeeded: status.st_dev))),
                ("inode", .integer(Int64(truncatingIfNeeded: status.st_ino))),
            ])))
        }
        self.files = files
        // Every field name (the group field among them), the shape and the error policy change what is
        // read; threads and chunk sizes do not (the reader's results do not depend on them).
        reader = JSONObject([
            ("fields", .string(String(describing: options.fields))),
            ("shape", .string(options.shape?.rawValue ?? "auto")),
            ("on_error", .string(options.onError.rawValue)),
            ("block_bytes", JSONValue(options.blockBytes)),
        ])
        // Everything TextHasher takes: the columns, the n-grams (fixed at 1 and 2) and the prompt.
        if case .hashed(let bits, let includePrompt)? = hashing {
            reader["text_features"] = .string("hashed: 2^\(bits) columns, word 1- and 2-grams, prompt \(includePrompt ? "included" : "left out")")
        }
    }

    init(files: [JSONValue], reader: JSONObject) {
        self.files = files
        self.reader = reader
    }

    var json: JSONValue { .object(JSONObject([("files", .array(files)), ("reader", .object(reader))])) }

    /// The entry's directory name: `pairs-` and 16 hex digits of the paths and the reader's settings.
    var entryName: String {
        var hash = ContentHash()
        let paths = files.compactMap { value -> JSONValue? in
            guard case .object(let file) = value else { return nil }
            return file["path"]
        }
        hash.mix(Array(JSONValue.object(JSONObject([("paths", .array(paths)), ("reader", .object(reader)), ("version", JSONValue(Self.formatVersion))])).compactText.utf8))
        return "pairs-" + hash.hex
    }

    /// The first file whose identity differs from `other`'s, for the stale note.
    func firstChange(from other: CacheKey) -> String {
        for (index, file) in files.enumerated() where index >= other.files.count || other.files[index] != file {
            if case .object(let object) = file, let path = object["path"]?.stringValue { return "\(path) changed" }
        }
        return "the reader's settings changed"
    }
}
