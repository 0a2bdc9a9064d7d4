import UpweightIO

/// CSV (RFC 4180 quoting; lines end in LF): a header of metric names (the JSON's), then one row per
/// category and the `overall` and `macro` rows. The `scope` column says which kind a row is, so a category that
/// happens to be named "overall" cannot be mistaken for the aggregate. Numbers at full precision;
/// an unknown value is an empty cell.
extension EvaluationReport {
    public var csv: String {
        var header = ["scope", "category", "pairs", "accuracy", "accuracy_ci95_low", "accuracy_ci95_high", "weighted_accuracy",
                      "mean_margin", "median_margin", "log_loss", "brier", "ece", "reward_mean", "reward_std"]
        if isText { header.append("length_baseline_accuracy") }
        if comparison != nil { header += ["accuracy_delta", "accuracy_delta_ci95_low", "accuracy_delta_ci95_high", "p_value"] }

        func row(_ scope: String, _ name: String, _ metrics: Metrics, _ comparison: Comparison?) -> [String] {
            var cells = [scope, csvQuoted(name), String(metrics.pairs)]
            var numbers = [metrics.accuracy, metrics.accuracyInterval.lower, metrics.accuracyInterval.upper, metrics.weightedAccuracy,
                           metrics.meanMargin, metrics.medianMargin, metrics.logLoss, metrics.brier, metrics.calibrationError,
                           metrics.rewardMean, metrics.rewardStandardDeviation]
            if isText { numbers.append(metrics.lengthBaselineAccuracy ?? .nan) }
            if self.comparison != nil {
                numbers += comparison.map { [$0.accuracyDelta, $0.interval.lower, $0.interval.upper, $0.pValue] }
                    ?? [.nan, .nan, .nan, .nan]
            }
            cells += numbers.map { $0.isFinite ? JSONValue.format($0) : "" }
            return cells
        }
        var rows = [header]
        for (index, category) in categories.enumerated() {
            rows.append(row("category", category.name, category.metrics, comparison?.categories[index]))
        }
        rows.append(row("overall", "", overall, comparison?.overall))
        rows.append(row("macro", "", macro, nil))
        return rows.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
    }
}

/// A CSV field: quoted (with quotes doubled) when it holds a comma, a quote or a line break.
package func csvQuoted(_ field: String) -> String {
    guard field.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return field }
    return "\"" + replacingCharacters(in: field, ["\"": "\"\""]) + "\""
}
