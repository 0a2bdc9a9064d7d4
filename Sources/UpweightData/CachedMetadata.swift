import UpweightSupport
import UpweightIO

/// A streamed dataset's metadata (every column but the rows) as a cache entry's `metadata.bin`:
/// binary columns in a fixed order. Decoding checks what later code indexes with (category
/// indices, source files, column lengths), so that even a consistent forgery cannot trap.
enum CachedMetadata {
    static func encode(_ dataset: PreferenceDataset) -> [UInt8] {
        var writer = BinaryColumnWriter()
        let dimension: Int
        if case .dense(let rows, _, _) = dataset.responses { dimension = rows } else { dimension = 0 }
        writer.append(UInt64(dimension))
        writer.append(UInt64(dataset.categoryNames.count))
        dataset.categoryNames.forEach { writer.append($0) }
        writer.append(column: dataset.categoryIndices)
        writer.append(column: dataset.exampleWeights.map(\.bitPattern))
        writer.append(column: dataset.margins.map(\.bitPattern))
        writer.append(column: dataset.groupFieldKeys)
        dataset.splits.forEach { writer.append($0) }
        dataset.ids.forEach { writer.append($0) }
        writer.append(column: dataset.sources.map(\.file))
        writer.append(column: dataset.sources.map(\.line))
        writer.append(UInt64(dataset.files.count))
        dataset.files.forEach { writer.append($0) }
        return writer.bytes
    }

    /// The metadata of `pairs` pairs, from untrusted `bytes`.
    static func decode(_ bytes: [UInt8], pairs: Int) throws -> PreferenceDataset {
        var reader = BinaryColumnReader(bytes)
        let dimension = Int(try reader.read(UInt64.self) & 0xFFFF_FFFF)
        let categoryNames = try (0..<reader.readCount(itemBytes: 8)).map { _ in try reader.readString() }
        let categoryIndices = try reader.readColumn(of: Int32.self)
        let weights = try reader.readColumn(of: UInt64.self).map(Double.init(bitPattern:))
        let margins = try reader.readColumn(of: UInt64.self).map(Double.init(bitPattern:))
        let groupKeys = try reader.readColumn(of: UInt64.self)
        for column in [categoryIndices.count, weights.count, margins.count] where column != pairs {
            throw BinaryColumnError("holds a column of \(column) values for \(pairs) pairs")
        }
        guard groupKeys.isEmpty || groupKeys.count == pairs else { throw BinaryColumnError("holds \(groupKeys.count) group keys for \(pairs) pairs") }
        guard categoryIndices.allSatisfy({ $0 >= 0 && Int($0) < categoryNames.count }) else {
            throw BinaryColumnError("points past its \(categoryNames.count) categories")
        }
        // At least a byte a pair each: the counts were checked against the file's size above.
        let splits = try (0..<pairs).map { _ in try reader.readOptionalString() }
        let ids = try (0..<pairs).map { _ in try reader.readOptionalString() }
        let sourceFiles = try reader.readColumn(of: Int32.self)
        let sourceLines = try reader.readColumn(of: Int32.self)
        guard sourceFiles.count == pairs, sourceLines.count == pairs else { throw BinaryColumnError("holds the sources of another number of pairs") }
        let files = try (0..<reader.readCount(itemBytes: 8)).map { _ in try reader.readString() }
        guard sourceFiles.allSatisfy({ $0 >= 0 && Int($0) < files.count }) else { throw BinaryColumnError("points past its \(files.count) files") }
        guard reader.isAtEnd else { throw BinaryColumnError("has \(bytes.count - reader.offset) bytes after its last column") }
        return PreferenceDataset(responses: .dense(dimension: dimension, chosen: [], rejected: []), ids: ids, categoryNames: categoryNames,
                                 categoryIndices: categoryIndices, exampleWeights: weights, margins: margins, splits: splits,
                                 groupFieldKeys: groupKeys, sources: zip(sourceFiles, sourceLines).map { SourceLocation(file: $0, line: $1) },
                                 files: files, hashedTexts: nil)
    }
}
