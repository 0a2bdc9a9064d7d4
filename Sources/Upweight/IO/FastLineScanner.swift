/// Fast paths for the common JSONL lines. jansson lexes a byte at a time and converts numbers with
/// `strtod` and a `localeconv()` call each (NOTES.md: ~35 MB/s per core on number arrays, ~68 MB/s
/// on text); these read the same lines several times faster.
///
/// Exactness by construction: a fast path accepts only a flat object it can read completely — keys
/// and string values (escapes included), numbers, `true`/`false`/`null`, and for dense files the two
/// feature arrays — and returns nil for anything else, which then takes the jansson path and gets
/// jansson's verdict and error position. So it never accepts what jansson rejects, strings decode to
/// the same text, and numbers come out bit for bit as jansson's (JSONCursor.number).
///
/// Text lines become the same `JSONValue` jansson's tree would, and go through the same
/// `PairDecoder`: one set of rules for both paths. Dense lines skip the tree: their numbers go
/// straight into Float32, and only fully valid pairs are built here.
struct FastLineScanner {
    let decoder: PairDecoder

    /// The line's outcome, or nil: "ask jansson".
    func scan(_ line: UnsafeRawBufferPointer, number: Int) -> Result<PairRecord, DataError>? {
        switch decoder.shape {
        case .dense: return dense(line, number: number).map { .success($0) }
        case .explicit, .implicit:
            guard let object = flatObject(line) else { return nil }
            do { return .success(try decoder.decode(.object(object), line: number, bytes: line)) } catch {
                return .failure(error as! DataError)
            }
        case .conversational: return nil  // lists of messages: jansson's path
        }
    }

    /// `{"key": value, ...}` whose values are strings, numbers or literals; nil for anything else.
    private func flatObject(_ line: UnsafeRawBufferPointer) -> JSONObject? {
        var cursor = JSONCursor(bytes: line)
        var object = JSONObject()
        let complete = members(&cursor) { key, cursor in
            guard object[key] == nil else { return false }  // a duplicate key: jansson rejects it
            guard let value = scalar(&cursor) else { return false }
            object[key] = value
            return true
        }
        return complete ? object : nil
    }

    private func scalar(_ cursor: inout JSONCursor) -> JSONValue? {
        switch cursor.peek {
        case UInt8(ascii: "\"")?: return cursor.string().map { .string($0) }
        case UInt8(ascii: "t")?, UInt8(ascii: "f")?, UInt8(ascii: "n")?: return cursor.literal()
        default:
            guard let (value, isInteger) = cursor.number() else { return nil }
            return isInteger ? .integer(Int64(value)) : .number(value)
        }
    }

    /// A valid dense pair read straight into Float32, or nil (including for every invalid pair, so
    /// that the decoder words the error).
    private func dense(_ line: UnsafeRawBufferPointer, number: Int) -> PairRecord? {
        let fields = decoder.fields
        var cursor = JSONCursor(bytes: line)
        var record = PairRecord(line: number, id: nil, category: "default", weight: 1, margin: 0, split: nil)
        var seen: Set<String> = []
        let complete = members(&cursor) { key, cursor in
            guard seen.insert(key).inserted else { return false }
            if key == fields.chosenFeatures || key == fields.rejectedFeatures {
                guard let values = cursor.floatArray() else { return false }
                if key == fields.chosenFeatures { record.chosenFeatures = values } else { record.rejectedFeatures = values }
                return true
            }
            guard let value = scalar(&cursor) else { return false }
            switch (key, value) {
            case (fields.id, .string(let text)): record.id = text
            case (fields.id, .integer(let integer)): record.id = String(integer)
            case (fields.category, .string(let text)): record.category = text
            case (fields.split, .string(let text)): record.split = text
            case (fields.weight, .integer), (fields.weight, .number):
                guard let weight = value.numberValue, weight >= 0 else { return false }
                record.weight = weight
            case (fields.margin, .integer), (fields.margin, .number): record.margin = value.numberValue!
            case (fields.id, _), (fields.category, _), (fields.weight, _), (fields.margin, _), (fields.split, _),
                 (fields.chosen, _):
                return false  // a null, a wrong type, or text in a dense file: the decoder's call
            default: break
            }
            return true
        }
        guard complete, !record.chosenFeatures.isEmpty, record.chosenFeatures.count == record.rejectedFeatures.count else { return nil }
        return record
    }

    /// Reads `{ "key": value, ... }` and nothing after it but whitespace, calling `member` with each
    /// key and the cursor at its value. False when anything is not as expected.
    private func members(_ cursor: inout JSONCursor, _ member: (String, inout JSONCursor) -> Bool) -> Bool {
        cursor.skipSpace()
        guard cursor.take(UInt8(ascii: "{")) else { return false }
        cursor.skipSpace()
        if cursor.take(UInt8(ascii: "}")) { cursor.skipSpace(); return cursor.atEnd }
        while true {
            guard let key = cursor.string() else { return false }
            cursor.skipSpace()
            guard cursor.take(UInt8(ascii: ":")) else { return false }
            cursor.skipSpace()
            guard member(key, &cursor) else { return false }
            cursor.skipSpace()
            if cursor.take(UInt8(ascii: ",")) { cursor.skipSpace(); continue }
            guard cursor.take(UInt8(ascii: "}")) else { return false }
            cursor.skipSpace()
            return cursor.atEnd
        }
    }
}
