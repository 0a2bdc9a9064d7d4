import UpweightIO

/// The fields of a line besides the responses — id, category, split, group, weight, margin — and
/// the one rule for each value's type. The decoder and the fast scanner both read them through
/// `PairRecord.read(_:_:)`, so the two paths accept exactly the same values.
package enum MetadataField: CaseIterable {
    case id, category, split, group, weight, margin

    /// Why a value was refused: the decoder words it into a located `DataError`; the fast scanner
    /// only needs to know that it was, and leaves the wording to the decoder.
    package enum Problem: Equatable {
        /// "expected a string or an integer, got array".
        case wrongType(expected: String)
        /// "expected a finite number ≥ 0, got -1", with its reason.
        case invalid(expected: String, reason: String)
    }
}

extension FieldNames {
    /// The field a role is read from; nil for a group when no group field is read.
    package func name(of role: MetadataField) -> String? {
        switch role {
        case .id: id
        case .category: category
        case .split: split
        case .group: group
        case .weight: weight
        case .margin: margin
        }
    }
}

extension PairRecord {
    /// Reads `value` (JSON null: the default) as `role`; nil when it fits, else what was wrong.
    package mutating func read(_ role: MetadataField, _ value: JSONValue) -> MetadataField.Problem? {
        if value == .null { return nil }
        switch (role, value) {
        case (.id, .string(let text)): id = text
        case (.id, .integer(let number)): id = String(number)
        case (.group, .string(let text)): group = groupHash(of: text.utf8)
        case (.group, .integer(let number)): group = groupHash(of: String(number).utf8)
        case (.id, _), (.group, _): return .wrongType(expected: "a string or an integer")
        case (.category, .string(let text)): category = text
        case (.split, .string(let text)): split = text
        case (.category, _), (.split, _): return .wrongType(expected: "a string")
        case (.weight, _), (.margin, _):
            guard let number = value.numberValue else { return .wrongType(expected: "a number") }
            if role == .margin {
                margin = number
            } else {
                guard number >= 0, number.isFinite else {
                    return .invalid(expected: "a finite number ≥ 0", reason: "invalid weight")
                }
                weight = number
            }
        }
        return nil
    }
}
