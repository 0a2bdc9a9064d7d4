/// Both sides of text pairs, hashed: the reader hashes each thread's share of a chunk right after
/// decoding it (`PreferenceReader.read(…, featurizingWith:)`), and `Featurizer.features` takes these
/// rows instead of hashing again when its settings match.
public struct HashedTexts: Sendable, Equatable {
    public var hashBits: Int
    public var includePrompt: Bool
    public var chosen: SparseRows
    public var rejected: SparseRows

    /// The rows of every pair of the columns.
    package init(prompts: TextColumn, chosen: TextColumn, rejected: TextColumn, hashBits: Int, includePrompt: Bool) {
        let hasher = TextHasher(hashBits: hashBits)
        let prompts = includePrompt ? prompts : nil
        self.init(hashBits: hashBits, includePrompt: includePrompt,
                  chosen: Self.rows(of: chosen, prompts: prompts, in: chosen.indices, hasher: hasher),
                  rejected: Self.rows(of: rejected, prompts: prompts, in: rejected.indices, hasher: hasher))
    }

    package init(hashBits: Int, includePrompt: Bool, chosen: SparseRows, rejected: SparseRows) {
        (self.hashBits, self.includePrompt, self.chosen, self.rejected) = (hashBits, includePrompt, chosen, rejected)
    }

    /// The rows of `texts[range]`, each hashed as `prompt + "\n" + text` when `prompts` are given.
    package static func rows(of texts: TextColumn, prompts: TextColumn?, in range: Range<Int>, hasher: TextHasher) -> SparseRows {
        var rows = SparseRows(dimension: hasher.featureCount)
        for pair in range {
            hasher.appendRow(of: prompts.map { $0[pair] + "\n" + texts[pair] } ?? texts[pair], indices: &rows.indices, values: &rows.values)
            rows.rowStarts.append(rows.indices.count)
        }
        return rows
    }

    package func subset(_ positions: [Int]) -> HashedTexts {
        HashedTexts(hashBits: hashBits, includePrompt: includePrompt, chosen: chosen.subset(positions), rejected: rejected.subset(positions))
    }

    package mutating func compact(keeping kept: [Int]) {
        chosen.compact(keeping: kept)
        rejected.compact(keeping: kept)
    }

    package mutating func append(contentsOf other: HashedTexts) {
        precondition(other.hashBits == hashBits && other.includePrompt == includePrompt, "texts hashed two ways")
        chosen.append(contentsOf: other.chosen)
        rejected.append(contentsOf: other.rejected)
    }
}
