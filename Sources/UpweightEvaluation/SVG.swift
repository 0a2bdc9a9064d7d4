import UpweightSupport

/// A minimal SVG writer for the HTML report: every chart is one `<svg>` element with a `<title>`,
/// all text escaped, no external references (no namespace URL either: inline SVG in HTML needs none).
package struct SVG {
    package let width: Double
    package let height: Double
    package let title: String
    private var body = ""

    package init(width: Double, height: Double, title: String) {
        self.width = width
        self.height = height
        self.title = title
    }

    package var markup: String {
        "<svg width=\"\(number(width))\" height=\"\(number(height))\" viewBox=\"0 0 \(number(width)) \(number(height))\" "
            + "role=\"img\" aria-label=\"\(htmlEscaped(title))\"><title>\(htmlEscaped(title))</title>\(body)</svg>"
    }

    /// `mark` names the line (a class) where a reader or a test must find it, e.g. the zero of an axis.
    package mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#444",
                       width: Double = 1, dashed: Bool = false, mark: String? = nil) {
        body += "<line\(mark.map { " class=\"\(htmlEscaped($0))\"" } ?? "") x1=\"\(number(x1))\" y1=\"\(number(y1))\" "
            + "x2=\"\(number(x2))\" y2=\"\(number(y2))\" stroke=\"\(stroke)\" "
            + "stroke-width=\"\(number(width))\"\(dashed ? " stroke-dasharray=\"4 3\"" : "")/>"
    }

    package mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, opacity: Double = 1) {
        body += "<rect x=\"\(number(x))\" y=\"\(number(y))\" width=\"\(number(max(0, width)))\" height=\"\(number(max(0, height)))\" "
            + "fill=\"\(fill)\"\(opacity < 1 ? " fill-opacity=\"\(number(opacity))\"" : "")/>"
    }

    /// A filled dot, or a ring in `fill`'s colour when `hollow`.
    package mutating func circle(x: Double, y: Double, radius: Double, fill: String, hollow: Bool = false) {
        let paint = hollow ? "fill=\"#fff\" stroke=\"\(fill)\" stroke-width=\"1.5\"" : "fill=\"\(fill)\""
        body += "<circle cx=\"\(number(x))\" cy=\"\(number(y))\" r=\"\(number(radius))\" \(paint)/>"
    }

    package mutating func polyline(_ points: [(x: Double, y: Double)], stroke: String, width: Double = 1.5, dashed: Bool = false) {
        let list = points.map { "\(number($0.x)),\(number($0.y))" }.joined(separator: " ")
        body += "<polyline points=\"\(list)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(number(width))\""
            + "\(dashed ? " stroke-dasharray=\"5 3\"" : "")/>"
    }

    package enum Anchor: String { case start, middle, end }

    package mutating func text(_ content: String, x: Double, y: Double, anchor: Anchor = .start, size: Double = 11,
                       bold: Bool = false, fill: String = "#222") {
        body += "<text x=\"\(number(x))\" y=\"\(number(y))\" text-anchor=\"\(anchor.rawValue)\" font-size=\"\(number(size))\""
            + "\(bold ? " font-weight=\"bold\"" : "") fill=\"\(fill)\">\(htmlEscaped(content))</text>"
    }

    private func number(_ value: Double) -> String { fixed(value, 1) }
}

/// Maps a domain [a, b] linearly onto a range [c, d] (pixels; d < c for a y axis that points up).
package struct LinearScale {
    package var domain: (Double, Double)
    package var range: (Double, Double)

    package func callAsFunction(_ value: Double) -> Double {
        let span = domain.1 - domain.0
        let fraction = span == 0 ? 0.5 : (value - domain.0) / span
        return range.0 + fraction * (range.1 - range.0)
    }
}

/// Round steps (1, 2 or 5 × 10^k) from `low` to `high`, about `count` of them: axis ticks a reader
/// can read. `whole` keeps the step at least 1 (counts, epochs); `covering` adds the first tick at
/// or above `high`, so the last tick can top an axis that holds every value.
package func niceTicks(from low: Double, to high: Double, count: Int = 5, whole: Bool = false, covering: Bool = false) -> [Double] {
    guard low.isFinite, high.isFinite, high > low else { return low.isFinite ? [low] : [] }
    let rough = (high - low) / Double(max(1, count))
    let power = pow(10, (log10(rough)).rounded(.down))
    var step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= rough } ?? 10 * power
    if whole { step = max(1, step.rounded(.up)) }
    var ticks: [Double] = []
    var tick = (low / step).rounded(.up) * step
    while tick <= high + step * 1e-9, ticks.count < 4 * count {
        ticks.append(abs(tick) < step * 1e-9 ? 0 : tick)
        tick += step
    }
    if covering, let last = ticks.last, last < high - step * 1e-9 { ticks.append(last + step) }
    return ticks
}

/// Tableau 10 (distinguishable, colour-blind friendlier than a rainbow), then ten more distinct hues
/// for data with more categories; each chart also names its series, so colour is never the only key.
package let chartPalette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
                    "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#17becf", "#8c564b", "#393b79", "#bcbd22", "#636363"]

/// The colour of series `index`.
package func paletteColour(_ index: Int) -> String { chartPalette[index % chartPalette.count] }

/// Text safe inside HTML and SVG elements and attribute values.
package func htmlEscaped(_ text: String) -> String {
    replacingCharacters(in: text, ["&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"])
}

/// `text` with every character that `replacements` names replaced by its text.
package func replacingCharacters(in text: String, _ replacements: [Character: String]) -> String {
    var output = ""
    for character in text {
        if let replacement = replacements[character] { output += replacement } else { output.append(character) }
    }
    return output
}
