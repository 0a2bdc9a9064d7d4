// Writes `JSONValue`s as text. Plain Swift: numbers use Swift's shortest round-trip form, so 0.1
// prints as 0.1 (jansson would print 0.10000000000000001), and output is byte-for-byte deterministic.

extension JSONValue {
    /// Compact JSON on one line (JSONL output).
    public var compactText: String {
        var output = ""
        write(to: &output, indent: nil, depth: 0)
        return output
    }

    /// Indented JSON with a final newline (config files, reports).
    public var prettyText: String {
        var output = ""
        write(to: &output, indent: "  ", depth: 0)
        output.append("\n")
        return output
    }

    private func write(to output: inout String, indent: String?, depth: Int) {
        switch self {
        case .null: output.append("null")
        case .bool(let value): output.append(value ? "true" : "false")
        case .integer(let value): output.append(String(value))
        case .number(let value): output.append(JSONValue.format(value))
        case .string(let value): JSONValue.writeString(value, to: &output)
        case .array(let items):
            if items.isEmpty { output.append("[]"); return }
            // Arrays of numbers stay on one line even when indented: they are vectors, not records.
            let inline = indent == nil || items.allSatisfy { $0.numberValue != nil }
            output.append("[")
            for (position, item) in items.enumerated() {
                if position > 0 { output.append(inline && indent != nil ? ", " : ",") }
                if !inline { JSONValue.newline(&output, indent, depth + 1) }
                item.write(to: &output, indent: indent, depth: depth + 1)
            }
            if !inline { JSONValue.newline(&output, indent, depth) }
            output.append("]")
        case .object(let object):
            if object.count == 0 { output.append("{}"); return }
            output.append("{")
            for (position, (key, value)) in object.members.enumerated() {
                if position > 0 { output.append(",") }
                JSONValue.newline(&output, indent, depth + 1)
                JSONValue.writeString(key, to: &output)
                output.append(indent == nil ? ":" : ": ")
                value.write(to: &output, indent: indent, depth: depth + 1)
            }
            JSONValue.newline(&output, indent, depth)
            output.append("}")
        }
    }

    private static func newline(_ output: inout String, _ indent: String?, _ depth: Int) {
        guard let indent else { return }
        output.append("\n")
        for _ in 0..<depth { output.append(indent) }
    }

    /// JSON has no NaN or infinity: they are written as null, which readers see as missing.
    package static func format(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    package static func writeString(_ value: String, to output: inout String) {
        output.append("\"")
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output.append("\\\"")
            case "\\": output.append("\\\\")
            case "\n": output.append("\\n")
            case "\r": output.append("\\r")
            case "\t": output.append("\\t")
            // C0 must be escaped; DEL, C1 and the line separators may be, and are, so that JSON
            // printed on a terminal cannot drive it (a C1 CSI starts an escape sequence on some).
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                output.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: output.unicodeScalars.append(scalar)
            }
        }
        output.append("\"")
    }
}

// Literals, so that reports and configs read as the JSON they produce.
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .integer(Int64(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }

    public init(_ value: Double) { self = .number(value) }
    public init(_ value: Int) { self = .integer(Int64(value)) }
    public init(_ value: String) { self = .string(value) }
    public init(_ values: [Double]) { self = .array(values.map { .number($0) }) }
    public init(_ values: [Float]) { self = .array(values.map { .number(Double($0)) }) }
}
