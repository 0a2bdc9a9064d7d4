import UpweightSupport
import UpweightData

extension NoiseAudit {
    /// `dataset` with every category of at least `NoiseAudit.minimumPairs` pairs cut to the smallest
    /// such category's count (a seeded draw, pairs in file order). A category's own model doubts more
    /// of its pairs when it has fewer to learn from, so shares below 0.5 compare across categories
    /// only at the same size: on data/synthetic-text.jsonl's training pairs (no flipped labels;
    /// general 3339, safety 982, math 496 pairs) the audit of every pair flags safety (z 6.5) and
    /// math (z 3.1) against general; with 496 pairs each it flags nothing.
    package static func sizeMatched(_ dataset: PreferenceDataset, seed: UInt64) -> PreferenceDataset {
        let counts = dataset.categoryCounts
        guard let size = counts.filter({ $0 >= NoiseAudit.minimumPairs }).min() else { return dataset }
        var members = [[Int]](repeating: [], count: counts.count)
        for pair in 0..<dataset.count { members[Int(dataset.categoryIndices[pair])].append(pair) }
        var random = SplitMix64(seed: seed)
        var sample: [Int] = []
        for var pairs in members where pairs.count >= NoiseAudit.minimumPairs {
            pairs.seededShuffle(using: &random)
            sample += pairs.prefix(size)
        }
        return dataset.subset(sample.sorted())
    }
}
