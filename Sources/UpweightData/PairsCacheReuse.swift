import UpweightSupport
import UpweightIO

/// Reading an entry back, checked before any of it is trusted: the header's format, version and
/// key, sizes that match the files, and both files' checksums (the rows in one streaming pass).
extension PairsCache {
    enum Lookup {
        case missing
        /// Why it cannot be used: "stale (FILE changed)", "corrupt (…)".
        case unusable(String)
        case reusable(Entry)
    }

    struct Entry {
        var rows: SpillFile
        var metadata: PreferenceDataset
        var dimension: Int
        var layout: StreamedPairs.Layout
        /// Dense: the units' starts (hashed text: its units').
        var unitStarts: [Int]
        var summary: ReadSummary
        var built: String
    }

    /// Entry `name`, if it holds what reading with `key` would give.
    func lookup(_ name: String, key: CacheKey) -> Lookup {
        guard let status = directory.status(of: name) else { return .missing }
        if (status.st_mode & S_IFMT) == S_IFLNK { return .unusable("corrupt (a symbolic link, not followed)") }
        guard let entry = DirectoryHandle(name: name, in: directory) else { return .unusable("corrupt (not a directory)") }
        do {
            return .reusable(try read(entry, key: key))
        } catch let problem as EntryProblem {
            return .unusable(problem.reason)
        } catch {
            return .unusable("corrupt (\(error))")
        }
    }

    private struct EntryProblem: Error { var reason: String }

    private func read(_ entry: DirectoryHandle, key: CacheKey) throws -> Entry {
        let corrupt = { (why: String) in EntryProblem(reason: "corrupt (\(why))") }
        guard let headerBytes = entry.contents(of: "header.json", limit: Self.headerLimit) else { throw corrupt("no readable header.json") }
        guard case .object(let header)? = try? JSONParser.parse(headerBytes) else { throw corrupt("header.json is not a JSON object") }
        guard header["format"] == .string(Self.formatName) else { throw corrupt("header.json names another format") }
        guard header["version"] == JSONValue(CacheKey.formatVersion) else {
            throw EntryProblem(reason: "stale (format version \(header["version"]?.compactText ?? "missing"), this build writes \(CacheKey.formatVersion))")
        }
        guard case .object(let keyObject)? = header["key"], case .array(let files)? = keyObject["files"],
              case .object(let reader)? = keyObject["reader"] else { throw corrupt("header.json has no key") }
        let stored = CacheKey(files: files, reader: reader)
        guard stored == key else { throw EntryProblem(reason: "stale (\(key.firstChange(from: stored)))") }
        guard let pairs = header["pairs"]?.wholeNumber(in: 0...Int(Int32.max)),
              let dimension = header["dimension"]?.wholeNumber(in: 1...(1 << 30)),
              let metadataBytes = header["metadata_bytes"]?.wholeNumber(in: 0...(1 << 50)),
              let built = header["built"]?.stringValue,
              let summary = ReadSummary(cacheJSON: header["summary"])
        else { throw corrupt("header.json lacks a count, size, date or summary") }
        let hashed = header["layout"] == .string("hashed")
        guard hashed || header["layout"] == .string("dense") else { throw corrupt("header.json names no layout") }
        let (floats, floatsOverflow) = (2 * dimension).multipliedReportingOverflow(by: pairs)
        var (rowBytes, bytesOverflow) = floats.multipliedReportingOverflow(by: 4)
        if hashed {
            guard let bytes = header["rows_bytes"]?.wholeNumber(in: 0...(1 << 50)), bytes % 8 == 0 else { throw corrupt("header.json lacks the rows' size") }
            (rowBytes, bytesOverflow) = (bytes, false)
        }
        guard !floatsOverflow, !bytesOverflow else { throw corrupt("\(pairs) pairs of dimension \(dimension) overflow") }
        guard entry.status(of: "rows.f32").map({ Int($0.st_size) == rowBytes && entry.isRegularFile("rows.f32") }) == true else {
            throw corrupt("rows.f32 is not the \(rowBytes) bytes the header says")
        }
        guard entry.status(of: "metadata.bin").map({ Int($0.st_size) == metadataBytes && entry.isRegularFile("metadata.bin") }) == true,
              let metadataFile = entry.contents(of: "metadata.bin", limit: metadataBytes), metadataFile.count == metadataBytes
        else { throw corrupt("metadata.bin is not the \(metadataBytes) bytes the header says") }
        var metadataHash = ContentHash()
        metadataHash.mix(metadataFile)
        guard header["metadata_hash"] == .string(metadataHash.hex) else { throw corrupt("metadata.bin does not match its checksum") }
        let metadata: PreferenceDataset
        var layout = StreamedPairs.Layout.dense
        var unitStarts: [Int] = []
        do {
            let (dataset, units) = try CachedMetadata.decodeWithUnits(metadataFile, pairs: pairs)
            metadata = dataset
            if hashed {
                guard let units else { throw BinaryColumnError("has no unit index for its hashed rows") }
                try units.validate(pairs: pairs, words: rowBytes / 4)
                // The key holds the hashing only when the files looked like text: the entry's own settings must match it.
                guard let bits = header["hash_bits"]?.wholeNumber(in: 1...30), case .bool(let includePrompt)? = header["include_prompt"],
                      dimension == 1 << bits else { throw BinaryColumnError("belongs to an entry without its hashing settings") }
                guard key.reader["text_features"] != nil else { throw EntryProblem(reason: "stale (it holds text, the files looked dense)") }
                layout = .hashed(hashBits: bits, includePrompt: includePrompt, units: units)
                unitStarts = units.firstPairs
            } else {
                guard let units, units.wordStarts.isEmpty, units.entries.isEmpty, dataset.textDigests == nil else {
                    throw BinaryColumnError("has a text unit index or text digests for dense rows, or no units")
                }
                guard StreamedPairs.validUnitStarts(units.firstPairs, pairs: pairs) else { throw BinaryColumnError("has dense units that do not cover its \(pairs) pairs") }
                unitStarts = units.firstPairs
            }
            guard !hashed || dataset.textDigests != nil else { throw BinaryColumnError("has no text digests for its text pairs") }
        } catch let problem as EntryProblem { throw problem } catch { throw corrupt("metadata.bin \(error)") }

        let descriptor = openat(entry.descriptor, "rows.f32", O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw corrupt("rows.f32 cannot be opened") }
        let rows = SpillFile(adopting: descriptor, floats: rowBytes / 4, directory: "\(path)/\(key.entryName)")
        guard header["rows_hash"] == .string(try Self.checksum(of: rows)) else { throw corrupt("rows.f32 does not match its checksum") }
        return Entry(rows: rows, metadata: metadata, dimension: dimension, layout: layout, unitStarts: unitStarts, summary: summary, built: built)
    }

    /// `ContentHash` of every word in `rows`, read 1 MiB at a time.
    static func checksum(of rows: SpillFile) throws -> String {
        var hash = ContentHash()
        var buffer: [UInt32] = []
        for start in stride(from: 0, to: rows.count, by: 1 << 18) {
            let count = min(1 << 18, rows.count - start)
            if buffer.count != count { buffer = [UInt32](repeating: 0, count: count) }
            try rows.read(from: start, into: &buffer)
            hash.mix(buffer)
        }
        return hash.hex
    }
}
