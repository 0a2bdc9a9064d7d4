#if canImport(Glibc)
import Glibc
#endif
import UpweightSupport
import UpweightIO
import UpweightData
import UpweightModels
import UpweightWeighting
import UpweightEvaluation

public enum ModelKind: String, Sendable, CaseIterable { case linear, mlp }
public enum OptimizerKind: String, Sendable, CaseIterable { case lbfgs, adamw }
/// How weights act: `loss` multiplies each pair's loss (Σwℓ/Σw); `sample` draws pairs with
/// probability ∝ w (with replacement, an epoch = N draws), each drawn pair of weight 1.
public enum WeightMode: String, Sendable, CaseIterable { case loss, sample }

/// Everything `train` can be told, by a config file or by flags. Config keys are the long flag names
/// without their dashes (`"l2"`, `"hash-bits"`, `"upweight": {"safety": 3}`); flags win over the file.
public struct TrainingConfiguration: Sendable, Equatable {
    public var model = ModelKind.linear
    /// nil: L-BFGS for a linear model.
    public var optimizer: OptimizerKind?
    public var l2 = 1e-4
    public var learningRate = 1e-3
    public var weightDecay = 0.0
    public var batchSize = 256
    public var epochs = 10
    public var seed: UInt64 = 0
    public var maxIterations = 1000
    public var tolerance = 1e-7
    public var hashBits = 18
    public var includePrompt = false
    public var standardize = false
    public var weighting = WeightingConfiguration()
    public var weightMode = WeightMode.loss
    public var loss = PairLoss()
    /// Group DRO step size η (0: off) and generalization adjustment C.
    public var groupDRO = 0.0
    public var groupDROAdjustment = 0.0
    /// Write a checkpoint into `out` every this many epochs (minibatch training).
    public var checkpointEvery: Int?
    /// Continue from the checkpoint in `out`.
    public var resume = false
    /// Boosting rounds T (1: a single model).
    public var boostRounds = 1
    public var holdout = 0.0
    /// Which pairs stay together in the held-out split and in `tune`'s folds.
    public var grouping = Grouping.prompt
    /// Write the training and held-out pairs' lines as JSONL files into this directory.
    public var saveSplit: String?
    /// Train only on pairs whose split field has this value (e.g. "train"), evaluate on `evalSplit`.
    public var trainSplit: String?
    public var evalSplit: String?
    public var eval: [String] = []
    public var out: String?
    /// Where to write the training log (JSONL, one object per epoch), besides the model directory.
    public var logFile: String?
    public var reading = ReadOptions()

    public init() {}

    /// How to read the data: `reading`, with the group field `grouping` needs.
    public var readingWithGroups: ReadOptions {
        var options = reading
        options.fields.group = grouping.field(options.fields)
        return options
    }

    /// nil: L-BFGS for a linear model, AdamW for an MLP.
    public var resolvedOptimizer: OptimizerKind { optimizer ?? (model == .mlp ? .adamw : .lbfgs) }
    /// MLP: hidden widths, activation; AdamW's schedule; early stopping on the held-out loss.
    public var hidden = [256]
    public var activation = Activation.relu
    public var initialization = MLPRewardModel.Initialization.he
    public var warmupSteps = 0
    public var schedule = LearningRateSchedule.Decay.constant
    public var patience: Int?

    /// The bound on every strength, factor and step size (--l2, --weight-decay, --tolerance,
    /// --center-rewards, --focal-gamma, --group-dro, --group-dro-adjust, --upweight): far beyond any
    /// useful value, and small enough that products with losses and weights stay finite.
    public static let largestStrength = 1e6

    /// Every key a config file may hold.
    public static let keys = [
        "model", "optimizer", "l2", "learning-rate", "weight-decay", "batch-size", "epochs", "seed",
        "max-iterations", "tolerance", "hash-bits", "include-prompt", "standardize", "upweight", "normalize",
        "category-scheme", "clip-weights", "weight-mode", "label-smoothing", "center-rewards", "focal-gamma",
        "group-dro", "group-dro-adjust", "boost", "checkpoint-every", "resume", "hidden", "activation", "initialization",
        "warmup-steps", "schedule", "patience",
        "log", "holdout", "group-by", "save-split", "train-split", "eval-split", "split-field", "eval", "out", "threads", "on-error", "shape", "prompt-field", "chosen-field",
        "rejected-field", "category-field", "weight-field", "margin-field", "id-field", "max-memory",
    ]

