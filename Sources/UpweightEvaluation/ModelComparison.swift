import UpweightSupport
import UpweightData

/// Several models on the same pairs, each against the first (the baseline): does the change help,
/// where, and can this evaluation set tell?
///
/// - Accuracy per category, overall and macro, with stratified percentile bootstrap 95% intervals
///   (`Bootstrap.replicates`: within each category, n_k draws with replacement; every model is
///   scored on the same draws, so differences are paired).
/// - Δ = accuracy − the baseline's, per category, overall, macro, on the baseline's worst category,
///   and of the minimum over categories (each replicate's own minimum), with paired bootstrap 95%
///   intervals.
/// - p-values: exact McNemar per category and overall (`mcNemarPValue`); for macro, worst and
///   minimum, the bootstrap's two-sided p = min(1, 2·min(P*(δ ≤ 0), P*(δ ≥ 0))).
/// - Holm–Bonferroni over the family of every per-category test of every compared model: sort the m
///   raw p-values, p₍ᵢ₎ ↦ max_{j ≤ i} min(1, (m − j + 1)·p₍ⱼ₎). Significance (*) uses adjusted values.
/// - Minimum detectable effect per category (Connor 1987, the McNemar sample size solved for δ): with
///   n pairs and discordant rate p_d between the model and the baseline,
///   √n·δ = z₀.₉₇₅·√p_d + z₀.₈·√(p_d − δ²), iterated from δ₀ = (z₀.₉₇₅ + z₀.₈)·√(p_d/n):
///   the smallest accuracy change this set detects at 95% confidence with 80% power.
public struct ModelComparison: Sendable {
    public struct Row: Sendable, Equatable {
        public var accuracy: Double
        public var interval: Interval
        /// Against the baseline (nil for the baseline itself).
        public var delta: Double?
        public var deltaInterval: Interval?
        public var pValue: Double?
        public var adjustedPValue: Double?
        public var detectable: Double?
    }

    public struct Group: Sendable, Equatable {
        /// A category's name, or "overall", "macro" (the mean of the categories), "worst: NAME" (the
        /// baseline's lowest category), "minimum over categories".
        public var name: String
        public var pairs: Int
        /// One row per model, the baseline first.
        public var rows: [Row]
    }

    public var models: [String]
    public var groups: [Group]
    public var ties: TiePolicy
    public var bootstrapSamples: Int
    public var seed: UInt64
    /// How many tests Holm's adjustment covers.
    public var familySize: Int

    package static let zConfidence = 1.959963984540054  // Φ⁻¹(0.975)
    package static let zPower = 0.8416212335729143  // Φ⁻¹(0.8)

