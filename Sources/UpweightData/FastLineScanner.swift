import UpweightSupport
import UpweightIO

/// Fast paths for the common JSONL lines. jansson lexes a byte at a time and converts numbers with
/// `strtod` and a `localeconv()` call each (docs/SPEED.md#janssons-speed: ~35 MB/s per core on number arrays, ~68 MB/s
/// on text); these read the same lines several times faster.
///
/// Exactness by construction: a fast path accepts only a flat object it can read completely — keys
/// and string values (escapes included), numbers, `true`/`false`/`null`, and for dense files the two
/// feature arrays — and returns nil for anything else, which then takes the jansson path and gets
/// jansson's verdict and error position. So it never accepts what jansson rejects, strings decode to
/// the same text, and numbers come out bit for bit as jansson's (JSONCursor.number).
///
/// Valid explicit and dense pairs are built here directly: texts are decoded straight into the
/// thread's text buffer and numbers straight into Float32, with no JSON tree or `String` for them.
/// Any other line becomes the same `JSONValue` jansson's tree would and goes through `PairDecoder`,
/// which words every error: one set of rules for both paths.
package struct FastLineScanner {
    package let decoder: PairDecoder

    /// The line's outcome, or nil: "ask jansson". A text pair's texts are appended to `texts`.
    package func scan(_ line: UnsafeRawBufferPointer, number: Int, texts: inout PairTexts) -> Result<PairRecord, DataError>? {
        switch decoder.shape {
        case .dense: return dense(line, number: number).map { .success($0) }
        case .explicit, .implicit:
            if decoder.shape == .explicit, let record = explicit(line, number: number, texts: &texts) { return .success(record) }
            guard let object = flatObject(line) else { return nil }
            do {
                var record = try decoder.decode(.object(object), line: number, bytes: line)
                texts.take(from: &record)  // a text shape here
                return .success(record)
            } catch {
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

    /// A valid explicit pair, its texts decoded into `texts`; nil (with `texts` as it was) for
    /// anything else, including every invalid pair, so that the decoder words the error.
    private func explicit(_ line: UnsafeRawBufferPointer, number: Int, texts: inout PairTexts) -> PairRecord? {
        let fields = decoder.fields
        var cursor = JSONCursor(bytes: line)
        var record = PairRecord(line: number, id: nil, category: "default", weight: 1, margin: 0, split: nil)
        var prompt, chosen, rejected: TextColumn.Span?
        let mark = texts.mark
        let complete = members(&cursor) { key, cursor in
            let side = (key == fields.prompt, key == fields.chosen, key == fields.rejected)
            guard side.0 || side.1 || side.2 else { return metadata(key, &cursor, into: &record) }
            guard cursor.peek == UInt8(ascii: "\""), let span = texts.decode(&cursor) else { return false }
            if side.0 { prompt = span }
            if side.1 { chosen = span }
            if side.2 { rejected = span }
            return true
        }
        guard complete, let prompt, let chosen, let rejected, chosen.count + rejected.count > 0 else {
            texts.discard(after: mark)
            return nil
        }
        record.warning = PairDecoder.warning(chosenIsEmpty: chosen.count == 0, rejectedIsEmpty: rejected.count == 0,
                                             identical: texts.same(chosen, rejected))
        texts.append(prompt: prompt, chosen: chosen, rejected: rejected)
        return record
    }

    /// A valid dense pair read straight into Float32, or nil (including for every invalid pair, so
    /// that the decoder words the error).
    private func dense(_ line: UnsafeRawBufferPointer, number: Int) -> PairRecord? {
        let fields = decoder.fields
        var cursor = JSONCursor(bytes: line)
        var record = PairRecord(line: number, id: nil, category: "default", weight: 1, margin: 0, split: nil)
        let complete = members(&cursor) { key, cursor in
            guard key == fields.chosenFeatures || key == fields.rejectedFeatures else {
                return key != fields.chosen && metadata(key, &cursor, into: &record)  // text in a dense file: the decoder's call
            }
            guard let values = cursor.floatArray() else { return false }
            if key == fields.chosenFeatures { record.chosenFeatures = values } else { record.rejectedFeatures = values }
            return true
        }
        guard complete, !record.chosenFeatures.isEmpty, record.chosenFeatures.count == record.rejectedFeatures.count else { return nil }
        return record
    }

    /// Reads the scalar value of a key other than the responses into `record` by the decoder's
    /// rules (`PairRecord.read`); false for anything they refuse or that is not a scalar, and for
    /// the other shape's response fields, so that the decoder words the error.
    private func metadata(_ key: String, _ cursor: inout JSONCursor, into record: inout PairRecord) -> Bool {
        let fields = decoder.fields
        if key == fields.chosenFeatures || key == fields.rejectedFeatures { return false }  // mixed shapes
        guard let value = scalar(&cursor) else { return false }
        for role in MetadataField.allCases where fields.name(of: role) == key {
            guard record.read(role, value) == nil else { return false }
        }
        return true
    }

    /// Reads `{ "key": value, ... }` and nothing after it but whitespace, calling `member` with each
    /// key and the cursor at its value. False when anything is not as expected, including a key
    /// seen before (jansson rejects duplicates), so no caller has to check for them.
    private func members(_ cursor: inout JSONCursor, _ member: (String, inout JSONCursor) -> Bool) -> Bool {
        cursor.skipSpace()
        guard cursor.take(UInt8(ascii: "{")) else { return false }
        cursor.skipSpace()
        if cursor.take(UInt8(ascii: "}")) { cursor.skipSpace(); return cursor.atEnd }
        var seen = SeenKeys()
        while true {
            guard let key = cursor.string(), seen.insert(key) else { return false }
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

/// The keys of one object so far: a short list searched in place (most lines have a handful), a set
/// past that, so that a line of 100k keys is not a quadratic search.
private struct SeenKeys {
    private var few: [String] = []
    private var many: Set<String>?

    /// False when `key` was seen before.
    mutating func insert(_ key: String) -> Bool {
        if many != nil { return many!.insert(key).inserted }
        guard !few.contains(key) else { return false }
        few.append(key)
        if few.count > 16 { many = Set(few) }
        return true
    }
}
