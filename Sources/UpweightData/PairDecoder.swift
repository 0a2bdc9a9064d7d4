import UpweightSupport
import UpweightIO

/// The names of the fields a JSONL line is read from (`--category-field subset` reads RewardBench).
public struct FieldNames: Sendable, Equatable {
    public var prompt = "prompt"
    public var chosen = "chosen"
    public var rejected = "rejected"
    public var category = "category"
    public var weight = "weight"
    public var margin = "margin"
    public var id = "id"
    public var split = "split"
    public var chosenFeatures = "chosen_features"
    public var rejectedFeatures = "rejected_features"
    /// A field whose value (a string or an integer) groups pairs (`Grouping.field(_:)`); nil: none read.
    public var group: String?
    public init() {}

    /// Refuses two roles read from one field (`--weight-field chosen`): the reader would take the
    /// chosen text for a weight, or the other way round, depending on the path a line takes.
    public func validate() throws {
        let defaults = FieldNames()
        let roles: [(flag: String?, name: String, isDefault: Bool)] = [
            ("--prompt-field", prompt, prompt == defaults.prompt), ("--chosen-field", chosen, chosen == defaults.chosen),
            ("--rejected-field", rejected, rejected == defaults.rejected),
            ("--category-field", category, category == defaults.category), ("--weight-field", weight, weight == defaults.weight),
            ("--margin-field", margin, margin == defaults.margin), ("--id-field", id, id == defaults.id),
            ("--split-field", split, split == defaults.split), (nil, chosenFeatures, true), (nil, rejectedFeatures, true),
        ]
        for later in roles.indices {
            for earlier in 0..<later where roles[earlier].name == roles[later].name {
                // The flag that was changed from its default comes first: it is the likelier mistake.
                let changedLater = roles[earlier].isDefault && !roles[later].isDefault
                let (first, second) = changedLater ? (roles[later], roles[earlier]) : (roles[earlier], roles[later])
                let firstFlag = first.flag ?? ""  // the dense fields come last, so never first
                guard let secondFlag = second.flag else {
                    throw UsageError("\(firstFlag) names \"\(first.name)\", the field of the dense features; give it another name")
                }
                throw UsageError("\(firstFlag) and \(secondFlag) both name the field \"\(first.name)\"; give one of them another name")
            }
        }
    }
}

/// The four shapes of input (docs/INPUT.md), detected from a file's first pair unless forced.
public enum InputShape: String, Sendable, CaseIterable {
    /// `prompt`, `chosen`, `rejected` strings (TRL's standard explicit-prompt form).
    case explicit
    /// `prompt`, `chosen`, `rejected` as lists of `{"role", "content"}` messages.
    case conversational
    /// `chosen`, `rejected` whole transcripts (Anthropic HH-RLHF); the prompt is their shared part.
    case implicit
    /// `chosen_features`, `rejected_features`: precomputed embeddings.
    case dense

    package var isText: Bool { self != .dense }

    package static func detect(_ object: JSONObject, fields: FieldNames) -> InputShape? {
        if object[fields.chosenFeatures] != nil { return .dense }
        switch object[fields.chosen] {
        case .array: return .conversational
        case .string: return object[fields.prompt] == nil ? .implicit : .explicit
        default: return nil
        }
    }
}

/// One line's pair, before it joins the columns of a `PreferenceDataset`.
package struct PairRecord: Sendable {
    package var line: Int
    package var id: String?
    package var category: String
    package var weight: Double
    package var margin: Double
    package var split: String?
    /// `groupHash(of:)` of the group field's value; 0 where there is none.
    package var group: UInt64 = 0
    package var prompt = ""
    package var chosen = ""
    package var rejected = ""
    package var chosenFeatures: [Float] = []
    package var rejectedFeatures: [Float] = []
    /// Problems that are counted and reported, not fatal: an empty response, identical responses.
    package var warning: String?
}