    /// Where settings come from, so that an error names the flag or the file and key.
    public enum Source: Sendable {
        case file(String)
        case commandLine

        package func name(_ key: String) -> String {
            switch self {
            case .file(let path): return "\(path): key \"\(key)\""
            case .commandLine: return "--\(key)"
            }
        }
    }

    /// Applies the settings in `object`, checking every key and value.
    public mutating func apply(_ object: JSONObject, from source: Source) throws {
        for (key, value) in object.members {
            let reader = ConfigValue(value: value, name: source.name(key))
            switch key {
            case "model": model = try reader.choice(ModelKind.self)
            case "optimizer": optimizer = try reader.choice(OptimizerKind.self)
            case "l2": l2 = try reader.number(atLeast: 0, atMost: Self.largestStrength)
            case "learning-rate": learningRate = try reader.number(above: 0)
            case "weight-decay": weightDecay = try reader.number(atLeast: 0, atMost: Self.largestStrength)
            case "batch-size": batchSize = try reader.integer(in: 1...Int(Int32.max))
            case "epochs": epochs = try reader.integer(in: 1...1_000_000)
            case "seed": seed = UInt64(try reader.integer(in: 0...Int.max))
            case "max-iterations": maxIterations = try reader.integer(in: 1...10_000_000)
            case "tolerance": tolerance = try reader.number(atLeast: 0, atMost: Self.largestStrength)
            case "hash-bits": hashBits = try reader.integer(in: 1...28)
            case "include-prompt": includePrompt = try reader.boolean()
            case "standardize": standardize = try reader.boolean()
            case "upweight": weighting.upweight = try reader.categoryFactors()
            case "normalize": weighting.normalize = try reader.choice(["mean", "none"]) == "mean"
            case "category-scheme": weighting.scheme = try reader.categoryScheme()
            case "clip-weights": weighting.clip = try reader.bounds()
            case "weight-mode": weightMode = try reader.choice(WeightMode.self)
            case "label-smoothing": loss.labelSmoothing = try reader.number(atLeast: 0, below: 0.5)
            case "center-rewards": loss.centerRewards = try reader.number(atLeast: 0, atMost: Self.largestStrength)
            case "focal-gamma": loss.focalGamma = try reader.number(atLeast: 0, atMost: Self.largestStrength)
            case "group-dro": groupDRO = try reader.number(atLeast: 0, atMost: Self.largestStrength)
            case "group-dro-adjust": groupDROAdjustment = try reader.number(atLeast: 0, atMost: Self.largestStrength)
            case "boost": boostRounds = try reader.integer(in: 1...1000)
            case "checkpoint-every": checkpointEvery = try reader.integer(in: 1...1_000_000)
            case "hidden": hidden = try reader.widths()
            case "activation": activation = try reader.choice(Activation.self)
            case "initialization": initialization = try reader.choice(MLPRewardModel.Initialization.self)
            case "warmup-steps": warmupSteps = try reader.integer(in: 0...Int(Int32.max))
            case "schedule": schedule = try reader.choice(LearningRateSchedule.Decay.self)
            case "patience": patience = try reader.integer(in: 1...1_000_000)
            case "resume": resume = try reader.boolean()
            case "holdout": holdout = try reader.number(atLeast: 0, below: 1)
            case "group-by": grouping = Grouping(try reader.nonEmptyString())
            case "save-split": saveSplit = try reader.string()
            case "train-split": trainSplit = try reader.string()
            case "eval-split": evalSplit = try reader.string()
            case "split-field": reading.fields.split = try reader.string()
            case "eval": eval = try reader.strings()
            case "out": out = try reader.string()
            case "log": logFile = try reader.string()
            case "threads": reading.threads = try reader.integer(in: 1...1024)
            case "on-error": reading.onError = try reader.choice(ErrorPolicy.self)
            case "shape": reading.shape = try reader.string() == "auto" ? nil : reader.choice(InputShape.self)
            case "prompt-field": reading.fields.prompt = try reader.string()
            case "chosen-field": reading.fields.chosen = try reader.string()
            case "rejected-field": reading.fields.rejected = try reader.string()
            case "category-field": reading.fields.category = try reader.string()
            case "weight-field": reading.fields.weight = try reader.string()
            case "margin-field": reading.fields.margin = try reader.string()
            case "id-field": reading.fields.id = try reader.string()
            case "max-memory": reading.maxMemory = try reader.byteCount()
            default:
                let suggestion = closestMatch(to: key, in: Self.keys).map { " (did you mean \"\($0)\"?)" } ?? ""
                switch source {
                case .file(let path): throw UsageError("\(path): unknown key \"\(key)\"\(suggestion)")
                case .commandLine: throw UsageError("unknown option --\(key)\(suggestion)")
                }
            }
        }
    }

