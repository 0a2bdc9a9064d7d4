import UpweightIO
import UpweightData

/// `score` output: one JSON line per pair, in input order:
/// `{"index", "id"?, "category", "chosen_reward", "rejected_reward", "margin"}` with margin = chosen − rejected.
public func scoreLines(dataset: PreferenceDataset, chosen: [Float], rejected: [Float]) -> String {
    var output = ""
    for pair in 0..<dataset.count {
        var object = JSONObject()
        object["index"] = JSONValue(pair)
        if let id = dataset.ids[pair] { object["id"] = .string(id) }
        object["category"] = .string(dataset.category(of: pair))
        object["chosen_reward"] = .number(Double(chosen[pair]))
        object["rejected_reward"] = .number(Double(rejected[pair]))
        object["margin"] = .number(Double(chosen[pair] - rejected[pair]))
        output += JSONValue.object(object).compactText
        output += "\n"
    }
    return output
}
