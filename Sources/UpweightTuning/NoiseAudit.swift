import UpweightSupport
import UpweightIO
import UpweightData
import UpweightEvaluation
import UpweightTraining

/// A label-noise audit (confident learning, Northcutt et al. 2021, per category): out-of-fold
/// probabilities that each pair's stated preference is right, from a model fit within each category,
/// and per category the share of pairs the model doubts, set against the cleanest category's share.
///
/// - p_i = σ(r(chosen) − r(rejected)) from the model of pair i's category trained on the other folds
///   (folds grouped by prompt as `train` groups them, stratified by category).
/// - Per category c: below_c = #{p_i < 0.5} / n_c. The floor is the lowest below_c among audited
///   categories (what model error alone produces on the cleanest labels).
/// - Flip estimate: with a rate f of flipped labels, below ≈ floor·(1 − f) + (1 − floor)·f, so
///   f ≈ (below_c − floor) / (1 − 2·floor), clipped to [0, 0.5].
/// - A category is flagged noisy when a one-sided two-proportion z-test of below_c against the floor
///   category's share gives z ≥ 3 (p ≈ 0.0013, which stays under 1% after a Bonferroni correction
///   for up to 7 comparisons). Categories with fewer than `minimumPairs` pairs are not audited.
public struct NoiseAudit: Sendable {
    /// Categories with fewer pairs than this are reported as too small to audit.
    public static let minimumPairs = 30
    /// The z a category's excess over the floor must reach to be flagged.
    public static let flagZ = 3.0

    public enum Status: String, Sendable { case floor, clean, noisy, tooSmall = "too small to audit" }

    public struct Category: Sendable {
        public var name: String
        public var pairs: Int
        public var status: Status
        /// The rest are nil for a category too small to audit.
        public var meanConfidence: Double?
        public var belowShare: Double?
        public var flipEstimate: Double?
        /// The two-proportion z against the floor category (nil for the floor itself).
        public var z: Double?
    }

    public struct Suspect: Sendable {
        public var pair: Int
        public var file: String
        public var line: Int
        public var id: String?
        public var category: String
        /// The out-of-fold probability that the stated preference is right.
        public var probability: Double
        /// `probability` corrected for its category's flip estimate f: (p − f)/(1 − 2f) in [0, 1].
        public var corrected: Double
    }

    public var folds: Int
    public var categories: [Category]
    /// The lowest below-0.5 share among audited categories, and whose it is.
    public var floor: Double
    public var floorCategory: String
    /// The lowest corrected probability q_i first (then the lowest p_i), at most `top` of them.
    public var suspects: [Suspect]
    /// Every pair's p_i (nil: its category is too small to audit).
    public var probabilities: [Double?]

