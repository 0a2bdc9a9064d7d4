import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightData

/// The dataset's own operations: subsets, splits, fingerprints.
final class DatasetTests: XCTestCase {
    /// The memory-saving split gives exactly what two subsets would.
    func test_split_equals_two_subsets() throws {
        let dense = try TestSupport.read(paths: [TestSupport.fixture("linear-dense-margin/train.jsonl")])
        let text = try TestSupport.read(paths: [TestSupport.data("llmbar.jsonl")])
        let hashed = try PreferenceReader.read(paths: [TestSupport.data("llmbar.jsonl")],
                                               featurizingWith: .hashed(hashBits: 10, includePrompt: true)).0
        for original in [dense, text, hashed] {
            for (first, second) in [(Array(stride(from: 0, to: 400, by: 3)), [1, 5, 9]), ([7, 2, 5], [0, 1])] {
                var consumed = original
                let (a, b) = consumed.split(first, second)
                XCTAssertEqual(fingerprint(of: a), fingerprint(of: original.subset(first)))
                XCTAssertEqual(fingerprint(of: b), fingerprint(of: original.subset(second)))
                XCTAssertEqual(a.ids, original.subset(first).ids)
                // Hashed rows stay with their pairs (compacted in place for the first part).
                XCTAssertEqual(a.hashedTexts, original.subset(first).hashedTexts)
                XCTAssertEqual(b.hashedTexts, original.subset(second).hashedTexts)
                XCTAssertEqual(a.hashedTexts?.chosen.count, original.hashedTexts.map { _ in first.count })
                XCTAssertEqual(consumed.count, 0)
            }
        }
    }
}