    /// The settings as a config file would hold them (written to the model's config.json; `train --config` reads it back).
    public var json: JSONObject {
        var object = JSONObject()
        object["model"] = .string(model.rawValue)
        object["optimizer"] = .string(resolvedOptimizer.rawValue)
        object["l2"] = .number(l2)
        if model == .mlp {
            object["hidden"] = .array(hidden.map { JSONValue($0) })
            object["activation"] = .string(activation.rawValue)
            object["initialization"] = .string(initialization.rawValue)
        }
        if resolvedOptimizer == .adamw {
            object["warmup-steps"] = JSONValue(warmupSteps)
            object["schedule"] = .string(schedule.rawValue)
            if let patience { object["patience"] = JSONValue(patience) }
            object["learning-rate"] = .number(learningRate)
            object["weight-decay"] = .number(weightDecay)
            object["batch-size"] = JSONValue(batchSize)
            object["epochs"] = JSONValue(epochs)
        } else {
            object["max-iterations"] = JSONValue(maxIterations)
            object["tolerance"] = .number(tolerance)
        }
        object["seed"] = .integer(Int64(seed))
        object["hash-bits"] = JSONValue(hashBits)
        object["include-prompt"] = .bool(includePrompt)
        object["standardize"] = .bool(standardize)
        object["upweight"] = .object(JSONObject(weighting.upweight.sorted { $0.key < $1.key }.map { ($0.key, .number($0.value)) }))
        object["normalize"] = .string(weighting.normalize ? "mean" : "none")
        object["category-scheme"] = .string(weighting.scheme.description)
        if let clip = weighting.clip { object["clip-weights"] = [.number(clip.lowerBound), .number(clip.upperBound)] }
        object["weight-mode"] = .string(weightMode.rawValue)
        object["label-smoothing"] = .number(loss.labelSmoothing)
        object["center-rewards"] = .number(loss.centerRewards)
        object["focal-gamma"] = .number(loss.focalGamma)
        if groupDRO > 0 {
            object["group-dro"] = .number(groupDRO)
            object["group-dro-adjust"] = .number(groupDROAdjustment)
        }
        if boostRounds > 1 { object["boost"] = JSONValue(boostRounds) }
        if holdout > 0 {
            object["holdout"] = .number(holdout)
            object["group-by"] = .string(grouping.description)
        }
        if let trainSplit { object["train-split"] = .string(trainSplit) }
        if let evalSplit { object["eval-split"] = .string(evalSplit) }
        return object
    }
}

