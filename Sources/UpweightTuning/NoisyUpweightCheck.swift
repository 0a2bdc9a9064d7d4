import UpweightSupport
import UpweightIO
import UpweightData
import UpweightTraining

/// The warning on `train --upweight NAME=F` (F > 1) when NAME's labels look noisy: upweighting a
/// category amplifies its flipped labels along with the rest. Without `--noise-aware`, `train`
/// runs a quick audit of its training pairs for this: a linear model per category (L-BFGS, the
/// run's featurizer settings), on 3 grouped folds of a size-matched sample (`sizeMatched`) — about
/// the cost of one linear fit or less — and skips it, saying so, above `largestData` pairs
/// (`upweight audit` does the full audit).
public enum NoisyUpweightCheck {
    public static let folds = 3
    public static let largestData = 200_000

    /// The quick audit of `training` and its warnings (none when no upweighted category looks noisy).
    public static func run(_ training: PreferenceDataset, configuration: TrainingConfiguration, threads: Int) throws -> [String] {
        let amplified = configuration.weighting.upweight.filter { $0.value > 1 }
        guard !amplified.isEmpty else { return [] }
        guard training.count <= largestData else {
            return ["note: the label check of --upweight did not run: \(plural(training.count, "training pair", "training pairs")), more than \(largestData); upweight audit checks them"]
        }
        // Nothing to compare against: the check needs two categories large enough to audit.
        guard training.categoryCounts.filter({ $0 >= NoiseAudit.minimumPairs }).count >= 2 else { return [] }
        var quick = TrainingConfiguration()
        quick.hashBits = configuration.hashBits
        quick.includePrompt = configuration.includePrompt
        quick.standardize = configuration.standardize
        quick.l2 = configuration.l2
        quick.seed = configuration.seed
        quick.grouping = configuration.grouping
        quick.reading = configuration.reading
        let audit = try NoiseAudit.run(dataset: sizeMatched(training, seed: configuration.seed), configuration: quick,
                                       folds: folds, top: 0, threads: threads)
        return warnings(upweight: amplified, audit: audit)
    }

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

    /// `warning: --upweight safety=4 amplifies a category whose labels look noisy: estimated 31%
    /// flipped (share below 0.5: 0.39 against 0.19 in general, z 18); see upweight audit, or
    /// --noise-aware drop`, for each category upweighted above 1 that `audit` flags noisy.
    public static func warnings(upweight: [String: Double], audit: NoiseAudit,
                                advice: String = "see upweight audit, or --noise-aware drop") -> [String] {
        audit.categories.compactMap { category in
            guard category.status == .noisy, let factor = upweight[category.name], factor > 1,
                  let flip = category.flipEstimate, let below = category.belowShare, let z = category.z else { return nil }
            return "warning: --upweight \(terminalEscaped(category.name))=\(JSONValue.format(factor)) amplifies a category whose labels look noisy: "
                + "estimated \(fixed(100 * flip, 0))% flipped (share below 0.5: \(fixed(below, 2)) against \(fixed(audit.floor, 2)) "
                + "in \(terminalEscaped(audit.floorCategory)), z \(fixed(z, 0))); \(advice)"
        }
    }
}