    /// Runs the audit on `dataset` with `configuration` (its model, featurizer and weighting; its
    /// holdout and output are ignored), `folds` grouped folds, listing the `top` most suspicious pairs.
    public static func run(dataset: PreferenceDataset, configuration base: TrainingConfiguration, folds: Int, top: Int,
                           threads: Int, reporter: Reporter = .silent) throws -> NoiseAudit {
        try CrossValidation.checkFoldCount(folds)
        try base.weighting.validate(categories: dataset.categoryNames)
        let configuration = auditConfiguration(base)
        let counts = dataset.categoryCounts
        let audited = dataset.categoryNames.indices.filter { counts[$0] >= minimumPairs }
        for index in dataset.categoryNames.indices.sorted(by: { dataset.categoryNames[$0] < dataset.categoryNames[$1] })
        where counts[index] > 0 && counts[index] < minimumPairs {
            reporter.note("warning: category \"\(dataset.categoryNames[index])\" has \(plural(counts[index], "pair", "pairs")), fewer than \(minimumPairs): too small to audit")
        }
        guard !audited.isEmpty else {
            throw DataError(file: dataset.files.joined(separator: ", "),
                            message: "no category has \(minimumPairs) pairs or more: too small to audit", reason: "too small")
        }
        let assignment = groupedFolds(dataset, folds: folds, seed: base.seed, keys: dataset.groupKeys(by: base.grouping))
        var members = [[Int]](repeating: [], count: dataset.categoryNames.count)
        for pair in 0..<dataset.count { members[Int(dataset.categoryIndices[pair])].append(pair) }
        let jobs = audited.flatMap { category in (0..<folds).map { (category, $0) } }
        let finished = Counter()
        let results = parallelMap(parts: jobs.count, threads: threads) { job -> Result<[(Int, Double)], Error> in
            let (category, fold) = jobs[job]
            defer { reporter.progress(.init(phase: "audit", completed: finished.increment(), total: jobs.count, unit: "runs")) }
            return Result {
                let trainIndices = members[category].filter { assignment[$0] != fold }
                let heldIndices = members[category].filter { assignment[$0] == fold }
                guard !trainIndices.isEmpty, !heldIndices.isEmpty else { return [] }
                let outcome = try Trainer.train(dataset.subset(trainIndices), configuration: configuration)
                let rewards = try outcome.trained.rewards(for: dataset.subset(heldIndices), threads: 1)
                return heldIndices.indices.map { (heldIndices[$0], sigmoid(Double(rewards.chosen[$0]) - Double(rewards.rejected[$0]))) }
            }
        }
        var probabilities = [Double?](repeating: nil, count: dataset.count)
        for result in results { for (pair, p) in try result.get() { probabilities[pair] = p } }

        // Per-category shares over the pairs that got a probability.
        struct Tally { var scored = 0; var below = 0; var sum = 0.0 }
        var tallies = [Tally](repeating: Tally(), count: dataset.categoryNames.count)
        for pair in 0..<dataset.count {
            guard let p = probabilities[pair] else { continue }
            let category = Int(dataset.categoryIndices[pair])
            tallies[category].scored += 1
            tallies[category].sum += p
            if p < 0.5 { tallies[category].below += 1 }
        }
        let scoredCategories = audited.filter { tallies[$0].scored >= minimumPairs }
        guard !scoredCategories.isEmpty else {
            throw DataError(file: dataset.files.joined(separator: ", "),
                            message: "no category has \(minimumPairs) pairs or more in folds that leave training pairs: too small to audit", reason: "too small")
        }
        func share(_ category: Int) -> Double { Double(tallies[category].below) / Double(tallies[category].scored) }
        // The floor: the lowest share; among equals, the first by name.
        let floorIndex = scoredCategories.min { (share($0), dataset.categoryNames[$0]) < (share($1), dataset.categoryNames[$1]) }!
        let floor = share(floorIndex)
        if floor >= 0.4 {
            reporter.note("warning: even the cleanest category has \(fixed(floor * 100, 1))% of its pairs below p = 0.5: the per-category models barely beat chance, so the flip estimates (divided by 1 − 2·floor) are unreliable; more pairs per category or better features help")
        }
        var categories: [Category] = []
        for index in dataset.categoryNames.indices.sorted(by: { dataset.categoryNames[$0] < dataset.categoryNames[$1] }) where counts[index] > 0 {
            var entry = Category(name: dataset.categoryNames[index], pairs: counts[index], status: .tooSmall)
            guard scoredCategories.contains(index) else { categories.append(entry); continue }
            let below = share(index)
            entry.meanConfidence = tallies[index].sum / Double(tallies[index].scored)
            entry.belowShare = below
            entry.flipEstimate = min(max((below - floor) / max(1 - 2 * floor, 1e-12), 0), 0.5)
            if index == floorIndex {
                entry.status = .floor
            } else {
                let z = twoProportionZ(tallies[index].below, tallies[index].scored, tallies[floorIndex].below, tallies[floorIndex].scored)
                entry.z = z
                entry.status = z >= flagZ ? .noisy : .clean
            }
            categories.append(entry)
        }
        // Ranking by p alone would put a noisy category's pairs last: its own model, fit on flipped
        // labels, is less sure of everything. Undo that with the category's flip estimate f:
        // p ≈ f + (1 − 2f)·q, so q = (p − f)/(1 − 2f) (clipped to [0, 1]); rank by q, then p.
        var flipByCategory = [Double](repeating: 0, count: dataset.categoryNames.count)
        for category in categories {
            if let index = dataset.categoryNames.firstIndex(of: category.name) { flipByCategory[index] = category.flipEstimate ?? 0 }
        }
        func corrected(_ pair: Int) -> Double {
            let f = flipByCategory[Int(dataset.categoryIndices[pair])]
            return min(max((probabilities[pair]! - f) / (1 - 2 * f), 0), 1)
        }
        let ranked = (0..<dataset.count).filter { probabilities[$0] != nil }
            .map { (pair: $0, corrected: corrected($0), p: probabilities[$0]!) }
            .sorted { ($0.corrected, $0.p, $0.pair) < ($1.corrected, $1.p, $1.pair) }
        let suspects = ranked.prefix(max(top, 0)).map { entry -> Suspect in
            let source = dataset.sources[entry.pair]
            let file = Int(source.file) < dataset.files.count ? dataset.files[Int(source.file)] : ""
            return Suspect(pair: entry.pair, file: file, line: Int(source.line), id: dataset.ids[entry.pair],
                           category: dataset.category(of: entry.pair), probability: entry.p, corrected: entry.corrected)
        }
        return NoiseAudit(folds: folds, categories: categories, floor: floor, floorCategory: dataset.categoryNames[floorIndex],
                          suspects: suspects, probabilities: probabilities)
    }

