import UpweightSupport
import UpweightIO

/// The report's "Label audit" section, when the model was trained with `--noise-aware`: per
/// category the audit's numbers (config.json's "noise_audit") and what the run did with them.
/// Every text from config.json is escaped; a value of the wrong type shows as "-".
enum NoiseAuditSection {
    static func html(_ provenance: JSONObject?) -> String {
        guard case .object(let audit)? = provenance?["noise_audit"] else { return "" }
        let mode = htmlEscaped(audit["mode"]?.stringValue ?? "?")
        var section = "<h2>Label audit (--noise-aware \(mode))</h2>\n"
        guard audit["audited"] != .bool(false) else {
            let reason = audit["reason"]?.stringValue.map { ": " + htmlEscaped($0) } ?? ""
            return section + "<p class=\"note\">Nothing was audited\(reason); every training pair trained as it was.</p>\n"
        }
        let floor = audit["floor"]?.numberValue.map { fixed($0, 3) } ?? "-"
        let folds = audit["folds"]?.numberValue.map { String(Int($0)) } ?? "-"
        var sample = ""
        if case .array(let categories)? = audit["categories"], case .object(let first)? = categories.first,
           let size = first["estimated_on"]?.numberValue, size != first["pairs"]?.numberValue {
            sample = " (shares, flip estimates and z on a size-matched sample of \(Int(size)) pairs per category)"
        }
        section += "<p class=\"note\">Out-of-fold probabilities p from a model per category (\(folds) folds, training pairs only); "
            + "the floor is the cleanest category's share below p = 0.5 (\(floor), \(htmlEscaped(audit["floor_category"]?.stringValue ?? "-")))\(sample); "
            + "flip estimate (share − floor)/(1 − 2·floor); noisy: z ≥ 3 against the floor. "
            + (mode == "drop" ? "Dropped: the round(flip estimate × pairs) pairs of lowest p." : "Factor per pair: q/p, q = (p − flip)/(1 − 2·flip).")
            + "</p>\n"
        let header = ["category", "pairs", "share below 0.5", "flip estimate", "z", "status", "dropped", "downweighted", "mean factor"]
        section += "<table><thead><tr>" + header.map { "<th>\($0)</th>" }.joined() + "</tr></thead><tbody>\n"
        guard case .array(let categories)? = audit["categories"] else { return section + "</tbody></table>\n" }
        for case .object(let category) in categories {
            func number(_ key: String, _ digits: Int) -> String { category[key]?.numberValue.map { fixed($0, digits) } ?? "-" }
            let cells = [htmlEscaped(category["name"]?.stringValue ?? "-"), number("pairs", 0), number("below_half_share", 3),
                         number("flip_estimate", 3), number("z", 1), htmlEscaped(category["status"]?.stringValue ?? "-"),
                         number("dropped", 0), number("downweighted", 0), number("mean_factor", 3)]
            section += "<tr>" + cells.map { "<td>\($0)</td>" }.joined() + "</tr>\n"
        }
        return section + "</tbody></table>\n"
    }
}
