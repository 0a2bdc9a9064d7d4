import UpweightSupport
import UpweightIO

/// Report formats: `table` for a terminal, `json` and `csv` for programs (the names are a contract,
/// see docs/METRICS.md), `markdown` for a pull request, `html` for a self-contained page with charts.
public enum ReportFormat: String, Sendable, CaseIterable { case table, json, csv, markdown, html }

extension EvaluationReport {
    public func render(_ format: ReportFormat) -> String {
        switch format {
        case .table: return table()
        case .json: return JSONValue.object(json).prettyText
        case .csv: return csv
        case .markdown: return markdown
        case .html: return html()
        }
    }

    /// Aligned columns: one row per category (by name), then overall, macro and worst, then notes and
    /// the sections. `colour` adds ANSI colours (the CLI asks for them only on a terminal). Unless
    /// `wide`, only the main metrics are shown and category names are cut (with "…") so that the
    /// table fits `width` columns; notes are wrapped to it.
    public func table(colour: Bool = false, wide: Bool = false, width: Int = 120) -> String {
        var layout = ReportTable(self, wide: wide)
        if !wide { layout.fit(width: width) }
        var lines = aligned(header: layout.header, rows: layout.rows, ruleBefore: layout.aggregatesStart, colour: colour)
        lines += wide ? layout.notes : layout.notes.flatMap { wrapped($0, width: max(width, 40)) }
        if let sections = layout.sections {
            lines.append("")
            lines += aligned(header: sections.header, rows: sections.rows, ruleBefore: sections.rows.count - 1, colour: colour)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A GitHub-flavoured Markdown table with the same columns as `table`, notes below it.
    public var markdown: String {
        let layout = ReportTable(self)
        func markdownTable(_ header: [String], _ rows: [[ReportTable.Cell]]) -> [String] {
            func line(_ cells: [String]) -> String { "| " + cells.map(markdownEscaped).joined(separator: " | ") + " |" }
            let alignment = "|" + header.indices.map { $0 == 0 ? " --- |" : " ---: |" }.joined()
            return [line(header), alignment] + rows.map { line($0.map(\.text)) }
        }
        var lines = markdownTable(layout.header, layout.rows)
        lines.append("")
        lines += layout.notes.map { "- \(markdownEscaped($0))" }
        if let sections = layout.sections {
            lines.append("")
            lines += markdownTable(sections.header, sections.rows)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func aligned(header: [String], rows: [[ReportTable.Cell]], ruleBefore: Int, colour: Bool) -> [String] {
        // Names come from data: escaped before measuring, so a control character neither acts nor skews a column.
        let header = header.map(terminalEscaped)
        let rows = rows.map { $0.map { ReportTable.Cell(text: terminalEscaped($0.text), tone: $0.tone) } }
        var table = TextTable([header] + rows.map { $0.map(\.text) }, rulesBefore: [ruleBefore + 1])
        if colour { table.shown = [header] + rows.map { $0.map(\.coloured) } }
        return table.lines
    }
}

extension ReportTable.Cell {
    /// The text in ANSI green or red by its tone.
    package var coloured: String {
        switch tone {
        case .plain: return text
        case .good: return "\u{1B}[32m\(text)\u{1B}[0m"
        case .bad: return "\u{1B}[31m\(text)\u{1B}[0m"
        }
    }
}

/// Text safe inside a Markdown table cell: `|` would end the cell, `<` and `&` could start HTML,
/// `\` escapes; control characters (a line break would end the row) are shown as on a terminal.
package func markdownEscaped(_ text: String) -> String {
    replacingCharacters(in: terminalEscaped(text), ["\\": "\\\\", "|": "\\|", "<": "&lt;", "&": "&amp;"])
}

/// `text` broken at spaces into lines of at most `width` characters (a longer word stands alone);
/// lines after the first are indented by two spaces.
package func wrapped(_ text: String, width: Int) -> [String] {
    var lines: [String] = []
    var current = ""
    for word in text.split(separator: " ", omittingEmptySubsequences: false) {
        let candidate = current.isEmpty ? (lines.isEmpty ? "" : "  ") + word : current + " " + word
        if candidate.count > width && !current.isEmpty {
            lines.append(current)
            current = "  " + word
        } else {
            current = candidate
        }
    }
    if !current.isEmpty { lines.append(current) }
    return lines
}


