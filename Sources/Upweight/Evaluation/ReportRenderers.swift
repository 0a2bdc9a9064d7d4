/// Report formats: `table` for people, `json` for programs (the shape is a contract, see README).
public enum ReportFormat: String, Sendable, CaseIterable { case table, json }

extension EvaluationReport.Metrics {
    var json: JSONObject {
        JSONObject([("pairs", JSONValue(pairs)), ("accuracy", .number(accuracy)),
                    ("mean_margin", .number(meanMargin)), ("log_loss", .number(logLoss))])
    }
}

extension EvaluationReport {
    /// `{"pairs", "overall", "macro", "worst": {"category", "accuracy"}, "categories": {NAME: {...}}}`.
    public var json: JSONObject {
        var perCategory = JSONObject()
        for (name, metrics) in categories { perCategory[name] = .object(metrics.json) }
        return JSONObject([
            ("pairs", JSONValue(overall.pairs)), ("overall", .object(overall.json)), ("macro", .object(macro.json)),
            ("worst", ["category": .string(worst.name), "accuracy": .number(worst.accuracy)]),
            ("categories", .object(perCategory)),
        ])
    }

    public func render(_ format: ReportFormat) -> String {
        switch format {
        case .json: return JSONValue.object(json).prettyText
        case .table: return table
        }
    }

    /// Aligned columns: one row per category (by name), then overall, macro and worst.
    public var table: String {
        let header = ["category", "pairs", "accuracy", "mean margin", "log loss"]
        func row(_ name: String, _ metrics: Metrics) -> [String] {
            [name, String(metrics.pairs), fixed(metrics.accuracy, 3), fixed(metrics.meanMargin, 3), fixed(metrics.logLoss, 3)]
        }
        var rows = categories.map { row($0.name, $0.metrics) }
        let separator = rows.count
        rows.append(row("overall", overall))
        rows.append(row("macro (mean of categories)", macro))
        rows.append(["worst: \(worst.name)", "", fixed(worst.accuracy, 3), "", ""])
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        var lines = [line(header)]
        for (index, cells) in rows.enumerated() {
            if index == separator { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
            lines.append(line(cells))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `value` with `digits` decimals, rounded half away from zero ("0.750").
func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let whole = Int64(scaled / scale)
    var fraction = String(Int64(scaled) - whole * Int64(scale))
    fraction = String(repeating: "0", count: max(0, digits - fraction.count)) + fraction
    let sign = value < 0 && scaled != 0 ? "-" : ""
    return digits == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
}
