/// Splits two Anthropic HH-RLHF transcripts (`\n\nHuman: … \n\nAssistant: …`) into the prompt they
/// share and the two responses.
///
/// The prompt is everything up to and including the last `\n\nAssistant:` that lies inside the
/// transcripts' common prefix. When they differ before any assistant turn, the prompt ends at the
/// last turn boundary (`\n\nHuman:` or `\n\nAssistant:`) inside the common prefix, or is empty.
/// No pair is ever rejected for its shape.
package struct TranscriptSplit {
    package var prompt: String
    package var chosen: String
    package var rejected: String

    private static let assistantMarker = Array("\n\nAssistant:".utf8)
    private static let humanMarker = Array("\n\nHuman:".utf8)

    package init(chosen: String, rejected: String) {
        let first = Array(chosen.utf8)
        let second = Array(rejected.utf8)
        var common = 0
        while common < min(first.count, second.count), first[common] == second[common] { common += 1 }

        var cut = 0
        if let start = Self.lastOccurrence(of: Self.assistantMarker, in: first, endingBy: common) {
            cut = start + Self.assistantMarker.count
        } else {
            let human = Self.lastOccurrence(of: Self.humanMarker, in: first, endingBy: common + Self.humanMarker.count)
            let assistant = Self.lastOccurrence(of: Self.assistantMarker, in: first,
                                                endingBy: common + Self.assistantMarker.count)
            cut = min(max(human ?? 0, assistant ?? 0), common)
        }
        // Markers are ASCII, so `cut` falls on a character boundary of both transcripts.
        prompt = String(decoding: first[..<cut], as: UTF8.self)
        self.chosen = String(decoding: first[cut...], as: UTF8.self)
        self.rejected = String(decoding: second[cut...], as: UTF8.self)
    }

    /// The start of the last occurrence of `marker` in `bytes` that ends at or before `limit`.
    private static func lastOccurrence(of marker: [UInt8], in bytes: [UInt8], endingBy limit: Int) -> Int? {
        var start = min(limit, bytes.count) - marker.count
        while start >= 0 {
            if bytes[start] == marker[0], bytes[start..<start + marker.count].elementsEqual(marker) { return start }
            start -= 1
        }
        return nil
    }
}
