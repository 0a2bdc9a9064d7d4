import UpweightSupport
import UpweightIO
import UpweightWeighting
import UpweightEvaluation

/// `tune`'s table: one row per candidate (its settings, the objective's mean ± sd over folds, the
/// macro accuracy's, each category's mean held-out accuracy), the winner marked `*` and candidates
/// that `max-drop` excluded marked `x`; then the winner's cross-validated estimate. Every cell is
/// escaped for the terminal: categories come from data, settings and the objective from files and flags.
public func tuneTable(_ outcome: CrossValidation.Outcome, objective: String) -> String {
    let showMacro = objective != "macro"
    let header = ["", "candidate", objective + " (mean ± sd)"] + (showMacro ? ["macro (mean ± sd)"] : []) + outcome.categories
    var rows = [header.map(terminalEscaped)]
    for (index, candidate) in outcome.candidates.enumerated() {
        let settings = candidate.settings.count == 0 ? "{}" : JSONValue.object(candidate.settings).compactText
        let mark = index == outcome.winner ? "*" : outcome.excluded.contains(index) ? "x" : ""
        rows.append([mark, terminalEscaped(settings), "\(fixed(candidate.mean, 4)) ± \(fixed(candidate.standardDeviation, 4))"]
                    + (showMacro ? ["\(fixed(candidate.meanMacro, 4)) ± \(fixed(candidate.macroStandardDeviation, 4))"] : [])
                    + outcome.categories.map { fixed(candidate.meanAccuracy($0), 3) })
    }
    var lines = TextTable(rows, left: [0, 1]).lines
    let winner = outcome.candidates[outcome.winner]
    let folds = winner.scores.count
    lines.append("")
    lines.append("* the winner: \(terminalEscaped(objective)) \(fixed(winner.mean, 4)) ± \(fixed(winner.standardDeviation, 4)), macro \(fixed(winner.meanMacro, 4)) ± \(fixed(winner.macroStandardDeviation, 4)) (mean ± sd over \(plural(folds, "fold", "folds"))); chosen on these folds, so expect a little less on new data")
    if !outcome.excluded.isEmpty {
        lines.append("x excluded by max-drop: macro accuracy more than the allowed drop below the best candidate's")
    }
    return lines.joined(separator: "\n") + "\n"
}
