import Foundation
import Upweight
import XCTest
@testable import UpweightSupport
@testable import UpweightData

final class TextHasherTests: XCTestCase {
    static let fixturePath = TestSupport.fixture("hashing/expected.jsonl")

    struct FixtureRow {
        let text: String
        let hashBits: Int
        let indices: [Int32]
        let values: [Double]
    }

    static func loadFixture() throws -> [FixtureRow] {
        let data = try String(contentsOfFile: fixturePath, encoding: .utf8)
        return try data.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return FixtureRow(
                text: object["text"] as! String,
                hashBits: object["hash_bits"] as! Int,
                indices: (object["indices"] as! [NSNumber]).map { $0.int32Value },
                values: (object["values"] as! [NSNumber]).map { $0.doubleValue })
        }
    }

    func row(_ text: String, hashBits: Int = 18) -> (indices: [Int32], values: [Float]) {
        var indices: [Int32] = [], values: [Float] = []
        let count = TextHasher(hashBits: hashBits).appendRow(of: text, indices: &indices, values: &values)
        XCTAssertEqual(count, indices.count)
        return (indices, values)
    }

    /// The row for already-tokenized terms, built independently of TextHasher's tokenizer and merge.
    func expectedRow(terms: [String], hashBits: Int = 18) -> (indices: [Int32], values: [Float]) {
        var counts: [Int32: Double] = [:]
        for term in terms {
            let h = Int32(bitPattern: Array(term.utf8).withUnsafeBytes { murmurHash3x86_32($0) })
            let column = h == .min ? 0 : abs(h) % Int32(1 << hashBits)
            counts[column, default: 0] += h >= 0 ? 1 : -1
        }
        let norm = counts.values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let columns = counts.keys.sorted()
        return (columns, columns.map { Float(norm > 0 ? counts[$0]! / norm : 0) })
    }

    func testEveryFixtureLine() throws {
        let fixture = try Self.loadFixture()
        XCTAssertEqual(fixture.count, 188)
        var failures = 0
        var explicitZeros = 0
        for line in fixture {
            let (indices, values) = row(line.text, hashBits: line.hashBits)
            explicitZeros += line.values.filter { $0 == 0 }.count
            guard indices == line.indices else {
                failures += 1
                XCTFail("indices differ for \(line.hashBits) bits: \(line.text.debugDescription.prefix(80))")
                continue
            }
            for (got, want) in zip(values, line.values) where abs(got - Float(want)) > 1e-6 {
                failures += 1
                XCTFail("value \(got) != \(want) for \(line.hashBits) bits: \(line.text.debugDescription.prefix(80))")
                break
            }
        }
        XCTAssertEqual(failures, 0)
        XCTAssertGreaterThan(explicitZeros, 0, "the fixture keeps cancelled columns as explicit zeros")
    }

    func testMurmurHashKnownVectors() {
        // Checked with Python's mmh3.hash(bytes, seed, signed=False).
        let vectors: [(String, UInt32, UInt32)] = [
            ("", 0, 0), ("", 1, 0x514E_28B7), ("", 0xFFFF_FFFF, 0x81F1_6F39),
            ("a", 0, 0x3C25_69B2), ("ab", 0, 0x9BBF_D75F), ("abc", 0, 0xB3DD_93FA), ("abcd", 0, 0x43ED_676A),
            ("hello", 0, 0x248B_FA47), ("hello world", 0, 0x5E92_8F0F),
            ("The quick brown fox jumps over the lazy dog", 0, 0x2E4F_F723),
            ("aaaa", 0x9747_B28C, 0x5A97_808A), ("Hello, world!", 0x9747_B28C, 0x2488_4CBA),
            ("πππππππππ", 0x9747_B28C, 0x74EE_AC82),
        ]
        for (text, seed, expected) in vectors {
            let hash = Array(text.utf8).withUnsafeBytes { murmurHash3x86_32($0, seed: seed) }
            XCTAssertEqual(hash, expected, "\(text.debugDescription) seed \(seed)")
        }
    }

    func testTextsWithoutTokensGiveEmptyRows() {
        for text in ["", "a b c ! I", "!!! ??? ...", "Σ", "ﬀ ẞ", "x\u{200D}y"] {
            XCTAssertTrue(row(text).indices.isEmpty, text.debugDescription)
        }
        var indices: [Int32] = [7], values: [Float] = [0.5]
        XCTAssertEqual(TextHasher(hashBits: 4).appendRow(of: "a", indices: &indices, values: &values), 0)
        XCTAssertEqual(indices, [7])
        XCTAssertEqual(values, [0.5])
    }

    // Expected terms below are the output of sklearn 1.9.1's build_analyzer().
    func assertTerms(_ text: String, _ terms: [String], hashBits: Int = 18, line: UInt = #line) {
        let got = row(text, hashBits: hashBits), want = expectedRow(terms: terms, hashBits: hashBits)
        XCTAssertEqual(got.indices, want.indices, text.debugDescription, line: line)
        XCTAssertEqual(got.values, want.values, text.debugDescription, line: line)
    }

    func testGreekFinalSigma() {
        assertTerms("ΟΔΥΣΣΕΥΣ ΣΑΣ", ["οδυσσευς", "σας", "οδυσσευς σας"])
        // A period is case-ignorable: the first Σ is followed by a cased letter, the last one ends the text.
        assertTerms("ΑΣ.Σ", ["ασ"])
        // A combining acute is case-ignorable for the sigma rule but not \w, so it splits the word.
        assertTerms("ΑΣ\u{301} ΑΣ\u{301}Α", ["ας", "ασ", "ας ασ"])
    }

    func testCombiningMarksSplitWords() {
        assertTerms("nai\u{308}ve", ["nai", "ve", "nai ve"])
        assertTerms("naïve", ["naïve"])  // precomposed ï is a letter
        // İ lowercases to "i" + U+0307; the lone "i" is then too short to be a token.
        assertTerms("İstanbul", ["stanbul"])
    }

    func testWordCharacters() {
        assertTerms("_x x_ ab_cd", ["_x", "x_", "ab_cd", "_x x_", "x_ ab_cd"])
        assertTerms("٣٤ ²³ Ⅻ ½½ 一二", ["٣٤", "²³", "½½", "一二", "٣٤ ²³", "²³ ½½", "½½ 一二"])
        assertTerms("ǅemal", ["ǆemal"])
    }

    func testCollisionsCancelToExplicitZero() {
        // sklearn 1.9.1 with n_features=2 gives indices [0, 1], data [-1, 0] for "ab cd": sum_duplicates and
        // normalize never drop the cancelled column 1.
        let got = row("ab cd", hashBits: 1)
        XCTAssertEqual(got.indices, [0, 1])
        XCTAssertEqual(got.values, [-1, 0])
        let firstCancelled = row("the cat", hashBits: 1)  // sklearn: [0, 1], [0, 1]
        XCTAssertEqual(firstCancelled.indices, [0, 1])
        XCTAssertEqual(firstCancelled.values, [0, 1])
    }

}
