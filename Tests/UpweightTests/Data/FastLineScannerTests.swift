import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightData

/// The fast paths must agree with jansson exactly where they accept a line — the same record, or
/// the same error — and hand every other line to jansson.
final class FastLineScannerTests: XCTestCase {
    var shape = InputShape.dense
    var fields = FieldNames()
    var decoder: PairDecoder { PairDecoder(file: "F", fields: fields, shape: shape) }
    var scanner: FastLineScanner { FastLineScanner(decoder: decoder) }

    /// The scanner's outcome with a text pair's texts put back into its record from the text buffer,
    /// checking that a line it does not accept leaves nothing in the buffer.
    func scan(_ buffer: UnsafeRawBufferPointer) -> Result<PairRecord, DataError>? {
        var texts = PairTexts()
        let outcome = scanner.scan(buffer, number: 1, texts: &texts)
        guard case .success(var record)? = outcome, shape.isText else {
            XCTAssertEqual(texts.mark, 0, "a line not accepted left bytes in the text buffer")
            XCTAssertEqual(texts.count, 0)
            return outcome
        }
        XCTAssertEqual(texts.count, 1)
        XCTAssertEqual([record.prompt, record.chosen, record.rejected], ["", "", ""], "texts left in the record")
        let columns = texts.columns
        (record.prompt, record.chosen, record.rejected) = (columns.prompts[0], columns.chosen[0], columns.rejected[0])
        return .success(record)
    }

    /// The fast path's record (nil: handed to jansson, or a fast-path error — which must equal the
    /// decoder's error on jansson's tree), and the jansson path's record or error.
    func bothPaths(_ line: String) -> (fast: PairRecord?, full: Result<PairRecord, DataError>) {
        let bytes = Array(line.utf8)
        return bytes.withUnsafeBytes { buffer in
            let full: Result<PairRecord, DataError>
            switch Result(catching: { () throws(JSONSyntaxError) in try JSONParser.parse(buffer) }) {
            case .success(let value):
                do { full = .success(try decoder.decode(value, line: 1, bytes: buffer)) } catch { full = .failure(error as! DataError) }
            case .failure(let error):
                full = .failure(DataError(file: "F", line: 1, column: error.column, message: error.message, reason: "invalid JSON"))
            }
            var fast: PairRecord?
            switch scan(buffer) {
            case .success(let record)?: fast = record
            case .failure(let error)?:
                if case .failure(let expected) = full, expected.reason != "invalid JSON" {
                    XCTAssertEqual(error, expected, line)
                } else {
                    XCTFail("fast path failed a line jansson's path judges differently: \(line)")
                }
            case nil: break
            }
            return (fast, full)
        }
    }

    func assertAgree(_ line: String, file: StaticString = #filePath, lineNumber: UInt = #line) {
        let (fast, full) = bothPaths(line)
        guard let fast else { return }  // handed to jansson: nothing to compare
        guard case .success(let expected) = full else {
            return XCTFail("fast path accepted a line jansson rejects: \(line)", file: file, line: lineNumber)
        }
        XCTAssertEqual(fast.chosenFeatures.map(\.bitPattern), expected.chosenFeatures.map(\.bitPattern), line, file: file, line: lineNumber)
        XCTAssertEqual(fast.rejectedFeatures.map(\.bitPattern), expected.rejectedFeatures.map(\.bitPattern), line, file: file, line: lineNumber)
        XCTAssertEqual(fast.id, expected.id, file: file, line: lineNumber)
        XCTAssertEqual(fast.category, expected.category, file: file, line: lineNumber)
        XCTAssertEqual(fast.weight.bitPattern, expected.weight.bitPattern, file: file, line: lineNumber)
        XCTAssertEqual(fast.margin.bitPattern, expected.margin.bitPattern, file: file, line: lineNumber)
        XCTAssertEqual(fast.split, expected.split, file: file, line: lineNumber)
        XCTAssertEqual(fast.group, expected.group, file: file, line: lineNumber)
        XCTAssertEqual(fast.prompt, expected.prompt, file: file, line: lineNumber)
        XCTAssertEqual(fast.chosen, expected.chosen, file: file, line: lineNumber)
        XCTAssertEqual(fast.rejected, expected.rejected, file: file, line: lineNumber)
        XCTAssertEqual(fast.warning, expected.warning, file: file, line: lineNumber)
    }

