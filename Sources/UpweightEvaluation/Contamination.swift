import UpweightSupport
import UpweightIO
import UpweightData

/// How many evaluation pairs share a prompt or a response with the data a model was trained on,
/// per category: a held-out number means little for pairs the model has already seen.
public struct Contamination: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var category: String
        public var pairs = 0
        public var sharedPrompt = 0
        /// Pairs whose chosen or rejected response appears in the training data.
        public var sharedResponse = 0

        package mutating func count(prompt: Bool, response: Bool) {
            pairs += 1
            if prompt { sharedPrompt += 1 }
            if response { sharedResponse += 1 }
        }
    }

    /// Per category in the dataset's order, then the total (named "overall").
    public var rows: [Row]

    public init(_ dataset: PreferenceDataset, training: TextFingerprints) {
        rows = dataset.categoryNames.map { Row(category: $0) }
        var total = Row(category: "overall")
        let prompts = dataset.promptKeys
        for pair in 0..<dataset.count {
            let category = Int(dataset.categoryIndices[pair])
            let responses = dataset.responseKeys(of: pair)
            let prompt = training.containsPrompt(prompts[pair])
            let response = training.containsResponse(responses.chosen) || training.containsResponse(responses.rejected)
            rows[category].count(prompt: prompt, response: response)
            total.count(prompt: prompt, response: response)
        }
        rows.append(total)
    }

    public var overall: Row { rows[rows.count - 1] }

    /// Lines for stderr: one overall, and one per category that shares anything, as a warning.
    public var lines: [String] {
        let total = overall
        guard total.sharedPrompt + total.sharedResponse > 0 else {
            return ["contamination check: \(plural(total.pairs, "evaluation pair", "evaluation pairs")), none sharing a prompt or a response with the training data"]
        }
        var lines = ["warning: \(total.sharedPrompt) of \(plural(total.pairs, "evaluation pair", "evaluation pairs")) share a prompt and \(total.sharedResponse) a response with the training data (the model has seen them)"]
        for row in rows.dropLast() where row.sharedPrompt + row.sharedResponse > 0 {
            lines.append("  \(terminalEscaped(row.category)): \(row.sharedPrompt) of \(row.pairs) share a prompt, \(row.sharedResponse) a response")
        }
        return lines
    }

    public var json: JSONObject {
        func object(_ row: Row) -> JSONValue {
            ["pairs": JSONValue(row.pairs), "shared_prompt": JSONValue(row.sharedPrompt), "shared_response": JSONValue(row.sharedResponse)]
        }
        return JSONObject([("overall", object(overall)),
                           ("categories", .object(JSONObject(rows.dropLast().map { ($0.category, object($0)) })))])
    }
}
