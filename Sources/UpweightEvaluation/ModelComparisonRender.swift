import UpweightSupport
import UpweightIO

extension ModelComparison {
    /// Model labels: A, B, C, … (Z, then M27, M28, …).
    public var labels: [String] {
        models.indices.map { $0 < 26 ? String(UnicodeScalar(UInt8(65 + $0))) : "M\($0 + 1)" }
    }

    /// One block per category (a line per model), then overall, macro, the baseline's worst category
    /// and the minimum over categories; at most 118 columns wide, however long the names (a category
    /// name is cut at 24 characters).
    public var table: String {
        let header = ["category", "pairs", "model", "accuracy [95% CI]", "Δ vs A [95% CI]", "p", "Holm p", "detects"]
        var rows: [[String]] = []
        for group in groups {
            for (model, row) in group.rows.enumerated() {
                let first = model == 0
                var cells = [first ? Self.cut(group.name, 24) : "", first ? "\(group.pairs)" : "", labels[model],
                             "\(Self.number(row.accuracy)) \(Self.interval(row.interval))"]
                if let delta = row.delta, let interval = row.deltaInterval {
                    cells.append("\(Self.signed(delta)) \(Self.interval(interval, signed: true))")
                } else {
                    cells.append("")
                }
                let significant = (row.adjustedPValue ?? row.pValue).map { $0 < 0.05 } ?? false
                cells.append(row.pValue.map { pValueText($0) + (row.adjustedPValue == nil && significant ? "*" : "") } ?? "")
                cells.append(row.adjustedPValue.map { pValueText($0) + (significant ? "*" : "") } ?? "")
                cells.append(row.detectable.map { "±" + Self.number($0) } ?? (row.delta != nil && row.adjustedPValue != nil ? "—" : ""))
                rows.append(cells)
            }
        }
        var lines = models.enumerated().map { "\(labels[$0.offset]) = \(terminalEscaped($0.element))\($0.offset == 0 ? " (baseline)" : "")" }
        lines.append("")
        lines += TextTable([header] + rows, left: [0, 2], rulesBefore: [1]).lines
        lines.append("")
        lines += notes.flatMap { wrapped($0, width: 118) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// What the columns mean, and which categories are too small to tell.
    public var notes: [String] {
        var notes = [
            "Δ: accuracy − A's on the same pairs; 95% CI: paired percentile bootstrap, \(bootstrapSamples) resamples within each category, seed \(seed); \(ties.explanation)",
            "p: exact McNemar (categories, overall) or bootstrap (macro, worst, minimum); Holm p: Holm–Bonferroni over the \(familySize) category tests; * p < 0.05 (adjusted where there is one)",
            "detects: the smallest accuracy change the category's pairs can detect (95% confidence, 80% power, from the discordant rate; Connor 1987); — the models agree on every pair",
        ]
        var tooSmall: [String] = []
        for group in groups {
            for (model, row) in group.rows.enumerated() {
                guard let delta = row.delta, let detectable = row.detectable, abs(delta) < detectable else { continue }
                tooSmall.append("\(labels[model]) in \(terminalEscaped(group.name)) (\(group.pairs) pairs: Δ \(Self.signed(delta)), detects ±\(Self.number(detectable)))")
            }
        }
        if !tooSmall.isEmpty { notes.append("too small to tell: " + tooSmall.joined(separator: "; ")) }
        return notes
    }

    public var json: JSONObject {
        func value(_ number: Double?) -> JSONValue { number.map { $0.isNaN ? .null : .number($0) } ?? .null }
        func interval(_ interval: Interval?) -> JSONValue { interval.map { [value($0.lower), value($0.upper)] } ?? .null }
        let groupValues: [JSONValue] = groups.map { group in
            .object(JSONObject([("name", .string(group.name)), ("pairs", JSONValue(group.pairs)),
                                ("models", .array(group.rows.enumerated().map { model, row in
                                    .object(JSONObject([("model", .string(models[model])), ("accuracy", value(row.accuracy)),
                                                        ("accuracy_ci", interval(row.interval)), ("delta", value(row.delta)),
                                                        ("delta_ci", interval(row.deltaInterval)), ("p_value", value(row.pValue)),
                                                        ("p_value_holm", value(row.adjustedPValue)),
                                                        ("minimum_detectable_effect", value(row.detectable))]))
                                }))]))
        }
        return JSONObject([("baseline", .string(models[0])), ("models", .array(models.map { .string($0) })),
                           ("ties", .string(ties.rawValue)), ("bootstrap", JSONValue(bootstrapSamples)), ("seed", .integer(Int64(bitPattern: seed))),
                           ("holm_family_size", JSONValue(familySize)), ("groups", .array(groupValues))])
    }

    package static func number(_ value: Double) -> String { value.isNaN ? "n/a" : fixed(value, 3) }
    package static func signed(_ value: Double) -> String { value.isNaN ? "n/a" : (value >= 0 ? "+" : "") + fixed(value, 3) }
    package static func interval(_ interval: Interval, signed: Bool = false) -> String {
        guard !interval.lower.isNaN else { return "" }
        let format = signed ? Self.signed : Self.number
        return "[\(format(interval.lower)), \(format(interval.upper))]"
    }

    /// `text` cut to `limit` characters, the last one an ellipsis when cut; escaped for a terminal.
    package static func cut(_ text: String, _ limit: Int) -> String {
        let safe = terminalEscaped(text)
        return safe.count <= limit ? safe : String(safe.prefix(limit - 1)) + "…"
    }
}