/// Turns one parsed line into a `PairRecord`, checking every value's type before reading it.
package final class PairDecoder: Sendable {
    package let file: String
    package let fields: FieldNames
    package let shape: InputShape

    // A class: every line's decoding (and its error closures) shares one reference instead of
    // copying the eleven strings of the file name and field names.
    package init(file: String, fields: FieldNames, shape: InputShape) {
        (self.file, self.fields, self.shape) = (file, fields, shape)
    }

    package func decode(_ value: JSONValue, line: Int, bytes: UnsafeRawBufferPointer) throws -> PairRecord {
        func fail(_ message: String, field: String? = nil, reason: String) -> DataError {
            let column = field.flatMap { FieldLocator.valueColumn(of: $0, in: bytes) } ?? 1
            return DataError(file: file, line: line, column: column, message: message, field: field, reason: reason)
        }
        guard case .object(let object) = value else {
            throw fail("expected a JSON object, got \(value.typeName)", reason: "not an object")
        }
        func wrongType(_ field: String, _ expected: String, _ got: JSONValue) -> DataError {
            fail("expected \(expected), got \(got.typeName)", field: field, reason: "wrong type")
        }

        var record = PairRecord(line: line, id: nil, category: "default", weight: 1, margin: 0, split: nil)
        for role in MetadataField.allCases {
            guard let field = fields.name(of: role), let value = object[field] else { continue }
            // By prompt, text pairs are grouped by the prompt they are read with, whatever their shape.
            if role == .group, shape != .dense, field == fields.prompt { continue }
            switch record.read(role, value) {
            case nil: break
            case .wrongType(let expected)?: throw wrongType(field, expected, value)
            case .invalid(let expected, let reason)?:
                throw fail("expected \(expected), got \(value.numberValue.map(JSONValue.format) ?? value.typeName)", field: field, reason: reason)
            }
        }

        let hasDense = object[fields.chosenFeatures] != nil || object[fields.rejectedFeatures] != nil
        if shape == .dense {
            guard hasDense || object[fields.chosen] == nil else {
                throw fail("expected dense features like the file's first pair, got text", field: fields.chosen,
                           reason: "mixed shapes")
            }
            record.chosenFeatures = try numbers(object, fields.chosenFeatures, fail)
            record.rejectedFeatures = try numbers(object, fields.rejectedFeatures, fail)
            if record.rejectedFeatures.count != record.chosenFeatures.count {
                throw fail("expected \(plural(record.chosenFeatures.count, "number", "numbers")) as in \(fields.chosenFeatures), got \(record.rejectedFeatures.count)",
                           field: fields.rejectedFeatures, reason: "dimension mismatch")
            }
            return record
        }
        guard !hasDense else {
            let field = object[fields.chosenFeatures] != nil ? fields.chosenFeatures : fields.rejectedFeatures
            throw fail("expected text like the file's first pair, got dense features", field: field, reason: "mixed shapes")
        }
        switch shape {
        case .explicit:
            record.prompt = try string(object, fields.prompt, fail)
            record.chosen = try string(object, fields.chosen, fail)
            record.rejected = try string(object, fields.rejected, fail)
        case .implicit:
            let split = TranscriptSplit(chosen: try string(object, fields.chosen, fail),
                                        rejected: try string(object, fields.rejected, fail))
            (record.prompt, record.chosen, record.rejected) = (split.prompt, split.chosen, split.rejected)
        case .conversational:
            let chosen = try messages(object, fields.chosen, fail)
            let rejected = try messages(object, fields.rejected, fail)
            var prompt: [Message]
            var sharedCount = 0
            if object[fields.prompt] != nil {
                prompt = try messages(object, fields.prompt, fail)
            } else {
                // Implicit conversational form: the prompt is the run of messages both sides share.
                while sharedCount < min(chosen.count, rejected.count) - 1, chosen[sharedCount] == rejected[sharedCount] {
                    sharedCount += 1
                }
                prompt = Array(chosen[..<sharedCount])
            }
            record.prompt = prompt.map(\.content).joined(separator: "\n")
            record.chosen = Message.responseText(chosen[sharedCount...])
            record.rejected = Message.responseText(rejected[sharedCount...])
        case .dense:
            break
        }
        if record.chosen.isEmpty && record.rejected.isEmpty {
            throw fail("chosen and rejected are both empty", field: fields.chosen, reason: "empty responses")
        }
        record.warning = Self.warning(chosenIsEmpty: record.chosen.isEmpty, rejectedIsEmpty: record.rejected.isEmpty,
                                      identical: record.chosen == record.rejected)
        return record
    }

    /// The warning a text pair gets (not both responses empty: that is an error): one empty
    /// response, or two identical ones. The fast path asks here too, so both word it alike.
    package static func warning(chosenIsEmpty: Bool, rejectedIsEmpty: Bool, identical: Bool) -> String? {
        if chosenIsEmpty || rejectedIsEmpty { return "empty response" }
        return identical ? "chosen identical to rejected" : nil
    }

    private typealias Fail = (String, String?, String) -> DataError

    private func string(_ object: JSONObject, _ field: String, _ fail: Fail) throws -> String {
        switch object[field] {
        case .string(let text)?: return text
        case nil: throw fail("missing required field", field, "missing field")
        case let other?: throw fail("expected a string, got \(other.typeName)", field, "wrong type")
        }
    }

    private func numbers(_ object: JSONObject, _ field: String, _ fail: Fail) throws -> [Float] {
        guard let value = object[field] else { throw fail("missing required field", field, "missing field") }
        guard case .array(let items) = value, !items.isEmpty else {
            let got = value == .array([]) ? "an empty array" : value.typeName
            throw fail("expected a non-empty array of numbers, got \(got)", field, "wrong type")
        }
        var result = [Float]()
        result.reserveCapacity(items.count)
        for (position, item) in items.enumerated() {
            guard let number = item.numberValue else {
                throw fail("element \(position) is \(item.typeName), expected a number", field, "wrong type")
            }
            let single = Float(number)
            guard single.isFinite else {
                throw fail("element \(position) (\(number)) is outside the Float32 range", field, "number out of range")
            }
            result.append(single)
        }
        return result
    }

    private func messages(_ object: JSONObject, _ field: String, _ fail: Fail) throws -> [Message] {
        guard let value = object[field] else { throw fail("missing required field", field, "missing field") }
        let expected = "a list of {\"role\", \"content\"} messages"
        guard case .array(let items) = value else { throw fail("expected \(expected), got \(value.typeName)", field, "wrong type") }
        var result: [Message] = []
        for (position, item) in items.enumerated() {
            guard case .object(let message) = item, case .string(let role)? = message["role"],
                  case .string(let content)? = message["content"]
            else {
                throw fail("message \(position) is not a {\"role\": string, \"content\": string} object", field, "wrong type")
            }
            result.append(Message(role: role, content: content))
        }
        return result
    }
}

/// A chat message of the conversational shape.
package struct Message: Equatable {
    package var role: String
    package var content: String

    /// The response text: the assistant messages' contents joined by newlines (all contents when no
    /// message is marked as the assistant's).
    package static func responseText(_ messages: ArraySlice<Message>) -> String {
        let assistant = messages.filter { $0.role == "assistant" }
        return (assistant.isEmpty ? Array(messages) : assistant).map(\.content).joined(separator: "\n")
    }
}
