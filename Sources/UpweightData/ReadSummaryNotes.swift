import UpweightSupport

/// What reading found, as lines for `log`: each file's shape, the lines skipped, the warnings with where
/// to look (every command that reads says it alike).
public func logReadSummary(_ summary: ReadSummary, pairs: Int, log: (String) -> Void) {
    summary.files.forEach { log($0.note) }
    if summary.skippedCount > 0 {
        log("skipped \(summary.skippedCount) of \(plural(summary.lines, "line", "lines")):")
        for (reason, count) in summary.skipped.sorted(by: { $0.key < $1.key }) { log("  \(count) \(reason)") }
        for error in summary.firstSkipped { log("  e.g. \(error)") }
    }
    for (warning, count) in summary.warnings.sorted(by: { $0.key < $1.key }) {
        // Where to look: the first few lines, then how many more.
        let lines = summary.warningLines[warning] ?? []
        let more = count - lines.count
        let places = lines.isEmpty ? "" : " (\(lines.joined(separator: ", "))\(more > 0 ? " …and \(more) more" : ""))"
        log("warning: \(count) of \(plural(pairs, "pair", "pairs")): \(warning)\(places)")
    }
}
