import UpweightSupport
import UpweightIO
import UpweightData
import UpweightTraining

/// The warning on `train --upweight NAME=F` (F > 1) when NAME's labels look noisy: upweighting a
/// category amplifies its flipped labels along with the rest. Without `--noise-aware`, `train`
/// runs a quick audit of its training pairs for this: a linear model per category (L-BFGS, the
/// run's featurizer settings), on 3 grouped folds of a size-matched sample (`NoiseAudit.sizeMatched`) — about
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
        let audit = try NoiseAudit.run(dataset: NoiseAudit.sizeMatched(training, seed: configuration.seed), configuration: quick,
                                       folds: folds, top: 0, threads: threads)
        return warnings(upweight: amplified, audit: audit)
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
