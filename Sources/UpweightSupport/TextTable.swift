/// Columns aligned for a terminal, the one renderer behind the report, comparison, statistics,
/// weight and tune tables: widths from each column's widest cell, `left` columns padded on the right
/// (names) and the rest on the left (numbers), two spaces apart, trailing spaces trimmed.
package struct TextTable {
    package var rows: [[String]]
    /// The columns padded on the right; the rest line up on their right edge.
    package var left: Set<Int> = [0]
    /// A rule of dashes is drawn before these rows (0: under the header when row 0 is the header).
    package var rulesBefore: Set<Int> = []
    /// What is printed instead of a cell's text (e.g. the text in ANSI colour), measured by the text.
    package var shown: [[String]]?
    /// Columns at least this wide.
    package var minimumWidths: [Int: Int] = [:]

    package init(_ rows: [[String]], left: Set<Int> = [0], rulesBefore: Set<Int> = []) {
        (self.rows, self.left, self.rulesBefore) = (rows, left, rulesBefore)
    }

    package var widths: [Int] {
        let columns = rows.map(\.count).max() ?? 0
        return (0..<columns).map { column in
            max(minimumWidths[column] ?? 0, rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0)
        }
    }

    package var lines: [String] {
        let widths = widths
        var lines: [String] = []
        for (index, cells) in rows.enumerated() {
            if rulesBefore.contains(index) {
                lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
            }
            lines.append(cells.indices.map { column in
                let pad = String(repeating: " ", count: max(0, widths[column] - cells[column].count))
                let text = shown?[index][column] ?? cells[column]
                return left.contains(column) ? text + pad : pad + text
            }.joined(separator: "  ").trimmingTrailingSpaces)
        }
        return lines
    }
}

extension String {
    package var trimmingTrailingSpaces: String { String(reversed().drop { $0 == " " }.reversed()) }
}
