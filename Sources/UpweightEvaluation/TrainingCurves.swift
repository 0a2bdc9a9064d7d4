import UpweightSupport
import UpweightIO

/// The training log drawn: overall and per category, the training loss and — when the run held
/// pairs out — the held-out log loss and accuracy, epoch by epoch. A run with one log entry (L-BFGS
/// fits in one go) has values, not curves: it is drawn as labelled dots.
package struct TrainingCurves {
    package struct Series {
        package var name: String
        package var colour: String
        package var trainingLoss: [Double?]
        package var heldOutLoss: [Double?]
        package var heldOutAccuracy: [Double?]
    }

    package var epochs: [Double]
    /// "overall" first (black), then the categories by name.
    package var series: [Series]

    /// Reads entries `{"epoch", "train_loss", "train_loss_by_category": {NAME: loss},
    /// "eval"?: {"log_loss", "accuracy", "categories": {NAME: {"log_loss", "accuracy"}}}}`; nil when
    /// they hold no value to draw.
    package init?(log: [JSONObject]) {
        epochs = log.enumerated().map { index, entry in entry["epoch"]?.numberValue ?? Double(index + 1) }
        func object(_ value: JSONValue?) -> JSONObject? {
            if case .object(let object)? = value { return object }
            return nil
        }
        let evaluations = log.map { object($0["eval"]) }
        var names = Set<String>()
        for (entry, evaluation) in zip(log, evaluations) {
            names.formUnion(object(entry["train_loss_by_category"])?.keys ?? [])
            names.formUnion(object(evaluation?["categories"])?.keys ?? [])
        }
        series = [Series(name: "overall", colour: "#000000", trainingLoss: log.map { $0["train_loss"]?.numberValue },
                         heldOutLoss: evaluations.map { $0?["log_loss"]?.numberValue },
                         heldOutAccuracy: evaluations.map { $0?["accuracy"]?.numberValue })]
        for (index, name) in names.sorted().enumerated() {
            let held = evaluations.map { object(object($0?["categories"])?[name]) }
            series.append(Series(name: name, colour: paletteColour(index),
                                 trainingLoss: log.map { object($0["train_loss_by_category"])?[name]?.numberValue },
                                 heldOutLoss: held.map { $0?["log_loss"]?.numberValue },
                                 heldOutAccuracy: held.map { $0?["accuracy"]?.numberValue }))
        }
        let drawn = series.flatMap { $0.trainingLoss + $0.heldOutLoss + $0.heldOutAccuracy }
        guard drawn.contains(where: { $0?.isFinite == true }) else { return nil }
    }

    package var hasHeldOut: Bool { series.contains { $0.heldOutLoss.contains { $0 != nil } || $0.heldOutAccuracy.contains { $0 != nil } } }

    /// The loss chart and, with held-out pairs, the accuracy chart beside it, then a shared legend.
    package var html: String {
        let lossValues = series.flatMap { $0.trainingLoss + $0.heldOutLoss }.compactMap { $0 }.filter(\.isFinite)
        let lossTicks = niceTicks(from: 0, to: max(lossValues.max() ?? 1, 1e-6), count: 4, covering: true)
        let lossDomain = (0.0, lossTicks.last ?? 1)
        let lossLines = series.flatMap { [Line(values: $0.trainingLoss, colour: $0.colour, dashed: false, name: $0.name),
                                          Line(values: $0.heldOutLoss, colour: $0.colour, dashed: true, name: $0.name)] }
        let accuracyLines = series.map { Line(values: $0.heldOutAccuracy, colour: $0.colour, dashed: false, name: $0.name) }
        let lossTitle = hasHeldOut ? "Loss: training (solid) and held-out log loss (dashed)" : "Training loss"
        var charts: [String]
        if Set(epochs).count > 1 {
            charts = [lineChart(title: lossTitle, axis: "loss", lines: lossLines, domain: lossDomain)]
            if hasHeldOut { charts.append(lineChart(title: "Held-out accuracy", axis: "accuracy", lines: accuracyLines, domain: (0, 1))) }
        } else {
            let lossTitle = hasHeldOut ? "Loss after training: training (filled), held-out log loss (ring)" : "Training loss after training"
            charts = [dotChart(title: lossTitle, axis: "loss", lines: lossLines, domain: lossDomain)]
            if hasHeldOut { charts.append(dotChart(title: "Held-out accuracy", axis: "accuracy", lines: accuracyLines, domain: (0, 1))) }
        }
        let legend = series.map { "<span class=\"key\"><span class=\"swatch\" style=\"background:\($0.colour)\"></span>\(htmlEscaped($0.name))</span>" }
        return "<div class=\"multiples\">\n" + charts.joined(separator: "\n") + "\n</div>\n<p class=\"legend\">" + legend.joined(separator: " ") + "</p>\n"
    }

    package struct Line {
        package var values: [Double?]
        package var colour: String
        package var dashed: Bool
        package var name: String
    }

    private let plotWidth = 420.0, plotHeight = 240.0, left = 52.0, top = 38.0

    /// Value against epoch, one polyline per series (a lone point as a dot); axes labelled.
    private func lineChart(title: String, axis: String, lines: [Line], domain: (Double, Double)) -> String {
        var svg = SVG(width: left + plotWidth + 16, height: top + plotHeight + 44, title: title)
        let first = epochs.min() ?? 0, last = epochs.max() ?? 1
        let x = LinearScale(domain: (first, last), range: (left, left + plotWidth))
        let y = LinearScale(domain: domain, range: (top + plotHeight, top))
        svg.text(title, x: 4, y: 14, size: 11, bold: true)
        drawValueAxis(&svg, y: y, domain: domain, label: axis)
        // The first epoch is labelled even when it is not a round number.
        var epochTicks = niceTicks(from: first, to: last, count: 6, whole: true)
        if let round = epochTicks.first, round - first >= 1 { epochTicks.insert(first, at: 0) }
        for tick in epochTicks {
            svg.line(x(tick), top + plotHeight, x(tick), top + plotHeight + 4)
            svg.text(fixed(tick, 0), x: x(tick), y: top + plotHeight + 16, anchor: .middle, size: 10)
        }
        svg.line(left, top + plotHeight, left + plotWidth, top + plotHeight)
        svg.text("epoch", x: left + plotWidth / 2, y: top + plotHeight + 34, anchor: .middle)
        for line in lines {
            let points = zip(epochs, line.values).compactMap { epoch, value in
                value.flatMap { $0.isFinite ? (x: x(epoch), y: y($0)) : nil }
            }
            let width = line.name == "overall" ? 2.5 : 1.5
            if points.count == 1 { svg.circle(x: points[0].x, y: points[0].y, radius: 3, fill: line.colour, hollow: line.dashed) }
            if points.count > 1 { svg.polyline(points, stroke: line.colour, width: width, dashed: line.dashed) }
        }
        return svg.markup
    }

    /// One row per series with its final value(s) as dots, each with its number: what a one-entry log
    /// has to show. Dashed lines' values are rings.
    private func dotChart(title: String, axis: String, lines: [Line], domain: (Double, Double)) -> String {
        let rows = series.map(\.name)
        let labelWidth = min(220, Double(rows.map(\.count).max() ?? 8) * 6.2 + 12), rowHeight = 24.0, width = 300.0
        var svg = SVG(width: labelWidth + width + 40, height: top + Double(rows.count) * rowHeight + 40, title: title)
        let x = LinearScale(domain: domain, range: (labelWidth, labelWidth + width))
        let bottom = top + Double(rows.count) * rowHeight
        svg.text(title, x: 4, y: 14, size: 11, bold: true)
        for tick in niceTicks(from: domain.0, to: domain.1, count: 4) {
            svg.line(x(tick), top - 2, x(tick), bottom, stroke: "#eee")
            svg.text(fixed(tick, 2), x: x(tick), y: bottom + 14, anchor: .middle, size: 10)
        }
        svg.text(axis, x: labelWidth + width / 2, y: bottom + 30, anchor: .middle)
        for (row, name) in rows.enumerated() {
            let y = top + Double(row) * rowHeight + 12
            svg.text(name, x: labelWidth - 8, y: y + 4, anchor: .end, bold: name == "overall")
            for line in lines where line.name == name {
                guard let value = line.values.last ?? nil, value.isFinite else { continue }
                svg.circle(x: x(value), y: y, radius: 4, fill: line.colour, hollow: line.dashed)
                svg.text(fixed(value, 3), x: x(value) + 6, y: line.dashed ? y + 11 : y - 3, size: 9, fill: "#444")
            }
        }
        return svg.markup
    }

    private func drawValueAxis(_ svg: inout SVG, y: LinearScale, domain: (Double, Double), label: String) {
        for tick in niceTicks(from: domain.0, to: domain.1, count: 4) {
            svg.line(left - 4, y(tick), left + plotWidth, y(tick), stroke: "#eee")
            svg.text(fixed(tick, 2), x: left - 6, y: y(tick) + 3, anchor: .end, size: 10)
        }
        svg.line(left, top, left, top + plotHeight)
        svg.text(label, x: left - 6, y: top - 6, anchor: .end, size: 10)
    }
}
