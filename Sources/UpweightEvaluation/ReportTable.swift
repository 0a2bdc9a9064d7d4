import UpweightSupport

/// The rows and columns that the table, Markdown and HTML formats show, as display text (3 decimals).
package struct ReportTable {
    /// A cell's text and how it stands out when colour is allowed.
    package struct Cell {
        package enum Tone { case plain, good, bad }
        package var text: String
        package var tone: Tone = .plain
    }

    package var header: [String]
    package var rows: [[Cell]]
    /// Rows from this index on are the aggregates (a rule is drawn above them).
    package var aggregatesStart: Int
    package var notes: [String]
    /// RewardBench-style sections, when asked for: header and rows.
    package var sections: (header: [String], rows: [[Cell]])?

    /// `wide`: every metric; otherwise the few that fit a terminal (pairs, accuracy and its interval,
    /// log loss, ECE and the comparison).
    package init(_ report: EvaluationReport, wide: Bool = true) {
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
    package mutating func fit(width: Int) {
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
    package var display: String { lower.isNaN ? "" : "[\(fixed(lower, 3)), \(fixed(upper, 3))]" }
}
