/// What a model directory says about how the model was trained, for the HTML report: its
/// config.json (with the "training" and "weights" keys) and, when there is one, its training log —
/// the config's "training_log" array, else `training_log.jsonl` beside it (one object per epoch).
public struct TrainingRecord: Sendable {
    public var provenance: JSONObject
    public var log: [JSONObject]?

    public static func load(modelDirectory path: String) throws -> TrainingRecord {
        let config = try Files.readJSONObject("\(path)/config.json")
        if case .array(let entries)? = config["training_log"] {
            return TrainingRecord(provenance: config, log: entries.compactMap { entry in
                if case .object(let object) = entry { return object }
                return nil
            })
        }
        let logPath = "\(path)/training_log.jsonl"
        guard Files.exists(logPath) else { return TrainingRecord(provenance: config, log: nil) }
        var log: [JSONObject] = []
        for (index, line) in try Files.readText(logPath).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            do {
                guard case .object(let object) = try JSONParser.parse(String(line)) else {
                    throw DataError(file: logPath, line: index + 1, column: 1, message: "expected a JSON object per line", reason: "not-an-object")
                }
                log.append(object)
            } catch let error as JSONSyntaxError {
                throw DataError(file: logPath, line: index + 1, column: error.column, message: error.message, reason: "syntax")
            }
        }
        return TrainingRecord(provenance: config, log: log)
    }
}
