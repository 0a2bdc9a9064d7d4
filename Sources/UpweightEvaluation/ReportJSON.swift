import UpweightIO

/// The report as JSON; the names are a contract (docs/METRICS.md#formats).
extension EvaluationReport.Metrics {
    package var json: JSONObject {
        var object = JSONObject([
            ("pairs", JSONValue(pairs)), ("accuracy", .number(accuracy)), ("accuracy_ci95", accuracyInterval.json),
            ("weighted_accuracy", .number(weightedAccuracy)), ("mean_margin", .number(meanMargin)),
            ("median_margin", .number(medianMargin)), ("log_loss", .number(logLoss)), ("brier", .number(brier)),
            ("ece", .number(calibrationError)), ("reward_mean", .number(rewardMean)),
            ("reward_std", .number(rewardStandardDeviation)),
        ])
        if let lengthBaselineAccuracy { object["length_baseline_accuracy"] = .number(lengthBaselineAccuracy) }
        return object
    }
}

extension Interval {
    /// `[lower, upper]` (nulls when unknown).
    package var json: JSONValue { .array([.number(lower), .number(upper)]) }
}

extension Comparison {
    package var json: JSONObject {
        JSONObject([("accuracy_delta", .number(accuracyDelta)), ("ci95", interval.json), ("p_value", .number(pValue))])
    }
}

extension EvaluationReport {
    /// `{"pairs", "ties", "overall", "macro", "worst": {"category", "accuracy", "gap"}, "categories",
    /// "sections"?, "sections_overall"?, "baseline"?: {"overall", "categories"}}`.
    public var json: JSONObject {
        var perCategory = JSONObject()
        for (name, metrics) in categories { perCategory[name] = .object(metrics.json) }
        var object = JSONObject([
            ("pairs", JSONValue(overall.pairs)), ("ties", .string(ties.rawValue)),
            ("overall", .object(overall.json)), ("macro", .object(macro.json)),
            ("worst", ["category": .string(worst.name), "accuracy": .number(worst.accuracy), "gap": .number(worst.gap)]),
            ("categories", .object(perCategory)),
        ])
        if let sections, let sectionsOverall {
            var perSection = JSONObject()
            for section in sections {
                perSection[section.name] = ["accuracy": .number(section.accuracy), "pairs": JSONValue(section.pairs),
                                            "weight": .number(section.weight)]
            }
            object["sections"] = .object(perSection)
            object["sections_overall"] = .number(sectionsOverall)
        }
        if let comparison {
            var perCategory = JSONObject()
            for (index, category) in categories.enumerated() { perCategory[category.name] = .object(comparison.categories[index].json) }
            object["baseline"] = ["overall": .object(comparison.overall.json), "categories": .object(perCategory)]
        }
        return object
    }
}
