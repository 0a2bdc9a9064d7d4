import UpweightSupport
import UpweightIO
import UpweightData
import UpweightWeighting
import UpweightTraining

/// `--noise-aware drop|downweight`: audit the training pairs' labels (NoiseAudit, on the training
/// pairs only — never the evaluation pairs, so the evaluation stays honest), turn the audit into
/// per-pair factors (NoiseAwareFactors), leave out the pairs whose factor is 0 and hand the rest's
/// factors to the trainer. `train` (TrainingSession) and `tune` (each fold's training part) both
/// come through here.
///
/// Two audits: one of every pair, for each pair's p_i, and one of a size-matched sample
/// (`NoiseAudit.sizeMatched`), for each category's flip estimate and status — a smaller category's
/// model doubts more of its pairs, so the estimates compare across categories only at equal sizes
/// (on clean text with categories of 3339, 982 and 496 pairs the audit of every pair estimated 13–16%
/// flips in the small ones; size-matched, none). When the categories are already of one size, one
/// audit serves both.
public struct NoiseAwareTraining: Sendable {
    /// The folds of the audit inside `train` and `tune` (as `upweight audit`'s default).
    public static let folds = 5

    /// The two audits: `everyPair` gives p_i, `sizeMatched` the flip estimates and statuses.
    public struct Audits: Sendable {
        public var everyPair: NoiseAudit
        public var sizeMatched: NoiseAudit
    }

    /// The pairs that train (factor > 0) and the trainer's adjustment for them.
    public var training: PreferenceDataset
    public var adjustment: NoiseAdjustment
    /// The audit whose flip estimates acted (the size-matched one); nil: every category was too small.
    public var audit: NoiseAudit?
    /// One line per category: what was dropped or downweighted, with the flip estimate.
    public var notes: [String]

    /// Audits `training` as `configuration` says and applies `configuration.noiseAware`. When no
    /// category has `NoiseAudit.minimumPairs` pairs, nothing changes and the notes say so.
    public static func prepare(_ training: PreferenceDataset, configuration: TrainingConfiguration, threads: Int,
                               reporter: Reporter = .silent) throws -> NoiseAwareTraining {
        precondition(configuration.noiseAware != .off)
        guard let audits = try audit(training, configuration: configuration, threads: threads, reporter: reporter) else {
            return unaudited(training, mode: configuration.noiseAware)
        }
        return apply(audits, mode: configuration.noiseAware, to: training)
    }

    /// Both audits of `training` (nil: no category has `NoiseAudit.minimumPairs` pairs).
    public static func audit(_ training: PreferenceDataset, configuration: TrainingConfiguration, threads: Int,
                             reporter: Reporter = .silent) throws -> Audits? {
        guard training.categoryCounts.contains(where: { $0 >= NoiseAudit.minimumPairs }) else { return nil }
        let everyPair = try NoiseAudit.run(dataset: training, configuration: configuration, folds: folds, top: 0,
                                           threads: threads, reporter: reporter)
        let sample = NoiseAudit.sizeMatched(training, seed: configuration.seed)
        let audited = training.categoryCounts.filter { $0 >= NoiseAudit.minimumPairs }.reduce(0, +)
        guard sample.count < audited else { return Audits(everyPair: everyPair, sizeMatched: everyPair) }
        let sizeMatched = try NoiseAudit.run(dataset: sample, configuration: configuration, folds: folds, top: 0,
                                             threads: threads, reporter: .silent)
        return Audits(everyPair: everyPair, sizeMatched: sizeMatched)
    }

