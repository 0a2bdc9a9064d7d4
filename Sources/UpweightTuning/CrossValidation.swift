import UpweightSupport
import UpweightIO
import UpweightData
import UpweightEvaluation
import UpweightTraining

/// What `tune` maximizes, from per-category held-out accuracies.
public enum TuneObjective: Sendable, Equatable, CustomStringConvertible {
    /// The mean of the categories' accuracies.
    case macro
    /// The lowest category's accuracy.
    case worst
    /// One category's accuracy; with `maxDrop`, only among candidates whose mean macro accuracy is
    /// within `maxDrop` of the best candidate's.
    case category(String, maxDrop: Double?)

    /// Parses `macro`, `worst`, `category:NAME` or `category:NAME,max-drop:D`.
    public init(_ text: String) throws {
        switch text {
        case "macro": self = .macro
        case "worst": self = .worst
        default:
            guard text.hasPrefix("category:") else {
                throw UsageError("--objective: expected macro, worst, category:NAME or category:NAME,max-drop:D, got \"\(text)\"")
            }
            let parts = text.dropFirst("category:".count).split(separator: ",max-drop:", maxSplits: 1)
            let name = String(parts.first ?? "")
            var drop: Double?
            if parts.count == 2 {
                guard let value = Double(parts[1]), value >= 0 else {
                    throw UsageError("--objective: max-drop must be a number ≥ 0, got \"\(parts[1])\"")
                }
                drop = value
            }
            self = .category(name, maxDrop: drop)
        }
    }

    public var description: String {
        switch self {
        case .macro: return "macro"
        case .worst: return "worst"
        case .category(let name, let drop): return "category:\(name)" + (drop.map { ",max-drop:\(JSONValue.format($0))" } ?? "")
        }
    }

    /// The objective on one fold, from its per-category accuracies.
    package func score(_ accuracies: [String: Double]) -> Double {
        switch self {
        case .macro: return accuracies.values.reduce(0, +) / Double(max(accuracies.count, 1))
        case .worst: return accuracies.values.min() ?? 0
        case .category(let name, _): return accuracies[name] ?? .nan
        }
    }
}

/// Stratified k-fold cross-validation over a grid of weighting choices.
public struct CrossValidation {
    public var folds: Int
    public var objective: TuneObjective
    /// The base configuration every candidate starts from.
    public var base: TrainingConfiguration
    /// Candidates: each a set of config keys and values applied over `base`.
    public var candidates: [JSONObject]
    public var gridFile: String

    public init(folds: Int, objective: TuneObjective, base: TrainingConfiguration, candidates: [JSONObject], gridFile: String) {
        self.folds = folds
        self.objective = objective
        self.base = base
        self.candidates = candidates
        self.gridFile = gridFile
    }

