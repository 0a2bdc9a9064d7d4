import UpweightSupport

/// Which pairs belong together and must stay on one side of a held-out split or a fold: pairs that
/// share a prompt (several completions or style variants of one prompt), or a conversation id.
/// Splitting such pairs apart lets a model score well by recognising the prompt, not by judging
/// the responses (on one real benchmark: 0.88 on a random split, 0.56 on a split by prompt).
public enum Grouping: Sendable, Equatable, CustomStringConvertible {
    /// Pairs with the same prompt (normalised: `groupHash(of:)`). Dense data has no prompt text of its
    /// own: its `prompt` field, where lines have one, is read for this.
    case prompt
    /// Pairs with the same value (a string or an integer) of this field.
    case field(String)
    /// Every pair on its own.
    case none

    /// `prompt`, `none`, or a field name.
    public init(_ text: String) {
        switch text {
        case "prompt": self = .prompt
        case "none": self = .none
        default: self = .field(text)
        }
    }

    public var description: String {
        switch self {
        case .prompt: return "prompt"
        case .field(let name): return name
        case .none: return "none"
        }
    }

    /// The field the reader keeps a group hash of, if any. By prompt, text pairs are grouped by the
    /// prompt they were read with (`PreferenceDataset.groupKeys(by:)`), so the field matters for
    /// dense lines only.
    public func field(_ fields: FieldNames) -> String? {
        switch self {
        case .prompt: return fields.prompt
        case .field(let name): return name
        case .none: return nil
        }
    }
}

/// The group key of a text: FNV-1a (64-bit) over its UTF-8 bytes after normalising — ASCII letters
/// lower-cased, every run of whitespace one space, none at the ends — so that prompts differing only
/// in case or spacing count as one. 0 is kept for "no group" (an empty text has none).
public func groupHash<Bytes: Sequence>(of utf8: Bytes) -> UInt64 where Bytes.Element == UInt8 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    var pendingSpace = false
    var empty = true
    for byte in utf8 {
        if byte == 0x20 || (0x09...0x0D).contains(byte) {
            pendingSpace = !empty
            continue
        }
        if pendingSpace { hash = (hash ^ 0x20) &* 0x0000_0100_0000_01B3; pendingSpace = false }
        let lowered = (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
        hash = (hash ^ UInt64(lowered)) &* 0x0000_0100_0000_01B3
        empty = false
    }
    return empty ? 0 : max(hash, 1)
}

extension PreferenceDataset {
    /// Each pair's group key under `grouping` (0: a group of its own), or nil when no pair shares a
    /// group with another, so that callers can keep the plain stratified split.
    public func groupKeys(by grouping: Grouping) -> [UInt64]? {
        let keys: [UInt64]
        switch grouping {
        case .none: return nil
        case .prompt: keys = promptKeys
        case .field: keys = groupFieldKeys
        }
        guard keys.count == count else { return nil }
        var seen = Set<UInt64>()
        for key in keys where key != 0 {
            if !seen.insert(key).inserted { return keys }
        }
        return nil
    }

    /// How many groups `keys` make of the pairs (a pair without a key is a group of its own).
    public static func groupCount(_ keys: [UInt64]) -> Int {
        Set(keys.lazy.filter { $0 != 0 }).count + keys.lazy.filter { $0 == 0 }.count
    }
}

/// The line `train` and `tune` print about how pairs were kept together, so that a reader of the
/// numbers knows whether pairs sharing a prompt could sit on both sides.
public struct HoldoutNote {
    public var text: String

    /// `keys`: the grouping's keys as `groupKeys(by:)` gave them (nil: no pair shares a group).
    public init(dataset: PreferenceDataset, grouping: Grouping, keys: [UInt64]?, heldOut: Int? = nil, of total: Int) {
        let what = heldOut.map { "held out \($0) of \(plural(total, "pair", "pairs"))" } ?? plural(total, "pair", "pairs")
        switch (grouping, keys) {
        case (.none, _):
            let shared = dataset.groupKeys(by: .prompt).map { " (warning: \(plural(Self.sharedPairs($0), "pair shares", "pairs share")) a prompt with another and may sit on both sides)" } ?? ""
            text = "\(what), split by pair (--group-by none)\(shared)"
        case (_, let keys?):
            text = "\(what), grouped by \(grouping) (\(plural(PreferenceDataset.groupCount(keys), "group", "groups")); no group on both sides)"
        case (.prompt, nil) where !dataset.isText && dataset.groupFieldKeys.allSatisfy({ $0 == 0 }):
            text = "\(what), split by pair (dense lines without a prompt field to group by)"
        case (_, nil):
            text = "\(what), grouped by \(grouping) (no two pairs share one, so split by pair)"
        }
    }

    /// How many pairs share their key with at least one other.
    package static func sharedPairs(_ keys: [UInt64]) -> Int {
        var counts = [UInt64: Int]()
        for key in keys where key != 0 { counts[key, default: 0] += 1 }
        return counts.values.lazy.filter { $0 > 1 }.reduce(0, +)
    }
}
