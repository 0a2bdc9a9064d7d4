import UpweightSupport

/// Held-out splits that keep every category's share: within each category the pairs are shuffled
/// with the seed and round(fraction · n_k) of them are held out.
public func stratifiedHoldout(_ dataset: PreferenceDataset, among: [Int]? = nil, fraction: Double, seed: UInt64) -> (train: [Int], heldOut: [Int]) {
    var train: [Int] = []
    var heldOut: [Int] = []
    for pairs in shuffledByCategory(dataset, among: among ?? Array(0..<dataset.count), seed: seed ^ 0x5EED_0F_5917) {
        let take = Int((fraction * Double(pairs.count)).rounded())
        heldOut.append(contentsOf: pairs[..<take])
        train.append(contentsOf: pairs[take...])
    }
    return (train.sorted(), heldOut.sorted())
}

/// Fold of each pair: within every category the pairs are shuffled with the seed and dealt round-robin.
package func stratifiedFolds(_ dataset: PreferenceDataset, folds: Int, seed: UInt64) -> [Int] {
    var assignment = [Int](repeating: 0, count: dataset.count)
    var next = 0
    for pairs in shuffledByCategory(dataset, among: Array(0..<dataset.count), seed: seed ^ 0xF01D) {
        for pair in pairs {
            assignment[pair] = next % folds
            next += 1
        }
    }
    return assignment
}

/// `pairs` by category (in category order), each category's shuffled in turn by one generator
/// seeded with `seed`: what both stratified splits deal out.
private func shuffledByCategory(_ dataset: PreferenceDataset, among pairs: [Int], seed: UInt64) -> [[Int]] {
    var byCategory = [[Int]](repeating: [], count: dataset.categoryNames.count)
    for pair in pairs { byCategory[Int(dataset.categoryIndices[pair])].append(pair) }
    var generator = SplitMix64(seed: seed)
    for category in byCategory.indices { byCategory[category].seededShuffle(using: &generator) }
    return byCategory
}

/// A 64-bit fingerprint of the data a model was trained on (FNV-1a over 8-byte words): the same
/// pairs in the same order give the same fingerprint.
public func fingerprint(of dataset: PreferenceDataset) -> String {
    var hasher = PairsFingerprint()
    switch dataset.responses {
    case .text(let prompts, let chosen, let rejected):
        for pair in 0..<dataset.count { hasher.mix(prompts[pair]); hasher.mix(chosen[pair]); hasher.mix(rejected[pair]) }
    case .dense(_, let chosen, let rejected):
        hasher.mix(chosen[...])
        hasher.endFloats()
        hasher.mix(rejected[...])
        hasher.endFloats()
    }
    return hasher.finish(dataset)
}

/// `fingerprint(of:)` built up piece by piece: dense rows may come a block at a time (every chosen
/// row, `endFloats`, every rejected row, `endFloats`), then the other columns with `finish`.
package struct PairsFingerprint {
    private var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    /// A float waiting for the next to make a word.
    private var pendingFloat: UInt32?

    package init() {}

    /// The hash part way, as Doubles' bits (for MPI ranks that hash their rows in turn, `orderedFold`).
    package var state: [Double] {
        [Double(bitPattern: hash), pendingFloat == nil ? 0 : 1, Double(pendingFloat ?? 0)]
    }

    package init(state: [Double]) {
        hash = state[0].bitPattern
        pendingFloat = state[1] != 0 ? UInt32(state[2]) : nil
    }

    private mutating func mix(_ word: UInt64) { hash = (hash ^ word) &* 0x0000_0100_0000_01B3 }

    package mutating func mix(_ text: String) { mix(utf8: text.utf8) }

    /// A text as its UTF-8 bytes (what `mix(_:)` hashes of a string).
    package mutating func mix(utf8: some Sequence<UInt8>) {
        var buffer: UInt64 = 0
        var filled = 0
        for byte in utf8 {
            buffer |= UInt64(byte) << (8 * UInt64(filled))
            filled += 1
            if filled == 8 { mix(buffer); buffer = 0; filled = 0 }
        }
        mix(buffer ^ (UInt64(filled) << 60))
    }

    /// Floats two to a word, carrying an odd one over to the next call.
    package mutating func mix(_ values: ArraySlice<Float>) {
        for value in values {
            if let first = pendingFloat {
                mix(UInt64(first) | UInt64(value.bitPattern) << 32)
                pendingFloat = nil
            } else {
                pendingFloat = value.bitPattern
            }
        }
    }

    /// Ends a run of floats: an odd last one is a word of its own.
    package mutating func endFloats() {
        if let last = pendingFloat { mix(UInt64(last)) }
        pendingFloat = nil
    }

    /// The fingerprint, after every pair's category, weight and margin.
    package func finish(_ dataset: PreferenceDataset) -> String {
        var hasher = self
        for pair in 0..<dataset.count {
            hasher.mix(dataset.category(of: pair))
            hasher.mix(dataset.exampleWeights[pair].bitPattern)
            hasher.mix(dataset.margins[pair].bitPattern)
        }
        return fingerprintText(hasher.hash)
    }
}

/// "fnv1a64:" and the hash's 16 hex digits: how fingerprints of pairs and of files are written.
package func fingerprintText(_ hash: UInt64) -> String {
    let hex = String(hash, radix: 16)
    return "fnv1a64:" + String(repeating: "0", count: 16 - hex.count) + hex
}
