import UpweightSupport

/// 64-bit hashes of the training data's prompts and responses, kept in the model directory
/// (`training_hashes.bin`) so that `eval` can tell how many evaluation pairs the model has seen.
/// Texts are hashed by `groupHash(of:)` (ASCII case and runs of whitespace ignored); dense responses
/// by FNV-1a over their Float32 bits (exact duplicates only). Dense prompts are known only where the
/// lines have a prompt field and the data was read grouped by prompt.
public struct TextFingerprints: Sendable, Equatable {
    /// Sorted, without repeats.
    public private(set) var prompts: [UInt64]
    public private(set) var responses: [UInt64]

    public init(prompts: [UInt64], responses: [UInt64]) {
        self.prompts = Self.sortedSet(prompts)
        self.responses = Self.sortedSet(responses)
    }

    public init(_ dataset: PreferenceDataset) {
        var responses: [UInt64] = []
        responses.reserveCapacity(2 * dataset.count)
        for pair in 0..<dataset.count {
            let keys = dataset.responseKeys(of: pair)
            responses.append(keys.chosen)
            responses.append(keys.rejected)
        }
        self.init(prompts: dataset.promptKeys, responses: responses)
    }

    public func containsPrompt(_ key: UInt64) -> Bool { key != 0 && Self.contains(prompts, key) }
    public func containsResponse(_ key: UInt64) -> Bool { key != 0 && Self.contains(responses, key) }

    private static func sortedSet(_ keys: [UInt64]) -> [UInt64] {
        var sorted = keys.filter { $0 != 0 }
        sorted.sort()
        var unique: [UInt64] = []
        unique.reserveCapacity(sorted.count)
        for key in sorted where unique.last != key { unique.append(key) }
        return unique
    }

    private static func contains(_ sorted: [UInt64], _ key: UInt64) -> Bool {
        var (low, high) = (0, sorted.count)
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low < sorted.count && sorted[low] == key
    }

    // File format: "UPWTH001", then the prompt count P and the response count R (UInt64, little
    // endian), then P + R little-endian UInt64 hashes, each section strictly ascending.
    private static let magic = Array("UPWTH001".utf8)

    public var encoded: [UInt8] {
        var bytes = Self.magic
        bytes.reserveCapacity(24 + 8 * (prompts.count + responses.count))
        for word in [UInt64(prompts.count), UInt64(responses.count)] + prompts + responses {
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return bytes
    }

    /// Reads `encoded` bytes back, checking every count and the order (the file is untrusted input).
    public init(decoding bytes: [UInt8], file: String) throws {
        func fail(_ message: String) -> DataError {
            DataError(file: file, message: "not an Upweight hash file: \(message)", reason: "invalid hashes")
        }
        guard bytes.count >= 24, Array(bytes[0..<8]) == Self.magic else { throw fail("expected the UPWTH001 header") }
        func word(_ index: Int) -> UInt64 {
            (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[8 * index + $1]) << (8 * UInt64($1)) }
        }
        let available = UInt64(bytes.count - 24) / 8
        let (promptCount, responseCount) = (word(1), word(2))
        guard bytes.count % 8 == 0, promptCount <= available, responseCount == available - promptCount else {
            throw fail("the counts (\(plural(promptCount, "prompt", "prompts")), \(plural(responseCount, "response", "responses"))) do not match the file's \(plural(bytes.count, "byte", "bytes"))")
        }
        let values = (0..<Int(available)).map { word(3 + $0) }
        let prompts = Array(values[..<Int(promptCount)])
        let responses = Array(values[Int(promptCount)...])
        for section in [prompts, responses] where zip(section, section.dropFirst()).contains(where: { $0 >= $1 }) || section.first == 0 {
            throw fail("hashes out of order")
        }
        (self.prompts, self.responses) = (prompts, responses)
    }
}

extension PreferenceDataset {
    /// Each pair's prompt hash (0 where unknown): text prompts as read; dense lines' prompt field
    /// where it was read as the group field (grouping by prompt).
    public var promptKeys: [UInt64] {
        if let textDigests { return textDigests.promptKeys }
        if case .text(let prompts, _, _) = responses {
            return (0..<count).map { groupHash(of: prompts.utf8($0)) }
        }
        return groupFieldKeys.count == count ? groupFieldKeys : [UInt64](repeating: 0, count: count)
    }

    /// The hashes of a pair's two responses.
    public func responseKeys(of pair: Int) -> (chosen: UInt64, rejected: UInt64) {
        if let textDigests { return (textDigests.chosenKeys[pair], textDigests.rejectedKeys[pair]) }
        switch responses {
        case .text(_, let chosen, let rejected):
            return (groupHash(of: chosen.utf8(pair)), groupHash(of: rejected.utf8(pair)))
        case .dense(let dimension, let chosen, let rejected):
            func rowHash(_ values: [Float]) -> UInt64 {
                var hash: UInt64 = 0xCBF2_9CE4_8422_2325
                for value in values[pair * dimension..<(pair + 1) * dimension] {
                    hash = (hash ^ UInt64(value.bitPattern)) &* 0x0000_0100_0000_01B3
                }
                return max(hash, 1)
            }
            return (rowHash(chosen), rowHash(rejected))
        }
    }
}