    public struct Candidate: Sendable {
        public var settings: JSONObject
        /// Per fold: each category's held-out accuracy.
        public var foldAccuracies: [[String: Double]]
        public var scores: [Double]
        public var macroScores: [Double]
        public var mean: Double { scores.reduce(0, +) / Double(scores.count) }
        public var standardDeviation: Double {
            let m = mean
            return (scores.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(scores.count - 1, 1))).squareRoot()
        }
        public var meanMacro: Double { macroScores.reduce(0, +) / Double(macroScores.count) }
        public var macroStandardDeviation: Double {
            let m = meanMacro
            return (macroScores.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(macroScores.count - 1, 1))).squareRoot()
        }
        public func meanAccuracy(_ category: String) -> Double {
            let values = foldAccuracies.compactMap { $0[category] }
            return values.reduce(0, +) / Double(max(values.count, 1))
        }
    }

    public struct Outcome: Sendable {
        public var candidates: [Candidate]
        public var winner: Int
        /// Candidates left out of the choice by `max-drop` (their macro accuracy fell too far).
        public var excluded: Set<Int> = []
        public var categories: [String]
    }

    /// Every candidate × fold is one training run on one thread; runs go in parallel on `threads`
    /// threads. Results do not depend on `threads`: each run is deterministic and single-threaded.
    public func run(dataset: PreferenceDataset, threads: Int, reporter: Reporter = .silent) throws -> Outcome {
        try Self.checkFoldCount(folds)
        try Self.checkFolds(folds, fit: dataset)
        if case .category(let name, _) = objective, !dataset.categoryNames.contains(name) {
            throw UsageError("--objective names category \"\(name)\", which is not in the data (its categories: \(dataset.categoryNames.sorted().map { "\"\($0)\"" }.joined(separator: ", ")))")
        }
        let configurations = try candidates.map { settings -> TrainingConfiguration in
            var configuration = base
            try configuration.apply(settings, from: .file(gridFile))
            configuration.reading.threads = 1
            configuration.holdout = 0
            configuration.out = nil
            try configuration.weighting.validate(categories: dataset.categoryNames)
            return configuration
        }
        // Each target file read once, for every candidate and fold (the classifier is fit on each fold's training pairs).
        var targets: [String: TargetSample] = [:]
        for path in configurations.compactMap(\.target) where targets[path] == nil {
            targets[path] = try TargetSample.read(path, like: dataset, fields: base.reading.fields, maxMemory: base.reading.maxMemory)
        }
        let assignment = groupedFolds(dataset, folds: folds, seed: base.seed, keys: dataset.groupKeys(by: base.grouping))
        let audits = try FoldAudits(configurations: configurations, dataset: dataset, assignment: assignment, folds: folds,
                                    threads: threads, reporter: reporter)
        let jobs = configurations.indices.flatMap { candidate in (0..<folds).map { (candidate, $0) } }
        let finished = Counter()
        let results = parallelMap(parts: jobs.count, threads: threads) { job -> Result<[String: Double], Error> in
            let (candidate, fold) = jobs[job]
            defer { reporter.progress(.init(phase: "tune", completed: finished.increment(), total: jobs.count, unit: "runs")) }
            return Result {
                var train = dataset.subset((0..<dataset.count).filter { assignment[$0] != fold })
                let heldOut = dataset.subset((0..<dataset.count).filter { assignment[$0] == fold })
                // --noise-aware: the fold's own audit, of its training part only.
                let noiseAware = audits.prepared(train, configuration: configurations[candidate], fold: fold)
                if let noiseAware { train = noiseAware.training }
                let outcome = try Trainer.train(train, configuration: configurations[candidate], noiseAdjustment: noiseAware?.adjustment,
                                                target: configurations[candidate].target.flatMap { targets[$0] })
                let rewards = try outcome.trained.rewards(for: heldOut, threads: 1)
                let report = EvaluationReport(dataset: heldOut, chosenRewards: rewards.chosen, rejectedRewards: rewards.rejected)
                return Dictionary(uniqueKeysWithValues: report.categories.map { ($0.name, $0.metrics.accuracy) })
            }
        }
        var outcome = Outcome(candidates: [], winner: 0, categories: dataset.categoryNames.sorted())
        for (index, settings) in candidates.enumerated() {
            let accuracies = try (0..<folds).map { try results[index * folds + $0].get() }
            outcome.candidates.append(Candidate(settings: settings, foldAccuracies: accuracies,
                                                scores: accuracies.map { objective.score($0) },
                                                macroScores: accuracies.map { TuneObjective.macro.score($0) }))
        }
        var eligible = Array(outcome.candidates.indices)
        if case .category(_, let drop?) = objective {
            let bestMacro = outcome.candidates.map(\.meanMacro).max() ?? 0
            eligible = eligible.filter { outcome.candidates[$0].meanMacro >= bestMacro - drop - 1e-12 }
        }
        outcome.excluded = Set(outcome.candidates.indices).subtracting(eligible)
        // Highest mean objective; among equals, the first in grid order.
        outcome.winner = eligible.max { outcome.candidates[$0].mean < outcome.candidates[$1].mean || (outcome.candidates[$0].mean == outcome.candidates[$1].mean && $0 > $1) }!
        return outcome
    }

    /// The most candidates a grid may expand to unless `--max-candidates` says otherwise.
    public static let defaultMaxCandidates = 10_000

    /// The Cartesian product of a grid `{"key": [v1, v2], ...}`, keys in file order. A grid of more
    /// than `limit` candidates is refused before any is built: a few hundred bytes of grid can
    /// multiply out to more candidates than memory holds.
    public static func candidates(fromGrid grid: JSONObject, file: String, limit: Int = defaultMaxCandidates) throws -> [JSONObject] {
        var lists: [(key: String, options: [JSONValue])] = []
        for (key, value) in grid.members {
            guard case .array(let options) = value, !options.isEmpty else {
                throw UsageError("\(file): key \"\(key)\": expected a non-empty list of candidate values")
            }
            lists.append((key, options))
        }
        try checkSize(of: lists.map(\.options.count), file: file, limit: limit)
        var products = [JSONObject()]
        for (key, options) in lists {
            products = products.flatMap { partial in options.map { option in
                var next = partial
                next[key] = option
                return next
            } }
        }
        return products
    }

    /// Refuses a product of `lengths` above `limit`, multiplied with overflow checks.
    private static func checkSize(of lengths: [Int], file: String, limit: Int) throws {
        var product: Int? = 1
        for length in lengths {
            guard let current = product else { break }
            let (next, overflow) = current.multipliedReportingOverflow(by: length)
            product = overflow ? nil : next
        }
        if let product, product <= limit { return }
        let count = product.map(String.init) ?? "over \(Int.max)"
        throw UsageError("\(file): the grid expands to \(count) candidates, more than --max-candidates (\(limit)); "
                         + "give fewer values or raise --max-candidates")
    }
}