    /// `rewards[m]`: model m's rewards of both sides of every pair of `dataset`; model 0 is the baseline.
    public init(dataset: PreferenceDataset, models: [String], rewards: [(chosen: [Float], rejected: [Float])],
                ties: TiePolicy = .half, bootstrapSamples: Int = 1000, seed: UInt64 = 0) {
        precondition(models.count == rewards.count && models.count >= 2)
        (self.models, self.ties, self.bootstrapSamples, self.seed) = (models, ties, bootstrapSamples, seed)
        let margins = rewards.map { side in (0..<dataset.count).map { Double(side.chosen[$0]) - Double(side.rejected[$0]) } }
        let scores = margins.map { Bootstrap.Scores(margins: $0, ties: ties) }
        var members = [[Int]](repeating: [], count: dataset.categoryNames.count)
        for pair in 0..<dataset.count { members[Int(dataset.categoryIndices[pair])].append(pair) }
        let categories = dataset.categoryNames.indices.filter { !members[$0].isEmpty }
            .sorted { dataset.categoryNames[$0] < dataset.categoryNames[$1] }
        let pairsOf = categories.map { members[$0] }
        let all = Array(0..<dataset.count)

        // Observed statistics per model, as `Bootstrap.replicates` orders them: categories, overall,
        // macro, minimum.
        let observed = scores.map { score -> [Double] in
            let perCategory = pairsOf.map { score.accuracy($0) }
            let present = perCategory.filter { !$0.isNaN }
            return perCategory + [score.accuracy(all), mean(present), present.min() ?? .nan]
        }
        let categoryCount = categories.count
        let worstIndex = (0..<categoryCount).filter { !observed[0][$0].isNaN }.min { observed[0][$0] < observed[0][$1] }
        let replicates = Bootstrap(groups: pairsOf, samples: bootstrapSamples, seed: seed).replicates(scores)

        func row(_ model: Int, _ statistic: Int) -> Row {
            var row = Row(accuracy: observed[model][statistic], interval: Bootstrap.percentileInterval(replicates[model][statistic]))
            guard model > 0 else { return row }
            let differences = zip(replicates[model][statistic], replicates[0][statistic]).map { $0 - $1 }
            row.delta = observed[model][statistic] - observed[0][statistic]
            row.deltaInterval = Bootstrap.percentileInterval(differences)
            row.pValue = Self.bootstrapPValue(differences)
            return row
        }
        func mcNemar(_ model: Int, _ pairs: [Int]) -> (p: Double, discordantRate: Double) {
            let counts = discordantCounts(model: pairs.map { margins[model][$0] }, baseline: pairs.map { margins[0][$0] })
            return (mcNemarPValue(modelOnly: counts.modelOnly, baselineOnly: counts.baselineOnly),
                    Double(counts.modelOnly + counts.baselineOnly) / Double(max(pairs.count, 1)))
        }
        var groups: [Group] = []
        for (index, pairs) in pairsOf.enumerated() {
            let rows = models.indices.map { model -> Row in
                var row = row(model, index)
                if model > 0 {
                    let test = mcNemar(model, pairs)
                    row.pValue = test.p
                    row.detectable = Self.minimumDetectableEffect(pairs: pairs.count, discordantRate: test.discordantRate)
                }
                return row
            }
            groups.append(Group(name: dataset.categoryNames[categories[index]], pairs: pairs.count, rows: rows))
        }
        // Holm over every category test of every model.
        let family = groups.indices.flatMap { group in models.indices.dropFirst().map { (group, $0) } }
        let adjusted = Self.holm(family.map { groups[$0.0].rows[$0.1].pValue ?? 1 })
        for (position, (group, model)) in family.enumerated() { groups[group].rows[model].adjustedPValue = adjusted[position] }
        familySize = family.count

        var overall = Group(name: "overall", pairs: dataset.count, rows: models.indices.map { row($0, categoryCount) })
        for model in models.indices.dropFirst() { overall.rows[model].pValue = mcNemar(model, all).p }
        groups.append(overall)
        groups.append(Group(name: "macro", pairs: dataset.count, rows: models.indices.map { row($0, categoryCount + 1) }))
        if let worstIndex {
            groups.append(Group(name: "worst: \(dataset.categoryNames[categories[worstIndex]])", pairs: pairsOf[worstIndex].count,
                                rows: models.indices.map { row($0, worstIndex) }))
        }
        groups.append(Group(name: "minimum over categories", pairs: dataset.count, rows: models.indices.map { row($0, categoryCount + 2) }))
        self.groups = groups
    }

    /// Two-sided: twice the smaller share of replicates on either side of 0 (NaNs left out); 1 with none.
    package static func bootstrapPValue(_ differences: [Double]) -> Double {
        let values = differences.filter { !$0.isNaN }
        guard !values.isEmpty else { return 1 }
        let below = Double(values.filter { $0 <= 0 }.count), above = Double(values.filter { $0 >= 0 }.count)
        return min(1, 2 * min(below, above) / Double(values.count))
    }

    /// Holm–Bonferroni adjusted p-values, in the order given.
    package static func holm(_ pValues: [Double]) -> [Double] {
        let order = pValues.indices.sorted { pValues[$0] < pValues[$1] || (pValues[$0] == pValues[$1] && $0 < $1) }
        var adjusted = [Double](repeating: 1, count: pValues.count)
        var running = 0.0
        for (rank, index) in order.enumerated() {
            running = max(running, min(1, Double(pValues.count - rank) * pValues[index]))
            adjusted[index] = running
        }
        return adjusted
    }

    /// Connor's (1987) minimum detectable difference for a paired comparison of n pairs with
    /// discordant rate p_d; nil when the models agree on every pair (no rate to plan from).
    package static func minimumDetectableEffect(pairs: Int, discordantRate: Double) -> Double? {
        guard pairs > 0, discordantRate > 0 else { return nil }
        let n = Double(pairs)
        var delta = (zConfidence + zPower) * (discordantRate / n).squareRoot()
        for _ in 0..<50 {
            let next = (zConfidence * discordantRate.squareRoot() + zPower * max(discordantRate - delta * delta, 0).squareRoot()) / n.squareRoot()
            if abs(next - delta) < 1e-12 { break }
            delta = next
        }
        return min(delta, 1)
    }
}