    func test_special_bytes_at_every_offset_of_the_eight_byte_scan_agree() {
        shape = .explicit
        // Each special byte (escape, quote, control, multi-byte UTF-8, invalid UTF-8) at offsets 0…17
        // of a string, so that it falls in every lane of the 8-byte words and in the byte-wise tail.
        let specials = ["\\n", "\\\"", "\\\\", "\\u00e9", "\u{01}", "\t", "é", "日本", "🙂", "\u{7F}", "~"]
        for special in specials {
            for offset in 0...17 {
                for tail in [0, 1, 9] {
                    let text = String(repeating: "a", count: offset) + special + String(repeating: "b", count: tail)
                    assertAgree("{\"chosen\": \"\(text)\", \"rejected\": \"x\"}")
                }
            }
        }
        // Invalid UTF-8 in the middle of a word: jansson rejects it, and so must the fast path.
        for offset in 0...17 {
            var bytes = Array("{\"chosen\": \"".utf8) + Array(repeating: UInt8(ascii: "a"), count: offset) + [0xC3, 0x28]
            bytes += Array("aaaaaaaaa\", \"rejected\": \"x\"}".utf8)
            bytes.withUnsafeBytes { buffer in
                if case .success? = scan(buffer) { XCTFail("accepted invalid UTF-8 at offset \(offset)") }
            }
        }
    }

    func test_text_lines_with_escapes_and_unicode_agree() {
        for shape in [InputShape.explicit, .implicit] {
            self.shape = shape
            let lines = [
                #"{"prompt":"p","chosen":"a \"quoted\" \\ back\/slash\n\t\r\b\f","rejected":"b","category":"c","weight":2,"margin":0.5,"id":3}"#,
                #"{"prompt":"日本語","chosen":"emoji \ud83d\ude00 and é \u00e9 \u20AC","rejected":"z","extra":true,"more":null,"n":-1.5e3}"#,
                #"{"chosen":"\n\nHuman: hi\n\nAssistant: yes","rejected":"\n\nHuman: hi\n\nAssistant: no"}"#,
                #"{"prompt":"p","chosen":"same","rejected":"same"}"#,
                #"{"prompt":"p","chosen":"","rejected":"x"}"#,
                #"{"prompt":"p","chosen":"","rejected":""}"#,
                #"{"prompt":"p","chosen":"a","rejected":"b","weight":-1}"#,
                #"{"prompt":"p","chosen":"a","rejected":"b","category":7}"#,
                #"{"prompt":"p","chosen":"a"}"#,
                #"{"prompt":"p","chosen":"a","rejected":"b","weight":"2"}"#,
                #"{"prompt":"p","chosen":"a","rejected":"b","weight":null,"margin":null,"id":null,"category":null,"split":null}"#,
                #"{"prompt":"p","chosen":"a","rejected":"b","split":5}"#,
                #"{"prompt":"p","chosen":"a","rejected":"b","id":2.5}"#,
                #"{"prompt":"p","chosen":"a","rejected":"b","id":true}"#,
                #"{"prompt":"p","chosen":"a","rejected":"b","margin":"x"}"#,
                #"{"prompt":"p","chosen":"a","rejected":"b","chosen_features":[1]}"#,
                #"{"prompt":7,"chosen":"a","rejected":"b"}"#,
                #"{"chosen":"a","rejected":"b","prompt":"p","split":"test","id":"x","category":"c"}"#,
                #"{"prompt":"p","chosen":"été","rejected":"été"}"#,
            ]
            var fast = 0
            for line in lines {
                if bothPaths(line).fast != nil { fast += 1 }
                assertAgree(line)
            }
            XCTAssertGreaterThanOrEqual(fast, 7, "\(shape)")  // the valid pairs, at least
        }
    }

