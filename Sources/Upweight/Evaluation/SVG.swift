/// A minimal SVG writer for the HTML report: every chart is one `<svg>` element with a `<title>`,
/// all text escaped, no external references (no namespace URL either: inline SVG in HTML needs none).
struct SVG {
    let width: Double
    let height: Double
    let title: String
    private var body = ""

    init(width: Double, height: Double, title: String) {
        self.width = width
        self.height = height
        self.title = title
    }

    var markup: String {
        "<svg width=\"\(number(width))\" height=\"\(number(height))\" viewBox=\"0 0 \(number(width)) \(number(height))\" "
            + "role=\"img\" aria-label=\"\(htmlEscaped(title))\"><title>\(htmlEscaped(title))</title>\(body)</svg>"
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#444",
                       width: Double = 1, dashed: Bool = false) {
        body += "<line x1=\"\(number(x1))\" y1=\"\(number(y1))\" x2=\"\(number(x2))\" y2=\"\(number(y2))\" stroke=\"\(stroke)\" "
            + "stroke-width=\"\(number(width))\"\(dashed ? " stroke-dasharray=\"4 3\"" : "")/>"
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, opacity: Double = 1) {
        body += "<rect x=\"\(number(x))\" y=\"\(number(y))\" width=\"\(number(max(0, width)))\" height=\"\(number(max(0, height)))\" "
            + "fill=\"\(fill)\"\(opacity < 1 ? " fill-opacity=\"\(number(opacity))\"" : "")/>"
    }

    mutating func circle(x: Double, y: Double, radius: Double, fill: String) {
        body += "<circle cx=\"\(number(x))\" cy=\"\(number(y))\" r=\"\(number(radius))\" fill=\"\(fill)\"/>"
    }

    mutating func polyline(_ points: [(x: Double, y: Double)], stroke: String, width: Double = 1.5) {
        let list = points.map { "\(number($0.x)),\(number($0.y))" }.joined(separator: " ")
        body += "<polyline points=\"\(list)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(number(width))\"/>"
    }

    enum Anchor: String { case start, middle, end }

    mutating func text(_ content: String, x: Double, y: Double, anchor: Anchor = .start, size: Double = 11,
                       bold: Bool = false, fill: String = "#222") {
        body += "<text x=\"\(number(x))\" y=\"\(number(y))\" text-anchor=\"\(anchor.rawValue)\" font-size=\"\(number(size))\""
            + "\(bold ? " font-weight=\"bold\"" : "") fill=\"\(fill)\">\(htmlEscaped(content))</text>"
    }

    private func number(_ value: Double) -> String { fixed(value, 1) }
}

/// Maps a domain [a, b] linearly onto a range [c, d] (pixels; d < c for a y axis that points up).
struct LinearScale {
    var domain: (Double, Double)
    var range: (Double, Double)

    func callAsFunction(_ value: Double) -> Double {
        let span = domain.1 - domain.0
        let fraction = span == 0 ? 0.5 : (value - domain.0) / span
        return range.0 + fraction * (range.1 - range.0)
    }
}

/// Tableau 10: distinguishable, and colour-blind friendlier than a rainbow.
let chartPalette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

/// Text safe inside HTML and SVG elements and attribute values.
func htmlEscaped(_ text: String) -> String {
    replacingCharacters(in: text, ["&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"])
}

/// `text` with every character that `replacements` names replaced by its text.
func replacingCharacters(in text: String, _ replacements: [Character: String]) -> String {
    var output = ""
    for character in text {
        if let replacement = replacements[character] { output += replacement } else { output.append(character) }
    }
    return output
}