    /// The factors of `audits` for `training` (the pairs they audited) under `mode`.
    public static func apply(_ audits: Audits, mode: NoiseAwareMode, to training: PreferenceDataset) -> NoiseAwareTraining {
        let audit = audits.sizeMatched
        // Only categories flagged noisy act: an estimate the z-test cannot tell from the floor is
        // taken as 0 (on clean text with categories of 3339, 982 and 496 pairs, acting on every
        // size-matched estimate dropped 384 of general's pairs, f̂ 0.115 at z 1.6, and cost math 0.047).
        var flips = [Double](repeating: 0, count: training.categoryNames.count)
        for category in audit.categories where category.status == .noisy {
            if let index = training.categoryNames.firstIndex(of: category.name) { flips[index] = category.flipEstimate ?? 0 }
        }
        let factors = NoiseAwareFactors.factors(mode, probabilities: audits.everyPair.probabilities, categories: training.categoryIndices,
                                                flipEstimates: flips)
        let kept = factors.indices.filter { factors[$0] > 0 }
        var summary = audit.json
        summary["suspects"] = nil
        summary["mode"] = .string(mode.rawValue)
        // Per category: pairs left out (factor 0), pairs reweighted, and the mean factor.
        var dropped = [Int](repeating: 0, count: flips.count), changed = dropped, members = dropped
        var factorSums = [Double](repeating: 0, count: flips.count)
        for pair in factors.indices {
            let category = Int(training.categoryIndices[pair])
            members[category] += 1
            factorSums[category] += factors[pair]
            if factors[pair] == 0 { dropped[category] += 1 } else if factors[pair] != 1 { changed[category] += 1 }
        }
        var notes: [String] = []
        var entries: [JSONValue] = []
        for var category in audit.categories {
            guard let index = training.categoryNames.firstIndex(of: category.name) else { continue }
            let meanFactor = factorSums[index] / Double(max(members[index], 1))
            var entry = category.json
            entry["pairs"] = JSONValue(members[index])
            entry["estimated_on"] = JSONValue(category.pairs)
            entry["dropped"] = JSONValue(dropped[index])
            entry["downweighted"] = JSONValue(changed[index])
            entry["mean_factor"] = .number(meanFactor)
            entries.append(.object(entry))
            category.pairs = members[index]
            notes.append(note(category, mode: mode, dropped: dropped[index], changed: changed[index], meanFactor: meanFactor))
        }
        summary["categories"] = .array(entries)
        summary["pairs_dropped"] = JSONValue(training.count - kept.count)
        return NoiseAwareTraining(training: kept.count == training.count ? training : training.subset(kept),
                                  adjustment: NoiseAdjustment(factors: kept.map { factors[$0] }, summary: summary),
                                  audit: audit, notes: notes)
    }

    /// Nothing audited: every pair trains with factor 1, and the summary and note say why.
    static func unaudited(_ training: PreferenceDataset, mode: NoiseAwareMode) -> NoiseAwareTraining {
        let summary = JSONObject([("mode", .string(mode.rawValue)), ("audited", .bool(false)),
                                  ("reason", .string("no category has \(NoiseAudit.minimumPairs) pairs or more"))])
        let note = "warning: --noise-aware \(mode.rawValue) did nothing: no category has \(NoiseAudit.minimumPairs) pairs or more to audit"
        return NoiseAwareTraining(training: training, adjustment: NoiseAdjustment(factors: .init(repeating: 1, count: training.count), summary: summary),
                                  audit: nil, notes: [note])
    }

    /// `noise-aware drop: safety: 2425 pairs, flip estimate 0.328 (z 22.7, noisy): dropped 795`.
    private static func note(_ category: NoiseAudit.Category, mode: NoiseAwareMode, dropped: Int, changed: Int, meanFactor: Double) -> String {
        let head = "noise-aware \(mode.rawValue): \(terminalEscaped(category.name)): \(plural(category.pairs, "pair", "pairs"))"
        guard let flip = category.flipEstimate else { return head + ", too small to audit: kept as they are" }
        let test = category.z.map { "z \(fixed($0, 1)), " } ?? ""
        let estimate = "flip estimate \(fixed(flip, 3)) (\(test)\(category.status.rawValue))"
        switch mode {
        case .drop: return "\(head), \(estimate): dropped \(dropped)"
        default:
            return "\(head), \(estimate): downweighted \(changed), dropped \(dropped) (q = 0); mean factor \(fixed(meanFactor, 3))"
        }
    }
}
