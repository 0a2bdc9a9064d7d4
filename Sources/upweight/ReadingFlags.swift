import ArgumentParser
import Upweight

/// Flags that say how to read JSONL, shared by every subcommand that reads pairs.
struct ReadingFlags: ParsableArguments {
    @Option(help: "Input shape: auto, explicit, conversational, implicit or dense (default: auto, detected per file).")
    var shape: String?
    @Option(name: .customLong("on-error"), help: "fail: stop at the first bad line (default); skip: skip bad lines and count them.")
    var onError: ErrorPolicy?
    @Option(parsing: .unconditional, help: "Threads for parsing, featurizing and training (default: all cores).")
    var threads: Int?
    @Option(help: "Field holding the prompt (default: prompt).") var promptField: String?
    @Option(help: "Field holding the chosen response (default: chosen).") var chosenField: String?
    @Option(help: "Field holding the rejected response (default: rejected).") var rejectedField: String?
    @Option(help: "Field holding the category (default: category).") var categoryField: String?
    @Option(help: "Field holding the per-example weight (default: weight).") var weightField: String?
    @Option(help: "Field holding the margin inside the loss (default: margin).") var marginField: String?
    @Option(help: "Field holding the pair's id (default: id).") var idField: String?
    @Option(help: "Field holding the split name, for --train-split and --eval-split (default: split).") var splitField: String?
    @Option(parsing: .unconditional, help: "Refuse data estimated to need more memory than this, e.g. 8G (default: the available memory).") var maxMemory: String?

    /// The flags that were given, as config keys.
    var settings: JSONObject {
        var object = JSONObject()
        if let shape { object["shape"] = .string(shape) }
        if let onError { object["on-error"] = .string(onError.rawValue) }
        if let threads { object["threads"] = JSONValue(threads) }
        if let maxMemory { object["max-memory"] = .string(maxMemory) }
        for (key, value) in [("prompt-field", promptField), ("chosen-field", chosenField), ("rejected-field", rejectedField),
                             ("category-field", categoryField), ("weight-field", weightField),
                             ("margin-field", marginField), ("id-field", idField), ("split-field", splitField)] {
            if let value { object[key] = .string(value) }
        }
        return object
    }

    /// Reading options: `base` (a model's own settings, or defaults) overridden by the flags given.
    func options(base: ReadOptions = ReadOptions()) throws -> ReadOptions {
        var configuration = TrainingConfiguration()
        configuration.reading = base
        try configuration.apply(settings, from: .commandLine)
        return configuration.reading
    }
}
