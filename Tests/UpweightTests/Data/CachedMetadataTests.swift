import XCTest
@testable import UpweightData

/// A cache entry's metadata file is untrusted: it round-trips exactly, and a truncated or altered
/// copy is refused with a reason or read into columns that are safe to index — never a trap.
final class CachedMetadataTests: XCTestCase {
    func dataset() throws -> PreferenceDataset {
        var dataset = try TestSupport.read(paths: [TestSupport.fixture("linear-dense/train.jsonl")]) { $0.fields.group = "prompt" }
        dataset.ids[0] = "first"
        dataset.splits[1] = "test"
        return dataset.subset(Array(0..<min(dataset.count, 40)))
    }

    func test_the_columns_round_trip() throws {
        let original = try dataset()
        let decoded = try CachedMetadata.decode(CachedMetadata.encode(original), pairs: original.count)
        XCTAssertEqual(decoded.categoryNames, original.categoryNames)
        XCTAssertEqual(decoded.categoryIndices, original.categoryIndices)
        XCTAssertEqual(decoded.exampleWeights, original.exampleWeights)
        XCTAssertEqual(decoded.margins, original.margins)
        XCTAssertEqual(decoded.splits, original.splits)
        XCTAssertEqual(decoded.ids, original.ids)
        XCTAssertEqual(decoded.groupFieldKeys, original.groupFieldKeys)
        XCTAssertEqual(decoded.sources, original.sources)
        XCTAssertEqual(decoded.files, original.files)
    }

    func test_a_truncated_or_altered_file_is_refused_or_safe_never_a_trap() throws {
        let original = try dataset()
        let bytes = CachedMetadata.encode(original)
        for length in 0..<bytes.count {
            XCTAssertThrowsError(try CachedMetadata.decode(Array(bytes[..<length]), pairs: original.count), "\(length) bytes")
        }
        XCTAssertThrowsError(try CachedMetadata.decode(bytes, pairs: original.count + 1))
        XCTAssertThrowsError(try CachedMetadata.decode(bytes, pairs: Int(Int32.max)))
        for index in bytes.indices {
            for flip: UInt8 in [0x01, 0x80, 0xFF] {
                var altered = bytes
                altered[index] ^= flip
                guard let decoded = try? CachedMetadata.decode(altered, pairs: original.count) else { continue }
                XCTAssertTrue(decoded.categoryIndices.allSatisfy { Int($0) < decoded.categoryNames.count }, "byte \(index)")
                XCTAssertTrue(decoded.sources.allSatisfy { Int($0.file) < decoded.files.count }, "byte \(index)")
                XCTAssertEqual(decoded.count, original.count)
                _ = decoded.categoryCounts
            }
        }
    }
}
