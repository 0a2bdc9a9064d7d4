import UpweightSupport
import UpweightIO
import UpweightWeighting

/// `stats` in every report format. The columns are the table's: category, pairs, share, mean example
/// weight, then s_k per scheme; CSV and JSON keep full precision for programs.
extension DatasetStatistics {
    public func render(_ format: ReportFormat) -> String {
        switch format {
        case .table: return table
        case .json: return JSONValue.object(json).prettyText
        case .csv: return csv
        case .markdown: return markdown
        case .html: return html
        }
    }

    /// RFC 4180 (LF line ends): `category,pairs,share,mean_example_weight,weight_balanced,…`, a row per category.
    public var csv: String {
        let header = ["category", "pairs", "share", "mean_example_weight"] + Self.schemes.map { "weight_\($0.description)" }
        let rows = categories.map { category in
            [csvQuoted(category.name), String(category.pairs)]
                + ([category.share, category.meanExampleWeight] + category.schemeWeights).map(JSONValue.format)
        }
        return ([header] + rows).map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    /// A GitHub table with the summary line below it.
    public var markdown: String {
        func line(_ cells: [String]) -> String { "| " + cells.map(markdownEscaped).joined(separator: " | ") + " |" }
        var lines = [line(displayHeader), "|" + displayHeader.indices.map { $0 == 0 ? " --- |" : " ---: |" }.joined()]
        lines += displayRows.map(line)
        return (lines + ["", summary]).joined(separator: "\n") + "\n"
    }

    /// A self-contained page: the table and the summary line, every name escaped.
    public var html: String {
        let row = { (cells: [String], tag: String) in "<tr>" + cells.map { "<\(tag)>\(htmlEscaped($0))</\(tag)>" }.joined() + "</tr>\n" }
        return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>Upweight dataset statistics</title>\n"
            + "<style>body{font-family:system-ui,sans-serif;margin:24px}table{border-collapse:collapse;font-size:13px}"
            + "th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}th:first-child,td:first-child{text-align:left}"
            + ".scroll{overflow-x:auto}</style></head><body>\n<h1>Dataset statistics</h1>\n"
            + "<div class=\"scroll\"><table><thead>" + row(displayHeader, "th") + "</thead><tbody>\n"
            + displayRows.map { row($0, "td") }.joined() + "</tbody></table></div>\n"
            + "<p>\(htmlEscaped(summary))</p>\n</body></html>\n"
    }

    /// "1200 pairs in 3 categories; effective sample size 1187.2".
    package var summary: String {
        "\(plural(pairs, "pair", "pairs")) in \(plural(categories.count, "category", "categories")); effective sample size \(fixed(effectiveSampleSize, 1))"
    }

    package var displayHeader: [String] { ["category", "pairs", "share", "mean weight"] + Self.schemes.map(\.description) }

    /// The table's cells, rounded for reading.
    package var displayRows: [[String]] {
        categories.map { category in
            [category.name, String(category.pairs), fixed(category.share, 3), fixed(category.meanExampleWeight, 3)]
                + category.schemeWeights.map { fixed($0, 4) }
        }
    }
}
