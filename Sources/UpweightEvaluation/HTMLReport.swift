import UpweightSupport
import UpweightIO
import UpweightWeighting

/// The report as one self-contained HTML page: inline CSS and inline SVG only — no scripts, no
/// fonts, no network — so it can be mailed, archived or opened offline. Every text from the data
/// (category and section names, configuration values) is escaped.
extension EvaluationReport {
    /// - Parameters:
    ///   - context: the run that made the report (model, data files, baselines, command, date),
    ///     shown first so a saved page says where its numbers came from.
    ///   - modelProvenance: the model directory's config.json (its "training" and "weights" keys
    ///     are shown as the weighting that trained the model, its "noise_audit" as the label audit).
    ///   - trainingLog: per-epoch objects (`TrainingCurves`); when present, their losses (and held-out
    ///     losses and accuracies) are drawn as training curves.
    public func html(title: String = "Upweight evaluation report", context: ReportContext? = nil, modelProvenance: JSONObject? = nil,
                     trainingLog: [JSONObject]? = nil) -> String {
        var page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>\(htmlEscaped(title))</title>\n"
        page += "<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}"
            + "table{border-collapse:collapse;font-size:12px}.scroll{overflow-x:auto}th,td{padding:3px 8px;white-space:nowrap;border-bottom:1px solid #ddd;text-align:right}"
            + "th:first-child,td:first-child{text-align:left}tr.aggregate td{background:#f6f6f6}.good{color:#1a7f37}.bad{color:#c62828}"
            + ".multiples{display:flex;flex-wrap:wrap;gap:8px}.note{color:#555;font-size:13px}"
            + ".row{display:flex;flex-wrap:wrap;gap:16px 40px;align-items:flex-start}.row>*{width:min-content}"
            + ".record th{text-align:left;vertical-align:top;padding-right:16px}.record td{text-align:left;white-space:normal;overflow-wrap:anywhere}"
            + ".legend{font-size:12px}.key{margin-right:12px;white-space:nowrap}.swatch{display:inline-block;width:12px;height:4px;margin:0 4px 3px 0}"
            + "</style></head><body>\n"
        page += "<h1>\(htmlEscaped(title))</h1>\n"
        if let context { page += context.html }
        page += "<p>\(plural(overall.pairs, "pair", "pairs")) in \(plural(categories.count, "category", "categories")). Overall accuracy \(fixed(overall.accuracy, 3)) "
            + "\(overall.accuracyInterval.display), macro \(fixed(macro.accuracy, 3)), worst category "
            + "<b>\(htmlEscaped(worst.name))</b> at \(fixed(worst.accuracy, 3)) (gap to the best: \(fixed(worst.gap, 3))).</p>\n"

        let layout = ReportTable(self)
        page += "<h2>Metrics</h2>\n" + htmlTable(layout.header, layout.rows, aggregatesStart: layout.aggregatesStart)
        page += layout.notes.map { "<p class=\"note\">\(htmlEscaped($0))</p>\n" }.joined()
        if let sections = layout.sections {
            page += "<h2>Sections</h2>\n" + htmlTable(sections.header, sections.rows, aggregatesStart: sections.rows.count - 1)
        }

        // Charts side by side where a 1280-pixel window has room; they wrap below each other where not.
        page += "<div class=\"row\"><section><h2>Accuracy per category</h2>\n<p class=\"note\">Bars: accuracy; whiskers: 95% bootstrap interval; "
            + "dashed: chance (0.5)\(comparison == nil ? "" : "; grey: the baseline model").</p>\n"
        page += Charts.accuracyBars(accuracyRows) + "</section>\n"
        page += "<section><h2>Calibration</h2>\n<p class=\"note\">Bars: accuracy of the pairs in each confidence bin; dots: their "
            + "mean confidence; dashed: a calibrated model. A bar below its dot means overconfidence.</p>\n"
        page += Charts.reliability(calibration, expectedError: overall.calibrationError) + "</section></div>\n"
        page += "<h2>Margins per category</h2>\n<p class=\"note\">Histograms of Δ = r(chosen) − r(rejected) on one shared "
            + "axis; right of the dashed line the model prefers the chosen response.</p>\n<div class=\"multiples\">\n"
        // One axis for every category, always holding Δ = 0.
        let allMargins = categoryMargins.joined().filter(\.isFinite)
        var domain = (min(0, allMargins.min() ?? -1), max(0, allMargins.max() ?? 1))
        if domain.0 == domain.1 { domain = (-1, 1) }
        for (index, category) in categories.enumerated() {
            page += Charts.marginHistogram(name: category.name, margins: categoryMargins[index], domain: domain) + "\n"
        }
        page += "</div>\n" + weightingSection(modelProvenance) + NoiseAuditSection.html(modelProvenance)
        if let curves = TrainingCurves(log: trainingLog ?? []) {
            page += "<h2>Training curves</h2>\n" + curves.html
        }
        return page + "</body></html>\n"
    }

