/// What reports need of text pairs whose texts stay on disk (streamed): each pair's prompt and
/// response keys (`groupHash`, for grouping and the contamination check) and which response is
/// longer (for the length baseline), 25 bytes a pair in place of the texts.
public struct TextDigests: Sendable, Equatable {
    public var promptKeys: [UInt64] = []
    public var chosenKeys: [UInt64] = []
    public var rejectedKeys: [UInt64] = []
    /// The sign of (chosen − rejected) length in Unicode scalars: 1, 0 or −1.
    public var lengthOrder: [Int8] = []

    public init() {}

    /// Appends the digests of every pair of the columns.
    package mutating func append(prompts: TextColumn, chosen: TextColumn, rejected: TextColumn) {
        for pair in prompts.indices {
            promptKeys.append(groupHash(of: prompts.utf8(pair)))
            chosenKeys.append(groupHash(of: chosen.utf8(pair)))
            rejectedKeys.append(groupHash(of: rejected.utf8(pair)))
            let difference = chosen[pair].unicodeScalars.count - rejected[pair].unicodeScalars.count
            lengthOrder.append(difference > 0 ? 1 : difference == 0 ? 0 : -1)
        }
    }

    package func subset(_ indices: [Int]) -> TextDigests {
        var picked = TextDigests()
        picked.promptKeys = indices.map { promptKeys[$0] }
        picked.chosenKeys = indices.map { chosenKeys[$0] }
        picked.rejectedKeys = indices.map { rejectedKeys[$0] }
        picked.lengthOrder = indices.map { lengthOrder[$0] }
        return picked
    }
}