    /// `base` as each per-category fit uses it: one thread, no holdout, nothing written, no
    /// checkpoints and no noise-aware step of its own. Category factors (`--upweight`, the scheme)
    /// are constant within a category, and the loss is a weighted mean, so they are left out: the
    /// audit is the same whatever the upweighting (and tune audits each fold once for all of it).
    package static func auditConfiguration(_ base: TrainingConfiguration) -> TrainingConfiguration {
        var configuration = base
        configuration.reading.threads = 1
        configuration.holdout = 0
        configuration.out = nil
        configuration.checkpointEvery = nil
        configuration.resume = false
        configuration.logFile = nil
        configuration.saveSplit = nil
        configuration.eval = []
        configuration.trainSplit = nil
        configuration.evalSplit = nil
        configuration.noiseAware = .off
        // The audit asks whether labels agree within a category: weights toward a target domain would skew that.
        configuration.target = nil
        configuration.weighting.upweight = [:]
        configuration.weighting.scheme = .none
        return configuration
    }

    /// One-sided two-proportion z (pooled): how far a₁/n₁ lies above a₂/n₂.
    package static func twoProportionZ(_ a1: Int, _ n1: Int, _ a2: Int, _ n2: Int) -> Double {
        let p1 = Double(a1) / Double(n1), p2 = Double(a2) / Double(n2)
        let pooled = Double(a1 + a2) / Double(n1 + n2)
        let variance = pooled * (1 - pooled) * (1 / Double(n1) + 1 / Double(n2))
        guard variance > 0 else { return p1 > p2 ? .infinity : 0 }
        return (p1 - p2) / variance.squareRoot()
    }
}

extension NoiseAudit.Category {
    /// As `upweight audit --format json` and config.json's "noise_audit" hold it.
    public var json: JSONObject {
        func optional(_ value: Double?) -> JSONValue { value.map { JSONValue($0) } ?? .null }
        var entry = JSONObject()
        entry["name"] = .string(name)
        entry["pairs"] = JSONValue(pairs)
        entry["status"] = .string(status.rawValue)
        entry["mean_confidence"] = optional(meanConfidence)
        entry["below_half_share"] = optional(belowShare)
        entry["flip_estimate"] = optional(flipEstimate)
        entry["z"] = optional(z)
        return entry
    }
}

extension NoiseAudit {
    public func render(_ format: ReportFormat) -> String {
        switch format {
        case .json: return JSONValue.object(json).prettyText
        case .csv: return csv
        default: return table
        }
    }

    private static func number(_ value: Double?, _ digits: Int = 3) -> String { value.map { fixed($0, digits) } ?? "-" }

