import UpweightSupport
import UpweightIO

/// A streamed dataset's metadata (every column but the rows) as a cache entry's `metadata.bin`:
/// binary columns in a fixed order, then the unit index (`SparseUnits`; dense rows: the units' starts only). Decoding checks what later code indexes with (category
/// indices, source files, column lengths), so that even a consistent forgery cannot trap.
enum CachedMetadata {
    static func encode(_ dataset: PreferenceDataset, units: SparseUnits? = nil) -> [UInt8] {
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
        for column in [units?.firstPairs, units?.wordStarts, units?.entries] { writer.append(column: (column ?? []).map { UInt64($0) }) }
        let digests = dataset.textDigests
        for keys in [digests?.promptKeys, digests?.chosenKeys, digests?.rejectedKeys] { writer.append(column: keys ?? []) }
        writer.append(column: digests?.lengthOrder ?? [])
        return writer.bytes
    }

    /// The metadata of `pairs` pairs, from untrusted `bytes`.
    static func decode(_ bytes: [UInt8], pairs: Int) throws -> PreferenceDataset {
        try decodeWithUnits(bytes, pairs: pairs).dataset
    }

    /// The metadata and the unit index (nil when empty: dense rows; checked against the rows file by the caller).
    static func decodeWithUnits(_ bytes: [UInt8], pairs: Int) throws -> (dataset: PreferenceDataset, units: SparseUnits?) {
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
        var units = SparseUnits()
        let bound = { (value: UInt64) in Int(min(value, UInt64(Int.max))) }
        (units.firstPairs, units.wordStarts, units.entries) = try (reader.readColumn(of: UInt64.self).map(bound),
                                                                   reader.readColumn(of: UInt64.self).map(bound),
                                                                   reader.readColumn(of: UInt64.self).map(bound))
        var digests = TextDigests()
        (digests.promptKeys, digests.chosenKeys, digests.rejectedKeys) = try (reader.readColumn(of: UInt64.self), reader.readColumn(of: UInt64.self),
                                                                              reader.readColumn(of: UInt64.self))
        digests.lengthOrder = try reader.readColumn(of: Int8.self)
        let digestColumns = [digests.promptKeys.count, digests.chosenKeys.count, digests.rejectedKeys.count, digests.lengthOrder.count]
        guard digestColumns.allSatisfy({ $0 == 0 }) || digestColumns.allSatisfy({ $0 == pairs }) else {
            throw BinaryColumnError("holds the text digests of another number of pairs")
        }
        guard digests.lengthOrder.allSatisfy({ (-1...1).contains($0) }) else { throw BinaryColumnError("holds a length order other than -1, 0 or 1") }
        guard reader.isAtEnd else { throw BinaryColumnError("has \(bytes.count - reader.offset) bytes after its last column") }
        var dataset = PreferenceDataset(responses: .dense(dimension: dimension, chosen: [], rejected: []), ids: ids, categoryNames: categoryNames,
                                 categoryIndices: categoryIndices, exampleWeights: weights, margins: margins, splits: splits,
                                 groupFieldKeys: groupKeys, sources: zip(sourceFiles, sourceLines).map { SourceLocation(file: $0, line: $1) },
                                 files: files, hashedTexts: nil)
        if digestColumns[0] == pairs && pairs > 0 { dataset.textDigests = digests }
        return (dataset, [units.firstPairs, units.wordStarts, units.entries].allSatisfy(\.isEmpty) ? nil : units)
    }
}
