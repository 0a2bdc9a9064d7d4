import UpweightSupport
import UpweightData

/// What to compute besides the per-category metrics; the defaults are the CLI's.
public struct EvaluationOptions: Sendable {
    public var ties: TiePolicy
    /// Bootstrap resamples for the 95% intervals (0: no intervals, written as null).
    public var bootstrapSamples: Int
    public var seed: UInt64
    public var sections: Sections?
    /// A baseline model's rewards on the same pairs, in the same order: adds the comparison.
    public var baselineRewards: (chosen: [Float], rejected: [Float])?

    public init(ties: TiePolicy = .half, bootstrapSamples: Int = 1000, seed: UInt64 = 0, sections: Sections? = nil,
                baselineRewards: (chosen: [Float], rejected: [Float])? = nil) {
        self.ties = ties
        self.bootstrapSamples = bootstrapSamples
        self.seed = seed
        self.sections = sections
        self.baselineRewards = baselineRewards
    }
}

/// Alignment metrics of a reward model on preference pairs, per category and in aggregate (the
/// formulas are on `Metrics`, `Calibration`, `Bootstrap`, `Comparison` and `Sections`).
///
/// Δ_i = r(chosen_i) − r(rejected_i): the pair's margin field is not subtracted, since it shapes
/// training, not the question "does the model prefer the chosen response?".
public struct EvaluationReport: Sendable {
    public var options: EvaluationOptions
    public var overall: Metrics
    /// Per category, sorted by name.
    public var categories: [(name: String, metrics: Metrics)]
    /// The unweighted mean of the categories' metrics (`pairs` is the total; the interval is the
    /// bootstrap of the macro accuracy itself).
    public var macro: Metrics
    /// The category with the lowest accuracy (the first by name among equals); gap = best − worst.
    public var worst: (name: String, accuracy: Double, gap: Double)
    public var sections: [SectionResult]?
    public var sectionsOverall: Double?
    /// With a baseline: the comparison overall and per category (in `categories`' order).
    public var comparison: (overall: Comparison, categories: [Comparison])?
    /// Calibration bins of all pairs, for the reliability diagram.
    public var calibration: Calibration
    /// Δ per category (in `categories`' order), for the margin histograms.
    public var categoryMargins: [[Double]]
    /// False when every per-example weight is 1 (weighted accuracy then equals accuracy).
    public var hasExampleWeights: Bool
    public var isText: Bool

    public var ties: TiePolicy { options.ties }

    /// The report with the default options (ties ½, 1000 bootstrap resamples, seed 0).
    public init(dataset: PreferenceDataset, chosenRewards: [Float], rejectedRewards: [Float]) {
        self.init(checked: dataset, chosenRewards: chosenRewards, rejectedRewards: rejectedRewards, options: EvaluationOptions())
    }

    /// Throws a `UsageError` for options that do not fit the data (unknown categories in the sections).
    public init(dataset: PreferenceDataset, chosenRewards: [Float], rejectedRewards: [Float], options: EvaluationOptions) throws {
        guard options.bootstrapSamples >= 0 else { throw UsageError("--bootstrap: expected a whole number ≥ 0, got \(options.bootstrapSamples)") }
        let present = dataset.categoryNames.indices.filter { dataset.categoryCounts[$0] > 0 }.map { dataset.categoryNames[$0] }
        try options.sections?.validate(categories: present)
        self.init(checked: dataset, chosenRewards: chosenRewards, rejectedRewards: rejectedRewards, options: options)
    }