    private var accuracyRows: [Charts.AccuracyRow] {
        var rows = categories.indices.map { index in
            Charts.AccuracyRow(name: categories[index].name, accuracy: categories[index].metrics.accuracy,
                               interval: categories[index].metrics.accuracyInterval,
                               baseline: comparison.map { ($0.categories[index].baselineAccuracy, $0.categories[index].baselineInterval) })
        }
        rows.append(Charts.AccuracyRow(name: "overall", accuracy: overall.accuracy, interval: overall.accuracyInterval,
                                       baseline: comparison.map { ($0.overall.baselineAccuracy, $0.overall.baselineInterval) }))
        rows.append(Charts.AccuracyRow(name: "macro", accuracy: macro.accuracy, interval: macro.accuracyInterval))
        return rows
    }

    private func htmlTable(_ header: [String], _ rows: [[ReportTable.Cell]], aggregatesStart: Int) -> String {
        var table = "<div class=\"scroll\"><table><thead><tr>" + header.map { "<th>\(htmlEscaped($0))</th>" }.joined() + "</tr></thead><tbody>\n"
        for (index, row) in rows.enumerated() {
            table += index >= aggregatesStart ? "<tr class=\"aggregate\">" : "<tr>"
            for cell in row {
                let tone = cell.tone == .good ? " class=\"good\"" : cell.tone == .bad ? " class=\"bad\"" : ""
                table += "<td\(tone)>\(htmlEscaped(cell.text))</td>"
            }
            table += "</tr>\n"
        }
        return table + "</tbody></table></div>\n"
    }

    /// "The weighting that trained the model": the training configuration and the weight summary
    /// from the model's config.json, with the per-category weight shares as a chart.
    private func weightingSection(_ provenance: JSONObject?) -> String {
        var section = "<h2>The weighting that trained the model</h2>\n"
        guard let provenance, provenance["training"] != nil || provenance["weights"] != nil else {
            return section + "<p class=\"note\">Not available: the report was made without the model's config.json.</p>\n"
        }
        section += "<div class=\"row\"><div>"
        if case .object(let training)? = provenance["training"] {
            section += "<table><thead><tr><th>training setting</th><th>value</th></tr></thead><tbody>\n"
            for (key, value) in training.members {
                section += "<tr><td>\(htmlEscaped(key))</td><td>\(htmlEscaped(value.stringValue ?? value.compactText))</td></tr>\n"
            }
            section += "</tbody></table>\n"
        }
        section += "</div><div>"
        if case .object(let weights)? = provenance["weights"] {
            let size = weights["effective_sample_size"]?.numberValue, top = weights["top_1_percent_share"]?.numberValue
            section += "<p class=\"note\">Effective sample size \(size.map { fixed($0, 1) } ?? "unknown"); the heaviest 1% "
                + "of pairs held \(top.map { fixed(100 * $0, 1) + "%" } ?? "an unknown share") of the weight.</p>\n"
            if case .object(let perCategory)? = weights["categories"] {
                let shares = perCategory.members.compactMap { name, value -> (name: String, before: Double, after: Double)? in
                    guard case .object(let entry) = value, let before = entry["share_before"]?.numberValue,
                          let after = entry["share_after"]?.numberValue else { return nil }
                    return (name, before, after)
                }
                if !shares.isEmpty { section += Charts.weightShares(shares) + "\n" }
            }
        }
        // `--target`: the domain classifier behind the importance weights (TargetWeights.json).
        if case .object(let target)? = provenance["target"] {
            section += "<table><thead><tr><th>target domain</th><th>value</th></tr></thead><tbody>\n"
            for (key, value) in target.members {
                let text = value.numberValue.map { value.compactText.contains(".") ? fixed($0, 3) : value.compactText } ?? value.stringValue ?? value.compactText
                section += "<tr><td>\(htmlEscaped(key))</td><td>\(htmlEscaped(text))</td></tr>\n"
            }
            section += "</tbody></table>\n"
        }
        return section + "</div></div>\n"
    }
}
