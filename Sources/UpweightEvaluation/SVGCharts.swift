import UpweightSupport

/// The HTML report's charts, each one `<svg>`.
package enum Charts {
    package struct AccuracyRow {
        package var name: String
        package var accuracy: Double
        package var interval: Interval
        /// The baseline model's accuracy and interval, drawn beside when there is one.
        package var baseline: (accuracy: Double, interval: Interval)?
    }

    /// Horizontal bars of accuracy on [0, 1] with their 95% intervals as whiskers; chance (0.5) dashed.
    package static func accuracyBars(_ rows: [AccuracyRow]) -> String {
        let hasBaseline = rows.contains { $0.baseline != nil }
        let labelWidth = min(300, Double(rows.map(\.name.count).max() ?? 8) * 6.6 + 16)
        let plotWidth = 440.0, rowHeight = hasBaseline ? 30.0 : 20.0, top = 28.0
        let height = top + Double(rows.count) * rowHeight + (hasBaseline ? 34 : 14)
        var svg = SVG(width: labelWidth + plotWidth + 30, height: height, title: "Accuracy per category with 95% intervals")
        let x = LinearScale(domain: (0, 1), range: (labelWidth, labelWidth + plotWidth))
        for tick in [0, 0.25, 0.5, 0.75, 1] {
            svg.line(x(tick), top - 4, x(tick), top + Double(rows.count) * rowHeight, stroke: tick == 0.5 ? "#888" : "#ddd",
                     dashed: tick == 0.5)
            svg.text(fixed(tick, 2), x: x(tick), y: top - 8, anchor: .middle, size: 10)
        }
        for (index, row) in rows.enumerated() {
            let y = top + Double(index) * rowHeight
            svg.text(row.name, x: labelWidth - 8, y: y + 13, anchor: .end)
            drawBar(&svg, x: x, y: y + 3, accuracy: row.accuracy, interval: row.interval, fill: chartPalette[0])
            if let baseline = row.baseline {
                drawBar(&svg, x: x, y: y + 15, accuracy: baseline.accuracy, interval: baseline.interval, fill: "#aaaaaa")
            }
        }
        if hasBaseline {
            let y = height - 14
            svg.rect(x: labelWidth, y: y - 9, width: 12, height: 10, fill: chartPalette[0])
            svg.text("model", x: labelWidth + 16, y: y)
            svg.rect(x: labelWidth + 70, y: y - 9, width: 12, height: 10, fill: "#aaaaaa")
            svg.text("baseline", x: labelWidth + 86, y: y)
        }
        return svg.markup
    }

    private static func drawBar(_ svg: inout SVG, x: LinearScale, y: Double, accuracy: Double, interval: Interval, fill: String) {
        let barHeight = 10.0
        if accuracy.isFinite { svg.rect(x: x(0), y: y, width: x(accuracy) - x(0), height: barHeight, fill: fill, opacity: 0.85) }
        guard interval.lower.isFinite, interval.upper.isFinite else { return }
        let middle = y + barHeight / 2
        svg.line(x(interval.lower), middle, x(interval.upper), middle, stroke: "#222", width: 1.2)
        svg.line(x(interval.lower), middle - 4, x(interval.lower), middle + 4, stroke: "#222", width: 1.2)
        svg.line(x(interval.upper), middle - 4, x(interval.upper), middle + 4, stroke: "#222", width: 1.2)
    }

    /// Reliability diagram: per confidence bin, the accuracy (bar) against the diagonal a calibrated
    /// model would follow; the dot is the bin's mean confidence, the number its pairs.
    package static func reliability(_ calibration: Calibration, expectedError: Double) -> String {
        let size = 320.0, left = 56.0, top = 30.0
        var svg = SVG(width: left + size + 24, height: top + size + 50,
                      title: "Reliability diagram, all pairs (ECE \(fixed(expectedError, 3)))")
        let x = LinearScale(domain: (0.5, 1), range: (left, left + size))
        let y = LinearScale(domain: (0, 1), range: (top + size, top))
        svg.text("Reliability, all pairs: ECE \(fixed(expectedError, 3))", x: left, y: 16, bold: true)
        for tick in [0.5, 0.6, 0.7, 0.8, 0.9, 1.0] {
            svg.line(x(tick), top + size, x(tick), top + size + 4)
            svg.text(fixed(tick, 1), x: x(tick), y: top + size + 16, anchor: .middle, size: 10)
        }
        for tick in [0, 0.25, 0.5, 0.75, 1] {
            svg.line(left - 4, y(tick), left + size, y(tick), stroke: "#eee")
            svg.text(fixed(tick, 2), x: left - 6, y: y(tick) + 3, anchor: .end, size: 10)
        }
        for bin in calibration.bins where bin.count > 0 {
            svg.rect(x: x(bin.lower) + 1, y: y(bin.accuracy), width: x(bin.upper) - x(bin.lower) - 2,
                     height: y(0) - y(bin.accuracy), fill: chartPalette[0], opacity: 0.7)
            svg.circle(x: x(bin.meanConfidence), y: y(bin.meanConfidence), radius: 3, fill: chartPalette[1])
            svg.text(String(bin.count), x: (x(bin.lower) + x(bin.upper)) / 2, y: y(bin.accuracy) - 3, anchor: .middle, size: 9)
        }
        svg.line(x(0.5), y(0.5), x(1), y(1), stroke: "#c00", width: 1.2, dashed: true)
        svg.line(left, top + size, left + size, top + size)
        svg.line(left, top, left, top + size)
        svg.text("confidence max(σ(Δ), 1 − σ(Δ))", x: left + size / 2, y: top + size + 34, anchor: .middle)
        svg.text("accuracy", x: 4, y: top - 8, size: 10)
        return svg.markup
    }

    /// One category's histogram of Δ over a domain shared by all categories (and holding 0), so they
    /// compare; the marked line is Δ = 0 (right of it: the model prefers the chosen response) and the
    /// y axis counts pairs.
    package static func marginHistogram(name: String, margins: [Double], domain: (Double, Double), bins: Int = 20) -> String {
        let width = 270.0, height = 160.0, left = 34.0, right = 8.0, top = 34.0, plotHeight = 90.0
        let plotWidth = width - left - right
        var counts = [Int](repeating: 0, count: bins)
        let binWidth = (domain.1 - domain.0) / Double(bins)
        for margin in margins { counts[binIndex(position: (margin - domain.0) / binWidth, count: bins)] += 1 }
        let ticks = niceTicks(from: 0, to: Double(max(1, counts.max() ?? 1)), count: 3, whole: true, covering: true)
        let y = LinearScale(domain: (0, ticks.last ?? 1), range: (top + plotHeight, top))
        var svg = SVG(width: width, height: height, title: "Margin histogram: \(name)")
        svg.text(name, x: 4, y: 12, size: 11, bold: true)
        svg.text("\(plural(margins.count, "pair", "pairs")); y: pairs per bin", x: 4, y: 25, size: 9, fill: "#666")
        for tick in ticks {
            svg.line(left - 3, y(tick), left + plotWidth, y(tick), stroke: tick == 0 ? "#444" : "#eee")
            svg.text(fixed(tick, 0), x: left - 5, y: y(tick) + 3, anchor: .end, size: 9)
        }
        let x = LinearScale(domain: domain, range: (left, left + plotWidth))
        for (bin, count) in counts.enumerated() where count > 0 {
            svg.rect(x: x(domain.0 + Double(bin) * binWidth) + 0.5, y: y(Double(count)),
                     width: plotWidth / Double(bins) - 1, height: y(0) - y(Double(count)), fill: chartPalette[0], opacity: 0.8)
        }
        svg.line(left, top, left, top + plotHeight)
        svg.line(x(0), top - 4, x(0), top + plotHeight + 3, stroke: "#c00", width: 1.2, dashed: true, mark: "zero")
        let axis = top + plotHeight + 14
        svg.text("0", x: x(0), y: axis, anchor: .middle, size: 9, fill: "#c00")
        // The ends of the shared axis, unless they would overprint the zero.
        if x(0) - left > 24 { svg.text(fixed(domain.0, 1), x: left, y: axis, size: 9) }
        if left + plotWidth - x(0) > 24 { svg.text(fixed(domain.1, 1), x: left + plotWidth, y: axis, anchor: .end, size: 9) }
        svg.text("Δ = r(chosen) − r(rejected)", x: left + plotWidth / 2, y: axis + 13, anchor: .middle, size: 9)
        return svg.markup
    }

    /// Grouped horizontal bars: each category's share of the total weight before weighting (the
    /// example weights alone) and after (what training optimized).
    package static func weightShares(_ shares: [(name: String, before: Double, after: Double)]) -> String {
        let labelWidth = min(300, Double(shares.map(\.name.count).max() ?? 8) * 6.6 + 16)
        let plotWidth = 360.0, rowHeight = 26.0, top = 24.0
        let largest = max(0.01, shares.map { max($0.before, $0.after) }.max() ?? 1)
        var svg = SVG(width: labelWidth + plotWidth + 70, height: top + Double(shares.count) * rowHeight + 30,
                      title: "Share of the training weight per category, before and after weighting")
        let x = LinearScale(domain: (0, largest), range: (labelWidth, labelWidth + plotWidth))
        svg.text("share of total weight (0 to \(fixed(largest, 2)))", x: labelWidth, y: 14, size: 10, fill: "#666")
        for (index, share) in shares.enumerated() {
            let y = top + Double(index) * rowHeight
            svg.text(share.name, x: labelWidth - 8, y: y + 14, anchor: .end)
            svg.rect(x: x(0), y: y + 2, width: x(share.before) - x(0), height: 9, fill: "#aaaaaa")
            svg.rect(x: x(0), y: y + 12, width: x(share.after) - x(0), height: 9, fill: chartPalette[1])
            svg.text(fixed(share.after, 3), x: x(share.after) + 4, y: y + 20, size: 9)
        }
        let legend = top + Double(shares.count) * rowHeight + 16
        svg.rect(x: labelWidth, y: legend - 9, width: 12, height: 10, fill: "#aaaaaa")
        svg.text("before (example weights)", x: labelWidth + 16, y: legend)
        svg.rect(x: labelWidth + 170, y: legend - 9, width: 12, height: 10, fill: chartPalette[1])
        svg.text("after weighting", x: labelWidth + 186, y: legend)
        return svg.markup
    }
}