    public var table: String {
        var rows = [["category", "pairs", "mean p", "p<0.5", "flip est.", "z", "status"]]
        for category in categories {
            rows.append([terminalEscaped(category.name), String(category.pairs), Self.number(category.meanConfidence),
                         Self.number(category.belowShare), Self.number(category.flipEstimate), Self.number(category.z, 1),
                         category.status.rawValue])
        }
        var text = TextTable(rows, rulesBefore: [1]).lines.joined(separator: "\n") + "\n"
        text += "floor: \(fixed(floor, 3)) (\(terminalEscaped(floorCategory))); \(folds) folds, a model per category; noisy: z ≥ \(fixed(Self.flagZ, 0)) against the floor\n"
        guard !suspects.isEmpty else { return text }
        text += "\nmost suspicious pairs (p: out-of-fold probability that the stated preference is right; q: p corrected for the category's flip estimate, lowest first):\n"
        var suspectRows = [["q", "p", "category", "id", "where"]]
        for suspect in suspects {
            suspectRows.append([fixed(suspect.corrected, 3), fixed(suspect.probability, 3), terminalEscaped(suspect.category), terminalEscaped(suspect.id ?? "-"),
                                terminalEscaped("\(suspect.file):\(suspect.line)")])
        }
        text += TextTable(suspectRows, left: [2, 3, 4], rulesBefore: [1]).lines.joined(separator: "\n") + "\n"
        return text
    }

    public var json: JSONObject {
        func optional(_ value: Double?) -> JSONValue { value.map { JSONValue($0) } ?? .null }
        var object = JSONObject()
        object["folds"] = JSONValue(folds)
        object["floor"] = JSONValue(floor)
        object["floor_category"] = .string(floorCategory)
        object["flag_z"] = JSONValue(Self.flagZ)
        object["categories"] = .array(categories.map { .object($0.json) })
        object["suspects"] = .array(suspects.map { suspect in
            var entry = JSONObject()
            entry["p"] = JSONValue(suspect.probability)
            entry["q"] = JSONValue(suspect.corrected)
            entry["category"] = .string(suspect.category)
            entry["id"] = suspect.id.map { .string($0) } ?? .null
            entry["file"] = .string(suspect.file)
            entry["line"] = JSONValue(suspect.line)
            return .object(entry)
        })
        return object
    }

    /// The suspects, one a line: what a user relabels from.
    public var csv: String {
        var text = "q,p,category,id,file,line\n"
        for suspect in suspects {
            text += [fixed(suspect.corrected, 6), fixed(suspect.probability, 6), csvQuoted(suspect.category), csvQuoted(suspect.id ?? ""),
                     csvQuoted(suspect.file), String(suspect.line)].joined(separator: ",") + "\n"
        }
        return text
    }
}

/// A whole `audit` run: check the numbers, read the data as `train` would, audit it.
public struct AuditSession {
    public var data: [String]
    public var folds = 5
    public var top = 20
    public var configFile: String?
    /// Settings over the config file, as config keys (the flags given).
    public var settings = JSONObject()

    public init(data: [String]) { self.data = data }

    public func run(reporter: Reporter = .silent) throws -> NoiseAudit {
        try CrossValidation.checkFoldCount(folds)
        try FlagRange.check(top, flag: "--top", in: 0...Int.max)
        var base = TrainingConfiguration()
        if let configFile { try base.apply(try Files.readJSONObject(configFile), from: .file(configFile)) }
        try base.apply(settings, from: .commandLine)
        if base.noiseAware != .off {
            reporter.note("warning: --noise-aware \(base.noiseAware.rawValue) is ignored: audit only reports (train --noise-aware acts on the audit)")
        }
        if let target = base.target {
            reporter.note("warning: --target \(target) is ignored: the audit judges labels, not the target domain")
        }
        let (dataset, summary) = try PreferenceReader.read(
            paths: data, options: base.readingWithGroups,
            featurizingWith: .hashed(hashBits: base.hashBits, includePrompt: base.includePrompt))
        logReadSummary(summary, pairs: dataset.count, log: reporter.note)
        reporter.note("folds: " + HoldoutNote(dataset: dataset, grouping: base.grouping, keys: dataset.groupKeys(by: base.grouping), of: dataset.count).text)
        return try NoiseAudit.run(dataset: dataset, configuration: base, folds: folds, top: top,
                                  threads: base.reading.threads, reporter: reporter)
    }
}
