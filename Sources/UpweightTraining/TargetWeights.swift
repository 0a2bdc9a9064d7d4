import UpweightSupport
import UpweightIO
import UpweightData
import UpweightWeighting

/// `--target FILE`: importance weights that make the training pairs look like the target domain.
/// The domain classifier (DomainClassifier.swift) is fit on the training pairs given here, never on
/// held-out or evaluation pairs; its out-of-fold logits become density ratios (DensityRatio.swift),
/// which `WeightingConfiguration.weights(for:pairFactors:)` multiplies with every other source.
public struct TargetWeights: Sendable {
    public var file: String
    public var trainingCount: Int
    public var targetCount: Int
    /// The domain classifier's AUC on out-of-fold logits: 0.5, the domains look alike; 1, they do not overlap.
    public var areaUnderROC: Double
    public var folds: Int
    /// What the classifier reads (`DomainFeatures.description`).
    public var featurizer: String
    public var ratio: DensityRatio

    /// Below this AUC the weights stay near 1; above `separatedAUC`, they rest on few pairs.
    public static let alikeAUC = 0.6
    public static let separatedAUC = 0.95

    /// The weights of `training`'s pairs toward `target`, as `configuration` says (clip quantile,
    /// hash bits, grouping, seed, threads).
    public init(training: PreferenceDataset, target: TargetSample, configuration: TrainingConfiguration) throws {
        let folds = min(DomainClassifier.folds, training.count, target.count)
        guard folds >= 2 else {
            throw DataError(file: target.path, message: "\(plural(target.count, "target item", "target items")) against \(plural(training.count, "training pair", "training pairs")): the domain classifier needs at least 2 of each to hold some out",
                            reason: "too few target items")
        }
        let features = try DomainFeatures(training: training, target: target, hashBits: configuration.hashBits)
        let trainingFolds = groupedFolds(training, folds: folds, seed: configuration.seed, keys: training.groupKeys(by: configuration.grouping))
        // Target items are independent: a seeded shuffle dealt round the folds.
        var order = Array(0..<target.count)
        var generator = SplitMix64(seed: configuration.seed ^ 0x7A52_6E74)
        order.seededShuffle(using: &generator)
        var targetFolds = [Int](repeating: 0, count: target.count)
        for (position, item) in order.enumerated() { targetFolds[item] = position % folds }
        let outcome = DomainClassifier(features, threads: configuration.reading.threads)
            .crossFit(trainingFolds: trainingFolds, targetFolds: targetFolds, folds: folds)
        file = target.path
        trainingCount = training.count
        targetCount = target.count
        areaUnderROC = outcome.areaUnderROC
        self.folds = folds
        featurizer = features.description
        ratio = DensityRatio(logits: outcome.trainingLogits, trainingCount: training.count, targetCount: target.count,
                             clipQuantile: configuration.targetClip)
    }

    /// ESS / n_train.
    public var effectiveShare: Double { ratio.effectiveSampleSize / Double(trainingCount) }

    /// What a run prints on stderr: the classifier, the clip, the effective sample size, and a note
    /// or warning when the AUC says the weights do little or rest on few pairs.
    public var notes: [String] {
        var lines = ["target: domain classifier (\(featurizer)) tells \(plural(trainingCount, "training pair", "training pairs")) from \(plural(targetCount, "target item", "target items")) with held-out AUC \(fixed(areaUnderROC, 3)) (\(folds)-fold cross-fitted)",
                     "target: density ratios clipped at their \(JSONValue.format(ratio.clipQuantile)) quantile, \(significant(ratio.clipValue)) (\(plural(ratio.clippedPairs, "pair", "pairs")) clipped); effective sample size \(fixed(ratio.effectiveSampleSize, 1)) of \(plural(trainingCount, "pair", "pairs")) (\(fixed(100 * effectiveShare, 1))%)"]
        if areaUnderROC < Self.alikeAUC {
            lines.append("note: the target items look like the training pairs (AUC \(fixed(areaUnderROC, 3)) < \(JSONValue.format(Self.alikeAUC))): the weights stay near 1 and change little")
        } else if areaUnderROC > Self.separatedAUC {
            lines.append("warning: the target items are far from most training pairs (AUC \(fixed(areaUnderROC, 3)) > \(JSONValue.format(Self.separatedAUC))): the weights rest on few pairs (effective sample size \(fixed(ratio.effectiveSampleSize, 1))); more training data like the target would help more than weighting")
        }
        return lines
    }

    /// The summary config.json keeps (the model's provenance, "target").
    public var json: JSONObject {
        JSONObject([("file", .string(file)), ("featurizer", .string(featurizer)),
                    ("training_pairs", JSONValue(trainingCount)), ("target_items", JSONValue(targetCount)),
                    ("folds", JSONValue(folds)), ("auc", .number(areaUnderROC)),
                    ("clip_quantile", .number(ratio.clipQuantile)), ("clip_value", .number(ratio.clipValue)),
                    ("clipped_pairs", JSONValue(ratio.clippedPairs)),
                    ("effective_sample_size", .number(ratio.effectiveSampleSize)), ("effective_share", .number(effectiveShare))])
    }

    /// Three significant digits: ratios run from 1e-3 to 1e3.
    private func significant(_ value: Double) -> String {
        guard value.isFinite, value > 0 else { return fixed(value, 3) }
        let digits = max(0, 2 - Int(log10(value).rounded(.down)))
        return fixed(value, min(digits, 6))
    }
}
