/// The rows and columns that the table, Markdown and HTML formats show, as display text (3 decimals).
struct ReportTable {
    /// A cell's text and how it stands out when colour is allowed.
    struct Cell {
        enum Tone { case plain, good, bad }
        var text: String
        var tone: Tone = .plain
    }

    var header: [String]
    var rows: [[Cell]]
    /// Rows from this index on are the aggregates (a rule is drawn above them).
    var aggregatesStart: Int
    var notes: [String]
    /// RewardBench-style sections, when asked for: header and rows.
    var sections: (header: [String], rows: [[Cell]])?

    /// `wide`: every metric; otherwise the few that fit a terminal (pairs, accuracy and its interval,
    /// log loss, ECE and the comparison).
    init(_ report: EvaluationReport, wide: Bool = true) {
        header = ["category", "pairs", "accuracy", "95% CI"]
        if wide && report.hasExampleWeights { header.append("weighted acc") }
        header += wide ? ["mean margin", "median margin", "log loss", "brier", "ece", "reward mean", "reward sd"] : ["log loss", "ece"]
        if wide && report.isText { header.append("longer wins") }
        if report.comparison != nil { header += ["vs baseline", "p"] }

        func row(_ name: String, _ metrics: EvaluationReport.Metrics, _ comparison: Comparison?) -> [Cell] {
            let interval = metrics.accuracyInterval
            // Green: the interval lies above chance (0.5); red: below it.
            let tone: Cell.Tone = interval.lower > 0.5 ? .good : interval.upper < 0.5 ? .bad : .plain
            var cells = [Cell(text: name), Cell(text: String(metrics.pairs)), Cell(text: fixed(metrics.accuracy, 3), tone: tone),
                         Cell(text: interval.display)]
            if wide && report.hasExampleWeights { cells.append(Cell(text: fixed(metrics.weightedAccuracy, 3))) }
            let values = wide ? [metrics.meanMargin, metrics.medianMargin, metrics.logLoss, metrics.brier, metrics.calibrationError,
                                 metrics.rewardMean, metrics.rewardStandardDeviation] : [metrics.logLoss, metrics.calibrationError]
            cells += values.map { Cell(text: fixed($0, 3)) }
            if wide && report.isText { cells.append(Cell(text: metrics.lengthBaselineAccuracy.map { fixed($0, 3) } ?? "")) }
            if report.comparison != nil {
                if let comparison {
                    let mark = comparison.isSignificant ? "*" : " "
                    let tone: Cell.Tone = !comparison.isSignificant ? .plain : comparison.accuracyDelta > 0 ? .good : .bad
                    cells.append(Cell(text: signed(comparison.accuracyDelta) + mark, tone: tone))
                    cells.append(Cell(text: pValueText(comparison.pValue)))
                } else {
                    cells += [Cell(text: ""), Cell(text: "")]
                }
            }
            return cells
        }

        rows = report.categories.indices.map { index in
            row(report.categories[index].name, report.categories[index].metrics, report.comparison?.categories[index])
        }
        aggregatesStart = rows.count
        rows.append(row("overall", report.overall, report.comparison?.overall))
        rows.append(row("macro (mean of categories)", report.macro, nil))
        var worstRow = [Cell(text: "worst: \(report.worst.name)"), Cell(text: ""), Cell(text: fixed(report.worst.accuracy, 3)),
                        Cell(text: "gap \(fixed(report.worst.gap, 3))")]
        worstRow += [Cell](repeating: Cell(text: ""), count: header.count - worstRow.count)
        rows.append(worstRow)

        let options = report.options
        notes = ["accuracy: \(options.ties.explanation) (--ties \(options.ties.rawValue)); 95% CI: percentile bootstrap, "
                 + "\(options.bootstrapSamples) resamples within each category, seed \(options.seed)"]
        if report.comparison != nil {
            notes.append("vs baseline: accuracy − baseline accuracy; * its paired-bootstrap 95% CI excludes 0; "
                         + "p: exact McNemar test (a tie counts as wrong)")
        }
        if let results = report.sections, let overall = report.sectionsOverall {
            var sectionRows = results.map { section in
                [Cell(text: section.name), Cell(text: String(section.pairs)), Cell(text: fixed(section.weight, 3)),
                 Cell(text: fixed(section.accuracy, 3))]
            }
            sectionRows.append([Cell(text: "sections overall"), Cell(text: ""), Cell(text: ""), Cell(text: fixed(overall, 3))])
            sections = (["section", "pairs", "weight", "accuracy"], sectionRows)
        }
    }
}

extension ReportTable {
    /// Cuts the first column's texts (category names) so that the table is at most `width` wide,
    /// keeping at least 12 characters of each.
    mutating func fit(width: Int) {
        let others = header.indices.dropFirst().reduce(0) { total, column in
            total + 2 + max(header[column].count, rows.map { $0[column].text.count }.max() ?? 0)
        }
        let limit = max(12, width - others)
        for index in rows.indices where rows[index][0].text.count > limit {
            rows[index][0].text = String(rows[index][0].text.prefix(limit - 1)) + "…"
        }
    }
}

extension Interval {
    /// "[0.512, 0.634]", or "" when unknown.
    var display: String { lower.isNaN ? "" : "[\(fixed(lower, 3)), \(fixed(upper, 3))]" }
}

/// "+0.012" / "-0.030": a difference always shows its sign.
func signed(_ value: Double) -> String { (value > 0 ? "+" : "") + fixed(value, 3) }

/// Three significant decimals, or "<0.001".
func pValueText(_ value: Double) -> String { value < 0.001 ? "<0.001" : fixed(value, 3) }

/// `value` with `digits` decimals, rounded half away from zero ("0.750").
func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    // Beyond 2^53 a Double has no decimals left to show, and Int64 would trap: print it as Swift does ("1e+16").
    guard scaled < 0x1p53 else { return "\(value)" }
    let whole = Int64(scaled / scale)
    var fraction = String(Int64(scaled) - whole * Int64(scale))
    fraction = String(repeating: "0", count: max(0, digits - fraction.count)) + fraction
    let sign = value < 0 && scaled != 0 ? "-" : ""
    return digits == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
}
