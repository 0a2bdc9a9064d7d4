// The JSON boundary: the only Swift file that imports jansson. It turns bytes into `JSONValue`s;
// no jansson type leaves this file. Writing JSON is plain Swift (JSONWriter.swift).
private import CJansson

/// A parsed JSON value. Integers and reals stay apart so that a config can insist on a whole number.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The numeric value of an integer or a real; nil for every other type.
    public var numberValue: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .number(let value): return value
        default: return nil
        }
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The name of the value's JSON type, for error messages ("expected a number, got a string").
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer, .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A JSON object that keeps its members in file order (jansson iterates in insertion order).
///
/// - Complexity: lookup and insertion O(1) on average: past a few members an index from key to
///   position is kept (a linear search made a 100k-key line take minutes); removal is O(n).
public struct JSONObject: Sendable, Equatable {
    public private(set) var keys: [String] = []
    public private(set) var values: [JSONValue] = []
    /// Key → position in `keys`, once the object has more members than a linear search handles well.
    private var positions: [String: Int]?
    private static let indexedFrom = 16

    public init() {}

    public init(_ members: [(String, JSONValue)]) {
        for (key, value) in members { self[key] = value }
    }

    public var count: Int { keys.count }

    public subscript(key: String) -> JSONValue? {
        get { position(of: key).map { values[$0] } }
        set {
            if let index = position(of: key) {
                if let newValue { values[index] = newValue } else {
                    keys.remove(at: index)
                    values.remove(at: index)
                    positions = nil
                    buildIndex()
                }
            } else if let newValue {
                keys.append(key)
                values.append(newValue)
                positions?[key] = keys.count - 1
                if positions == nil && keys.count > Self.indexedFrom { buildIndex() }
            }
        }
    }

    public var members: Zip2Sequence<[String], [JSONValue]> { zip(keys, values) }

    /// Members in order are what makes two objects equal; the index follows from them.
    public static func == (left: JSONObject, right: JSONObject) -> Bool {
        left.keys == right.keys && left.values == right.values
    }

    private func position(of key: String) -> Int? {
        if let positions { return positions[key] }
        return keys.firstIndex(of: key)
    }

    private mutating func buildIndex() {
        guard keys.count > Self.indexedFrom else { return }
        positions = Dictionary(uniqueKeysWithValues: zip(keys, keys.indices))
    }
}

/// jansson's own diagnosis of text that is not JSON. `line` and `column` are 1-based; the column
/// counts code points and points at the end of the offending token, as jansson reports it.
public struct JSONSyntaxError: Error, Sendable, Equatable {
    public var message: String
    public var line: Int
    public var column: Int
}

public enum JSONParser {
    /// Parses one JSON document. Duplicate keys are rejected (jansson would otherwise keep the last
    /// value silently), `\u0000` is rejected, and any top-level value is accepted so that callers
    /// can say "expected an object" in their own words.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> JSONValue {
        var error = json_error_t()
        let flags = Int(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY)
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self),
              let root = json_loadb(base, bytes.count, flags, &error)
        else {
            if bytes.isEmpty { throw JSONSyntaxError(message: "empty document", line: 1, column: 1) }
            throw JSONSyntaxError(message: errorText(error), line: max(1, Int(error.line)),
                                  column: max(1, Int(error.column)))
        }
        defer { json_decref(root) }
        return convert(root)
    }

    /// Parses the document in `bytes` (UTF-8), as above.
    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        let result = bytes.withUnsafeBytes { buffer in Result { () throws(JSONSyntaxError) in try parse(buffer) } }
        return try result.get()
    }

    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    private static func errorText(_ error: json_error_t) -> String {
        let text = withUnsafeBytes(of: error.text) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        // Say it in the user's terms, not in jansson's flag names.
        return text.replacing(" without JSON_ALLOW_NUL", with: " in a string")
    }

    /// Copies a jansson tree into Swift values. Strings are copied with their byte length (they may
    /// not outlive the document, and `strlen` would be wrong for no reason).
    private static func convert(_ value: UnsafeMutablePointer<json_t>) -> JSONValue {
        switch upweight_json_typeof(value) {
        case Int32(JSON_OBJECT.rawValue):
            var object = JSONObject()
            var iterator = json_object_iter(value)
            while let current = iterator {
                let keyLength = json_object_iter_key_len(current)
                let keyPointer = json_object_iter_key(current)!
                let key = String(decoding: UnsafeRawBufferPointer(start: keyPointer, count: keyLength),
                                 as: UTF8.self)
                object[key] = convert(json_object_iter_value(current))
                iterator = json_object_iter_next(value, current)
            }
            return .object(object)
        case Int32(JSON_ARRAY.rawValue):
            let count = json_array_size(value)
            var items: [JSONValue] = []
            items.reserveCapacity(count)
            for index in 0..<count { items.append(convert(json_array_get(value, index))) }
            return .array(items)
        case Int32(JSON_STRING.rawValue):
            let length = json_string_length(value)
            let pointer = json_string_value(value)!
            return .string(String(decoding: UnsafeRawBufferPointer(start: pointer, count: length),
                                  as: UTF8.self))
        case Int32(JSON_INTEGER.rawValue):
            return .integer(Int64(json_integer_value(value)))
        case Int32(JSON_REAL.rawValue):
            return .number(json_real_value(value))
        case Int32(JSON_TRUE.rawValue):
            return .bool(true)
        case Int32(JSON_FALSE.rawValue):
            return .bool(false)
        default:
            return .null
        }
    }
}