    func test_text_lines_jansson_must_judge_are_handed_over() {
        shape = .explicit
        for line in [#"{"prompt":"p","chosen":"a\ud800","rejected":"b"}"#, #"{"prompt":"p","chosen":"a\udc00x","rejected":"b"}"#,
                     #"{"prompt":"p","chosen":"a\u0000","rejected":"b"}"#, #"{"prompt":"p","chosen":"a\x","rejected":"b"}"#,
                     #"{"prompt":"p","chosen":"a","rejected":"b","tags":["x"]}"#, #"{"prompt":"p","chosen":"a","chosen":"b","rejected":"c"}"#,
                     #"{"prompt":"p","chosen":"a","rejected":"b",}"#, #"{"prompt":"p","chosen":"a","rejected":"b"} x"#] {
            let bytes = Array(line.utf8)
            bytes.withUnsafeBytes { XCTAssertNil(scan($0), line) }
        }
    }

    func test_ordinary_lines_take_the_fast_path_and_agree() {
        let line = #"{"id":"p1","category":"safety","split":"train","weight":1.25,"margin":-0.5,"chosen_features":[0.1,-2,3.5e-3,1E5],"rejected_features":[0,-0.0,7,12345.678901234567]}"#
        XCTAssertNotNil(bothPaths(line).fast)
        assertAgree(line)
        assertAgree(#"  { "id" : 7 , "chosen_features" : [ 1 , 2 ] , "rejected_features":[3,4] }  "#)
        assertAgree(#"{"id":-0,"chosen_features":[-0],"rejected_features":[0]}"#)
        // null is "absent" to the decoder (weight 1, margin 0, no id, the default category), so also here.
        let nulls = #"{"chosen_features":[1],"rejected_features":[1],"weight":null,"margin":null,"id":null,"category":null}"#
        XCTAssertNotNil(bothPaths(nulls).fast)
        assertAgree(nulls)
        XCTAssertNotNil(bothPaths(#"{"chosen_features":[1],"rejected_features":[1],"category":"a\u0062"}"#).fast)
        assertAgree(#"{"chosen_features":[1],"rejected_features":[1],"category":"a\u0062"}"#)
    }

    /// Every metadata field with every kind of scalar value, in both shapes the fast path reads, and
    /// with the group read from the id field: the fast path accepts exactly the values the decoder
    /// accepts (one rule, `PairRecord.read`) and hands the rest over for the decoder to word.
    func test_metadata_values_are_judged_alike_on_both_paths() {
        let values = [#""s""#, "7", "-3", "2.5", "true", "null", "[1]", #"{"a":1}"#]
        for (shape, responses) in [(InputShape.dense, #""chosen_features":[1],"rejected_features":[2]"#),
                                   (InputShape.explicit, #""prompt":"p","chosen":"a","rejected":"b""#)] {
            self.shape = shape
            for group in [nil, "id"] {
                fields.group = group
                for field in ["id", "category", "split", "weight", "margin"] {
                    for value in values {
                        let line = "{\(responses),\"\(field)\":\(value)}"
                        let (fast, full) = bothPaths(line)
                        let scalar = !value.hasPrefix("[") && !value.hasPrefix("{")
                        if case .success = full, scalar {
                            XCTAssertNotNil(fast, "a valid scalar was handed over: \(line)")
                        }
                        if fast != nil, case .failure(let error) = full {
                            XCTFail("fast path accepted what the decoder refuses (\(error)): \(line)")
                        }
                        assertAgree(line)
                    }
                }
            }
        }
        fields.group = nil
    }

    func test_random_number_spellings_agree_bit_for_bit() {
        var generator = SplitMix64(seed: 2024)
        var numbers: [String] = []
        for _ in 0..<3000 {
            let digits = 1 + Int(generator.next() % 25)
            var mantissa = (0..<digits).map { _ in String(generator.next() % 10) }.joined()
            while mantissa.count > 1 && mantissa.hasPrefix("0") { mantissa.removeFirst() }
            var text = (generator.next() % 2 == 0 ? "-" : "") + mantissa
            if generator.next() % 2 == 0, mantissa.count > 1 {
                let point = 1 + Int(generator.next() % UInt64(mantissa.count - 1))
                text = (text.hasPrefix("-") ? "-" : "") + String(mantissa.prefix(point)) + "." + String(mantissa.dropFirst(point))
            }
            if generator.next() % 3 == 0 { text += (generator.next() % 2 == 0 ? "e" : "E") + ["", "+", "-"][Int(generator.next() % 3)] + String(generator.next() % 60) }
            numbers.append(text)
        }
        numbers += ["0", "-0", "0.0", "-0.0", "1e-400", "4.9e-324", "3.4028235e38", "3.5e38", "1e39", "9007199254740993",
                    "123456789012345678901234567890", "0.1", "0.30000000000000004", "2.2250738585072014e-308"]
        var accepted = 0
        for chunk in stride(from: 0, to: numbers.count, by: 8) {
            let values = numbers[chunk..<min(chunk + 8, numbers.count)].joined(separator: ",")
            let line = #"{"chosen_features":[\#(values)],"rejected_features":[\#(values)]}"#
            if bothPaths(line).fast != nil { accepted += 1 }
            assertAgree(line)
        }
        // Many of these lines hold a number beyond Float32 or Int64 and go to jansson whole; the rest
        // (about 40 lines, 300+ numbers, including strtod's long-mantissa path) are compared.
        XCTAssertGreaterThan(accepted, 30)
    }

    func test_typical_embedding_text_always_takes_the_fast_path() {
        var generator = SplitMix64(seed: 9)
        for _ in 0..<200 {
            // What Python's json.dumps writes for float32 embeddings (17 significant digits), and rounded values.
            let values = (0..<16).map { index -> String in
                let value = (generator.nextUnit() * 2 - 1) * pow(10, Double(Int(generator.next() % 7)) - 3)
                return index % 2 == 0 ? "\(value)" : fixed(value, 4)
            }.joined(separator: ", ")
            let line = #"{"id": "x", "category": "c", "chosen_features": [\#(values)], "rejected_features": [\#(values)]}"#
            XCTAssertNotNil(bothPaths(line).fast, line)
            assertAgree(line)
        }
    }

    func test_everything_unusual_is_handed_to_jansson() {
        let handedOver = [
            #"{"chosen_features":[01],"rejected_features":[1]}"#,            // leading zero: invalid JSON
            #"{"chosen_features":[1.],"rejected_features":[1]}"#,            // bare point
            #"{"chosen_features":[.5],"rejected_features":[1]}"#,
            #"{"chosen_features":[+1],"rejected_features":[1]}"#,
            #"{"chosen_features":[1e],"rejected_features":[1]}"#,
            #"{"chosen_features":[NaN],"rejected_features":[1]}"#,
            #"{"chosen_features":[1e400],"rejected_features":[1]}"#,          // overflow: jansson's error
            #"{"chosen_features":[1],"rejected_features":[1],"weight":-1}"#,  // the decoder's error
            #"{"chosen_features":[1],"rejected_features":[1,2]}"#,
            #"{"chosen_features":[],"rejected_features":[]}"#,
            #"{"chosen_features":[1],"chosen_features":[2],"rejected_features":[1]}"#,  // duplicate key
            #"{"chosen_features":[1],"rejected_features":[1]} x"#,
            #"{"chosen_features":[1],"rejected_features":[1e39]}"#,            // beyond Float32
            "{\"chosen_features\":[1],\"rejected_features\":[1],\"category\":\"\u{1}\"}",
        ]
        for line in handedOver {
            XCTAssertNil(bothPaths(line).fast, line)
            assertAgree(line)
        }
        let invalidUTF8: [UInt8] = Array(#"{"chosen_features":[1],"rejected_features":[1],"category":""#.utf8) + [0xC0, 0x80] + Array(#""}"#.utf8)
        invalidUTF8.withUnsafeBytes { XCTAssertNil(scan($0)) }
        shape = .explicit
        let invalidText: [UInt8] = Array(#"{"prompt":"p","chosen":"a"#.utf8) + [0xED, 0xA0, 0x80] + Array(#"","rejected":"b"}"#.utf8)
        invalidText.withUnsafeBytes { XCTAssertNil(scan($0)) }
    }
}