/// One config value and the name to blame when it is wrong.
package struct ConfigValue {
    package let value: JSONValue
    package let name: String

    private func wrong(_ expected: String) -> UsageError {
        UsageError("\(name): expected \(expected), got \(Self.describe(value))")
    }

    /// A value as a message quotes it: strings in quotes, numbers as people write them.
    package static func describe(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): return "\"\(text)\""
        // Only a flag can carry these (JSON has none): say what was typed, not JSON's null.
        case .number(let number) where !number.isFinite: return number.isNaN ? "nan" : number > 0 ? "inf" : "-inf"
        case .number(let number): return Self.text(number)
        case .integer, .bool, .null: return value.compactText
        default: return value.typeName
        }
    }

    package func number(atLeast lower: Double = -.infinity, above: Double? = nil, below upper: Double = .infinity,
                atMost largest: Double = .infinity) throws -> Double {
        guard let number = value.numberValue, number.isFinite, number >= lower, number < upper, number <= largest,
              above.map({ number > $0 }) ?? true
        else {
            // Past the upper bound, name the range; below the lower one, the bound alone ("≥ 0").
            if largest < .infinity, let number = value.numberValue, !(number <= largest) {
                throw wrong("a number from \(Self.text(lower)) to \(Self.text(largest))")
            }
            var bounds = "a number"
            if let above { bounds += " > \(JSONValue.format(above))" }
            if lower > -.infinity { bounds += " ≥ \(JSONValue.format(lower))" }
            if upper < .infinity { bounds += " and < \(JSONValue.format(upper))" }
            throw wrong(bounds)
        }
        return number
    }

    /// A number as people write it: "1e6", "1e308", "0.5" (not "1000000" or "1e+308").
    package static func text(_ number: Double) -> String {
        if number >= 1e5, number.isFinite, case let exponent = log10(number).rounded(), pow(10, exponent) == number {
            return "1e\(Int(exponent))"
        }
        return JSONValue.format(number).replacing("e+", with: "e")
    }

    package func integer(in range: ClosedRange<Int>) throws -> Int {
        guard case .integer(let number) = value, range.contains(Int(number)) else {
            throw wrong(range.upperBound == .max ? "a whole number ≥ \(range.lowerBound)"
                        : "a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return Int(number)
    }

    package func boolean() throws -> Bool {
        guard case .bool(let flag) = value else { throw wrong("true or false") }
        return flag
    }

    package func string() throws -> String {
        guard case .string(let text) = value else { throw wrong("a string") }
        return text
    }

    package func nonEmptyString() throws -> String {
        guard case .string(let text) = value, !text.isEmpty else { throw wrong("\"prompt\", \"none\" or a field name") }
        return text
    }

    package func strings() throws -> [String] {
        if case .string(let text) = value { return [text] }
        guard case .array(let items) = value, let texts = Optional(items.compactMap(\.stringValue)),
              texts.count == items.count
        else { throw wrong("a string or a list of strings") }
        return texts
    }

    package func choice(_ options: [String]) throws -> String {
        guard case .string(let text) = value, options.contains(text) else {
            throw wrong("one of " + options.map { "\"\($0)\"" }.joined(separator: ", "))
        }
        return text
    }

    package func choice<Choice: RawRepresentable & CaseIterable>(_ type: Choice.Type) throws -> Choice where Choice.RawValue == String {
        Choice(rawValue: try choice(Choice.allCases.map(\.rawValue)))!
    }

    /// A size: bytes as a number, or "512M", "8G".
    package func byteCount() throws -> Int {
        if let bytes = value.wholeNumber(in: 1...Int.max) { return bytes }
        guard case .string(let text) = value, let bytes = MemoryBudget.parse(text) else { throw wrong("a size such as 512M or 8G") }
        return bytes
    }

    /// Hidden widths: `[256, 128]` or `"256,128"`, each from 1 to 65536.
    package func widths() throws -> [Int] {
        var numbers: [Int]?
        switch value {
        case .string(let text): numbers = text.split(separator: ",").map { Int($0.trimmingCharacters()) ?? 0 }
        case .array(let items): numbers = items.map { if case .integer(let n) = $0 { return Int(n) } else { return 0 } }
        case .integer(let n): numbers = [Int(n)]
        default: break
        }
        guard let numbers, !numbers.isEmpty, numbers.allSatisfy({ (1...65536).contains($0) }) else {
            throw wrong("hidden widths such as 256 or 256,128")
        }
        return numbers
    }

    package func categoryScheme() throws -> CategoryScheme {
        guard case .string(let text) = value, let scheme = CategoryScheme(text) else {
            throw wrong("none, balanced, sqrt or effective:BETA with 0 ≤ BETA < 1")
        }
        return scheme
    }

    /// `"LO,HI"` or `[LO, HI]` with 0 ≤ LO ≤ HI.
    package func bounds() throws -> ClosedRange<Double> {
        var numbers: [Double]?
        switch value {
        case .string(let text): numbers = text.split(separator: ",").compactMap { Double($0.trimmingCharacters()) }
        case .array(let items): numbers = items.compactMap(\.numberValue)
        default: break
        }
        guard let numbers, numbers.count == 2, numbers[0] >= 0, numbers[0] <= numbers[1], numbers[1].isFinite else {
            throw wrong("LO,HI with 0 ≤ LO ≤ HI")
        }
        return numbers[0]...numbers[1]
    }

    /// `{"safety": 3, "math": 0.5}`: finite factors ≥ 0 per category name.
    package func categoryFactors() throws -> [String: Double] {
        guard case .object(let object) = value else { throw wrong("an object of category: factor") }
        var factors: [String: Double] = [:]
        for (category, factor) in object.members {
            factors[category] = try ConfigValue(value: factor, name: "\(name) (category \"\(category)\")")
                .number(atLeast: 0, atMost: TrainingConfiguration.largestStrength)
        }
        return factors
    }
}

extension Substring {
    package func trimmingCharacters() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
