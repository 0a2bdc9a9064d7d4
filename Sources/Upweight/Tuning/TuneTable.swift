/// `tune`'s table: one row per candidate (its settings, the objective's mean ± sd over folds, each
/// category's mean held-out accuracy), the winner marked with `*`. Every cell is escaped for the
/// terminal: categories come from data, settings and the objective from files and flags.
public func tuneTable(_ outcome: CrossValidation.Outcome, objective: String) -> String {
    let header = ["", "candidate", objective + " (mean ± sd)"] + outcome.categories
    var rows = [header.map(terminalEscaped)]
    for (index, candidate) in outcome.candidates.enumerated() {
        let settings = candidate.settings.count == 0 ? "{}" : JSONValue.object(candidate.settings).compactText
        rows.append([index == outcome.winner ? "*" : "", terminalEscaped(settings),
                     "\(fixed(candidate.mean, 4)) ± \(fixed(candidate.standardDeviation, 4))"]
                    + outcome.categories.map { fixed(candidate.meanAccuracy($0), 3) })
    }
    let widths = header.indices.map { column in rows.map { $0[column].count }.max()! }
    return rows.map { cells in
        cells.enumerated().map { column, cell in
            column <= 1 ? cell.padding(widths[column]) : String(repeating: " ", count: widths[column] - cell.count) + cell
        }.joined(separator: "  ")
    }.joined(separator: "\n") + "\n"
}