    private init(checked dataset: PreferenceDataset, chosenRewards: [Float], rejectedRewards: [Float], options: EvaluationOptions) {
        precondition(chosenRewards.count == dataset.count && rejectedRewards.count == dataset.count)
        self.options = options
        let margins = (0..<dataset.count).map { Double(chosenRewards[$0]) - Double(rejectedRewards[$0]) }
        var lengthCredits: [Double]?
        if case .text(_, let chosen, let rejected) = dataset.responses {
            lengthCredits = zip(chosen, rejected).map { chosen, rejected in
                let difference = chosen.unicodeScalars.count - rejected.unicodeScalars.count
                return difference > 0 ? 1 : difference == 0 ? 0.5 : 0
            }
        } else if let digests = dataset.textDigests {
            lengthCredits = digests.lengthOrder.map { 0.5 + 0.5 * Double($0) }  // streamed text: the same credits
        }
        func columns(_ pairs: [Int]) -> PairColumns {
            PairColumns(margins: pairs.map { margins[$0] }, chosenRewards: pairs.map { Double(chosenRewards[$0]) },
                        rejectedRewards: pairs.map { Double(rejectedRewards[$0]) }, weights: pairs.map { dataset.exampleWeights[$0] },
                        lengthCredits: lengthCredits.map { credits in pairs.map { credits[$0] } })
        }
        var members = [[Int]](repeating: [], count: dataset.categoryNames.count)
        for pair in 0..<dataset.count { members[Int(dataset.categoryIndices[pair])].append(pair) }
        let groups = dataset.categoryNames.indices.filter { !members[$0].isEmpty }
            .sorted { dataset.categoryNames[$0] < dataset.categoryNames[$1] }
            .map { (name: dataset.categoryNames[$0], pairs: members[$0]) }

        categories = groups.map { ($0.name, Metrics(columns($0.pairs), ties: options.ties)) }
        overall = Metrics(columns(Array(0..<dataset.count)), ties: options.ties)
        macro = Metrics(meanOf: categories.map(\.metrics))
        calibration = Calibration(margins: margins)
        categoryMargins = groups.map { $0.pairs.map { margins[$0] } }
        hasExampleWeights = dataset.exampleWeights.contains { $0 != 1 }
        isText = dataset.isText

        let accuracies = categories.map(\.metrics.accuracy).filter { !$0.isNaN }
        let lowest = categories.filter { !$0.metrics.accuracy.isNaN }.min { $0.metrics.accuracy < $1.metrics.accuracy }
        worst = (lowest?.name ?? "", lowest?.metrics.accuracy ?? .nan, (accuracies.max() ?? .nan) - (accuracies.min() ?? .nan))

        let bootstrap = Bootstrap(groups: groups.map(\.pairs), samples: options.bootstrapSamples, seed: options.seed)
        let modelScores = Bootstrap.Scores(margins: margins, ties: options.ties)
        var baselineMargins: [Double]?
        var baselineScores: Bootstrap.Scores?
        if let baseline = options.baselineRewards {
            precondition(baseline.chosen.count == dataset.count && baseline.rejected.count == dataset.count)
            baselineMargins = (0..<dataset.count).map { Double(baseline.chosen[$0]) - Double(baseline.rejected[$0]) }
            baselineScores = Bootstrap.Scores(margins: baselineMargins!, ties: options.ties)
        }
        let intervals = bootstrap.intervals(model: modelScores, baseline: baselineScores)
        for index in categories.indices { categories[index].metrics.accuracyInterval = intervals.categories[index] }
        overall.accuracyInterval = intervals.overall
        macro.accuracyInterval = intervals.macro

        if let baselineMargins, let baselineScores {
            func compare(_ pairs: [Int], accuracy: Double, difference: Interval, baselineInterval: Interval) -> Comparison {
                let baselineAccuracy = baselineScores.accuracy(pairs)
                let discordant = discordantCounts(model: pairs.map { margins[$0] }, baseline: pairs.map { baselineMargins[$0] })
                return Comparison(accuracyDelta: accuracy - baselineAccuracy, interval: difference,
                                  pValue: mcNemarPValue(modelOnly: discordant.modelOnly, baselineOnly: discordant.baselineOnly),
                                  baselineAccuracy: baselineAccuracy, baselineInterval: baselineInterval)
            }
            comparison = (compare(Array(0..<dataset.count), accuracy: overall.accuracy, difference: intervals.differenceOverall,
                                  baselineInterval: intervals.baselineOverall),
                          groups.indices.map { index in
                              compare(groups[index].pairs, accuracy: categories[index].metrics.accuracy,
                                      difference: intervals.differenceCategories[index], baselineInterval: intervals.baselineCategories[index])
                          })
        }
        if let definitions = options.sections {
            let scored = Self.score(definitions, categories: categories)
            (sections, sectionsOverall) = (scored.sections, scored.overall)
        }
    }
}
