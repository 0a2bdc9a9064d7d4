import UpweightSupport
import UpweightIO
import UpweightWeighting

/// One config value and the name to blame when it is wrong.
package struct ConfigValue {
    package let value: JSONValue
    package let name: String

    private func wrong(_ expected: String) -> UsageError {
        UsageError("\(name): expected \(expected), got \(Self.describe(value))")
    }

    /// A value as a message quotes it: strings in quotes, numbers as people write them.
    package static func describe(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): return "\"\(text)\""
        // Only a flag can carry these (JSON has none): say what was typed, not JSON's null.
        case .number(let number) where !number.isFinite: return number.isNaN ? "nan" : number > 0 ? "inf" : "-inf"
        case .number(let number): return Self.text(number)
        case .integer, .bool, .null: return value.compactText
        default: return value.typeName
        }
    }

    package func number(atLeast lower: Double = -.infinity, above: Double? = nil, below upper: Double = .infinity,
                atMost largest: Double = .infinity) throws -> Double {
        guard let number = value.numberValue, number.isFinite, number >= lower, number < upper, number <= largest,
              above.map({ number > $0 }) ?? true
        else {
            // A half-open range such as (0, 1] is named whole; otherwise past the upper bound, the
            // range; below the lower one, the bound alone ("≥ 0").
            if let above, largest < .infinity {
                throw wrong("a number > \(JSONValue.format(above)) and ≤ \(Self.text(largest))")
            }
            if largest < .infinity, let number = value.numberValue, !(number <= largest) {
                throw wrong("a number from \(Self.text(lower)) to \(Self.text(largest))")
            }
            var bounds = "a number"
            if let above { bounds += " > \(JSONValue.format(above))" }
            if lower > -.infinity { bounds += " ≥ \(JSONValue.format(lower))" }
            if upper < .infinity { bounds += " and < \(JSONValue.format(upper))" }
            throw wrong(bounds)
        }
        return number
    }

    /// A number as people write it: "1e6", "1e308", "0.5" (not "1000000" or "1e+308").
    package static func text(_ number: Double) -> String {
        if number >= 1e5, number.isFinite, case let exponent = log10(number).rounded(), pow(10, exponent) == number {
            return "1e\(Int(exponent))"
        }
        return JSONValue.format(number).replacing("e+", with: "e")
    }

    package func integer(in range: ClosedRange<Int>) throws -> Int {
        guard case .integer(let number) = value, range.contains(Int(number)) else {
            throw wrong(range.upperBound == .max ? "a whole number ≥ \(range.lowerBound)"
                        : "a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return Int(number)
    }

    package func boolean() throws -> Bool {
        guard case .bool(let flag) = value else { throw wrong("true or false") }
        return flag
    }

    package func string() throws -> String {
        guard case .string(let text) = value else { throw wrong("a string") }
        return text
    }

    package func nonEmptyString() throws -> String {
        guard case .string(let text) = value, !text.isEmpty else { throw wrong("\"prompt\", \"none\" or a field name") }
        return text
    }

    package func strings() throws -> [String] {
        if case .string(let text) = value { return [text] }
        guard case .array(let items) = value, let texts = Optional(items.compactMap(\.stringValue)),
              texts.count == items.count
        else { throw wrong("a string or a list of strings") }
        return texts
    }

    package func choice(_ options: [String]) throws -> String {
        guard case .string(let text) = value, options.contains(text) else {
            throw wrong("one of " + options.map { "\"\($0)\"" }.joined(separator: ", "))
        }
        return text
    }

    package func choice<Choice: RawRepresentable & CaseIterable>(_ type: Choice.Type) throws -> Choice where Choice.RawValue == String {
        Choice(rawValue: try choice(Choice.allCases.map(\.rawValue)))!
    }

    /// A size: bytes as a number, or "512M", "8G".
    package func byteCount() throws -> Int {
        if let bytes = value.wholeNumber(in: 1...Int.max) { return bytes }
        guard case .string(let text) = value, let bytes = MemoryBudget.parse(text) else { throw wrong("a size such as 512M or 8G") }
        return bytes
    }

    /// Hidden widths: `[256, 128]` or `"256,128"`, each from 1 to 65536.
    package func widths() throws -> [Int] {
        var numbers: [Int]?
        switch value {
        case .string(let text): numbers = text.split(separator: ",").map { Int($0.trimmingCharacters()) ?? 0 }
        case .array(let items): numbers = items.map { if case .integer(let n) = $0 { return Int(n) } else { return 0 } }
        case .integer(let n): numbers = [Int(n)]
        default: break
        }
        guard let numbers, !numbers.isEmpty, numbers.allSatisfy({ (1...65536).contains($0) }) else {
            throw wrong("hidden widths such as 256 or 256,128")
        }
        return numbers
    }

    package func categoryScheme() throws -> CategoryScheme {
        guard case .string(let text) = value, let scheme = CategoryScheme(text) else {
            throw wrong("none, balanced, sqrt or effective:BETA with 0 ≤ BETA < 1")
        }
        return scheme
    }

    /// `"LO,HI"` or `[LO, HI]` with 0 ≤ LO ≤ HI.
    package func bounds() throws -> ClosedRange<Double> {
        var numbers: [Double]?
        switch value {
        case .string(let text): numbers = text.split(separator: ",").compactMap { Double($0.trimmingCharacters()) }
        case .array(let items): numbers = items.compactMap(\.numberValue)
        default: break
        }
        guard let numbers, numbers.count == 2, numbers[0] >= 0, numbers[0] <= numbers[1], numbers[1].isFinite else {
            throw wrong("LO,HI with 0 ≤ LO ≤ HI")
        }
        return numbers[0]...numbers[1]
    }

    /// `{"safety": 3, "math": 0.5}`, or the command line's `["safety=3", "math=0.5"]`: finite
    /// factors ≥ 0 per category name.
    package func categoryFactors() throws -> [String: Double] {
        var members: [(String, JSONValue)] = []
        switch value {
        case .object(let object): members = Array(object.members)
        case .array(let items):
            for item in items {
                let parts = item.stringValue?.split(separator: "=") ?? []
                guard parts.count == 2, let factor = Double(parts[1]) else {
                    throw UsageError("\(name) expects CATEGORY=FACTOR, got \(Self.describe(item))")
                }
                members.append((String(parts[0]), .number(factor)))
            }
        default: throw wrong("an object of category: factor")
        }
        var factors: [String: Double] = [:]
        for (category, factor) in members {
            factors[category] = try ConfigValue(value: factor, name: "\(name) (category \"\(category)\")")
                .number(atLeast: 0, atMost: TrainingConfiguration.largestStrength)
        }
        return factors
    }
}

extension Substring {
    package func trimmingCharacters() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
