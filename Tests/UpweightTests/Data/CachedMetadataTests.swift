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

    /// Streamed text's extra columns: the unit index and the text digests round-trip, and an index
    /// altered anywhere is refused by `validate` or still bounded by the rows file, never a trap.
    func test_text_units_and_digests_round_trip_and_a_forged_index_is_refused() throws {
        var original = try dataset()
        original.responses = .dense(dimension: 0, chosen: [], rejected: [])  // as streamed metadata holds them
        var digests = TextDigests()
        digests.append(prompts: TextColumn((0..<original.count).map { "prompt \($0 % 7)" }),
                       chosen: TextColumn((0..<original.count).map { "a longer chosen text \($0)" }),
                       rejected: TextColumn((0..<original.count).map { "rejected \($0)" }))
        original.textDigests = digests
        var units = SparseUnits()
        (units.firstPairs, units.wordStarts, units.entries) = ([0, 16, original.count], [0, 400, 900], [100, 150])
        try units.validate(pairs: original.count, words: 900)
        let bytes = CachedMetadata.encode(original, units: units)
        let (decoded, decodedUnits) = try CachedMetadata.decodeWithUnits(bytes, pairs: original.count)
        XCTAssertEqual(decoded.textDigests, digests)
        XCTAssertEqual(decodedUnits, units)
        XCTAssertTrue(decoded.isText)
        XCTAssertEqual(decoded.subset([3, 1]).textDigests, digests.subset([3, 1]))
        XCTAssertEqual(digests.lengthOrder, [Int8](repeating: 1, count: original.count))
        // Where the unit index starts: the dense encoding ends with seven empty columns (a count each).
        let tail = CachedMetadata.encode(try dataset()).count - 7 * 8
        for index in tail..<bytes.count {
            for flip: UInt8 in [0x01, 0x80, 0xFF] {
                var altered = bytes
                altered[index] ^= flip
                guard let (_, forged) = try? CachedMetadata.decodeWithUnits(altered, pairs: original.count), let forged,
                      (try? forged.validate(pairs: original.count, words: 900)) != nil else { continue }
                for unit in 0..<forged.count {
                    XCTAssertLessThanOrEqual(forged.wordStarts[unit] + forged.rowWords(of: unit), 900, "byte \(index)")
                }
            }
        }
    }
}
