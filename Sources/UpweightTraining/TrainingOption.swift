import UpweightSupport
import UpweightIO
import UpweightData
import UpweightModels
import UpweightWeighting

/// One option of `train`, declared once in the table below: its key (the config-file key, which is
/// also the flag's long name), where it lives in `TrainingConfiguration`, its type and validation
/// (`OptionType`), when config.json holds it, and its help. From the table come the config-file
/// parser (`TrainingConfiguration.apply`), the serializer (`TrainingConfiguration.json`, the
/// "reader" entry of a model directory), and the CLI's flags: each `@Option` takes its name and help
/// from its entry, and flags reach the configuration through the same parser as config files.
/// Defaults are those of `TrainingConfiguration()`; the help states them.
public struct TrainingOption: Sendable, CustomStringConvertible {
    /// Where the option's value is written.
    public enum Section: Sendable {
        /// config.json's "training" object: how the model was trained (a checkpoint compares it as
        /// written, so the table's order is the order written).
        case training
        /// config.json's "reader" object: how `eval` and `score` read data for the model.
        case reader
        /// Nowhere: where to write, what else to read, and limits of this run.
        case run
    }

    public let key: String
    public let section: Section
    /// A closed choice's values (empty for any other option).
    public let choices: [String]
    /// The help text, with the default when there is one to state.
    public let help: String
    private let read: @Sendable (inout TrainingConfiguration, ConfigValue) throws -> Void
    private let write: @Sendable (TrainingConfiguration) -> JSONValue?
    private let writtenIf: @Sendable (TrainingConfiguration) -> Bool

    /// - Parameters:
    ///   - path: where the value lives; `TrainingConfiguration()` holds the default.
    ///   - value: what is written, when that is not the stored value itself (`optimizer`: the one resolved).
    ///   - condition: when config.json holds the option (a `training` option: only where it applies).
    ///   - defaultText: the default as the help states it, when the stored one would not say it ("":
    ///     none stated, the summary says it).
    init<Value>(_ key: String, _ path: WritableKeyPath<TrainingConfiguration, Value> & Sendable, _ type: OptionType<Value>,
                _ section: Section = .training, value: (@Sendable (TrainingConfiguration) -> Value)? = nil,
                writtenIf condition: @escaping @Sendable (TrainingConfiguration) -> Bool = { _ in true },
                help summary: String, default defaultText: String? = nil) {
        self.key = key
        self.section = section
        choices = type.choices
        read = { configuration, reader in configuration[keyPath: path] = try type.read(reader) }
        write = { configuration in type.write(value?(configuration) ?? configuration[keyPath: path]) }
        writtenIf = condition
        let stated = defaultText ?? type.write(TrainingConfiguration()[keyPath: path]).flatMap(Self.defaultText)
        help = summary + (stated.flatMap { $0.isEmpty ? nil : " (default: \($0))" } ?? "") + "."
    }

    public var description: String { "--\(key)" }

    /// Sets the option in `configuration` from a config value; `name` is what an error blames.
    package func apply(_ value: JSONValue, name: String, to configuration: inout TrainingConfiguration) throws {
        try read(&configuration, ConfigValue(value: value, name: name))
    }

    /// The option's value in `configuration` as a config file holds it (nil: unset).
    public func value(in configuration: TrainingConfiguration) -> JSONValue? { write(configuration) }

    /// Whether config.json holds the option for `configuration`.
    package func isWritten(for configuration: TrainingConfiguration) -> Bool {
        section != .run && writtenIf(configuration)
    }

    /// A default as help states it: `1e-4`, `256,128`, `prompt`; nothing for flags and empty values.
    private static func defaultText(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text): return text
        case .integer(let number): return String(number)
        case .number(let number):
            let exponent = log10(number).rounded()
            if number > 0, number < 1e-3, pow(10, exponent) == number { return "1e\(Int(exponent))" }
            return ConfigValue.text(number)
        case .array(let items) where !items.isEmpty: return items.map(\.compactText).joined(separator: ",")
        default: return nil
        }
    }
}

/// An option's type: how a config value is read (and checked), and written back.
struct OptionType<Value>: Sendable {
    let choices: [String]
    let read: @Sendable (ConfigValue) throws -> Value
    let write: @Sendable (Value) -> JSONValue?

    static func optional<Wrapped>(_ type: OptionType<Wrapped>) -> Self where Value == Wrapped? {
        Self(choices: type.choices, read: { try type.read($0) }, write: { $0.flatMap(type.write) })
    }
}

extension OptionType where Value == Double {
    static func number(atLeast lower: Double = -.infinity, above: Double? = nil, below upper: Double = .infinity,
                       atMost largest: Double = .infinity) -> Self {
        Self(choices: [], read: { try $0.number(atLeast: lower, above: above, below: upper, atMost: largest) }, write: { .number($0) })
    }

    /// A strength, factor or step size: 0 to `TrainingConfiguration.largestStrength`.
    static var strength: Self { number(atLeast: 0, atMost: TrainingConfiguration.largestStrength) }
}

extension OptionType where Value == Int {
    static func integer(_ range: ClosedRange<Int>) -> Self {
        Self(choices: [], read: { try $0.integer(in: range) }, write: { JSONValue($0) })
    }

    /// A size: bytes as a number, or "512M", "8G".
    static var byteCount: Self { Self(choices: [], read: { try $0.byteCount() }, write: { JSONValue($0) }) }
}

extension OptionType where Value == UInt64 {
    /// A seed: a whole number ≥ 0 (as JSON holds it, at most Int64's largest).
    static var seed: Self {
        Self(choices: [], read: { UInt64(try $0.integer(in: 0...Int.max)) }, write: { .integer(Int64($0)) })
    }
}

extension OptionType where Value == Bool {
    static var boolean: Self { Self(choices: [], read: { try $0.boolean() }, write: { .bool($0) }) }

    /// `normalize`: mean or none, held as whether weights are normalized.
    static var normalization: Self {
        Self(choices: WeightNormalization.allCases.map(\.rawValue), read: { try $0.choice(WeightNormalization.self) == .mean },
             write: { .string(($0 ? WeightNormalization.mean : WeightNormalization.none).rawValue) })
    }
}

extension OptionType where Value == String {
    static var string: Self { Self(choices: [], read: { try $0.string() }, write: { .string($0) }) }
}

extension OptionType where Value == [String] {
    static var strings: Self { Self(choices: [], read: { try $0.strings() }, write: { .array($0.map { .string($0) }) }) }
}

extension OptionType where Value: RawRepresentable & CaseIterable & SendableMetatype, Value.RawValue == String {
    /// One of the type's cases, by raw value.
    static var choice: Self {
        Self(choices: Value.allCases.map(\.rawValue), read: { try $0.choice(Value.self) }, write: { .string($0.rawValue) })
    }
}

extension OptionType where Value == InputShape? {
    /// `shape`: auto (nil) or one shape for every file.
    static var shape: Self {
        Self(choices: ShapeChoice.allCases.map(\.rawValue), read: { try $0.choice(ShapeChoice.self).shape },
             write: { .string(ShapeChoice($0).rawValue) })
    }
}

extension OptionType where Value == [Int] {
    static var widths: Self { Self(choices: [], read: { try $0.widths() }, write: { .array($0.map { JSONValue($0) }) }) }
}

extension OptionType where Value == ClosedRange<Double> {
    static var bounds: Self {
        Self(choices: [], read: { try $0.bounds() }, write: { [.number($0.lowerBound), .number($0.upperBound)] })
    }
}

extension OptionType where Value == [String: Double] {
    static var categoryFactors: Self {
        Self(choices: [], read: { try $0.categoryFactors() },
             write: { .object(JSONObject($0.sorted { $0.key < $1.key }.map { ($0.key, .number($0.value)) })) })
    }
}

extension OptionType where Value == CategoryScheme {
    static var categoryScheme: Self { Self(choices: [], read: { try $0.categoryScheme() }, write: { .string($0.description) }) }
}

extension OptionType where Value == Grouping {
    static var grouping: Self { Self(choices: [], read: { Grouping(try $0.nonEmptyString()) }, write: { .string($0.description) }) }
}

/// `normalize`'s values.
public enum WeightNormalization: String, Sendable, CaseIterable {
    /// Weights scaled to average 1.
    case mean
    /// Weights as they are.
    case none
}

/// `shape`'s values: auto (each file's shape detected from its first pair) or one of `InputShape`.
public struct ShapeChoice: RawRepresentable, CaseIterable, Sendable, Hashable {
    public let rawValue: String

    public init?(rawValue: String) {
        guard rawValue == "auto" || InputShape(rawValue: rawValue) != nil else { return nil }
        self.rawValue = rawValue
    }

    public init(_ shape: InputShape?) { rawValue = shape?.rawValue ?? "auto" }

    public static var allCases: [ShapeChoice] { [ShapeChoice(nil)] + InputShape.allCases.map { ShapeChoice($0) } }

    /// nil: auto.
    public var shape: InputShape? { InputShape(rawValue: rawValue) }
}

extension TrainingOption {
    private static let adamw: @Sendable (TrainingConfiguration) -> Bool = { $0.resolvedOptimizer == .adamw }
    private static let mlp: @Sendable (TrainingConfiguration) -> Bool = { $0.model == .mlp }
    private static let groupDRO: @Sendable (TrainingConfiguration) -> Bool = { $0.groupDRO > 0 }
    private static let heldOut: @Sendable (TrainingConfiguration) -> Bool = { $0.holdout > 0 }

    // How the model is trained: config.json's "training", in the order written.
    public static let model = TrainingOption("model", \.model, .choice,
        help: "The model: linear in the features, or an MLP shaped by --hidden and --activation")
    public static let optimizer = TrainingOption("optimizer", \.optimizer, .optional(.choice), value: { $0.resolvedOptimizer },
        help: "Optimizer: lbfgs (full batch) or adamw (minibatches)", default: "lbfgs; adamw for an MLP")
    public static let l2 = TrainingOption("l2", \.l2, .strength, help: "L2 strength λ, 0 to 1e6")
    public static let hidden = TrainingOption("hidden", \.hidden, .widths, writtenIf: mlp,
        help: "MLP hidden widths, e.g. 256 or 256,128")
    public static let activation = TrainingOption("activation", \.activation, .choice, writtenIf: mlp, help: "MLP activation")
    public static let initialization = TrainingOption("initialization", \.initialization, .choice, writtenIf: mlp,
        help: "MLP initial weights: he (He-normal, Xavier for tanh; zero biases) or torch (torch.nn.Linear's U(±1/√fan_in))")
    public static let warmupSteps = TrainingOption("warmup-steps", \.warmupSteps, .integer(0...Int(Int32.max)), writtenIf: adamw,
        help: "AdamW: linear warmup over this many steps")
    public static let schedule = TrainingOption("schedule", \.schedule, .choice, writtenIf: adamw,
        help: "AdamW learning-rate decay after warmup")
    public static let patience = TrainingOption("patience", \.patience, .optional(.integer(1...1_000_000)), writtenIf: adamw,
        help: "Early stopping: stop after N epochs without a better held-out loss; keep the best epoch")
    public static let learningRate = TrainingOption("learning-rate", \.learningRate, .number(above: 0), writtenIf: adamw,
        help: "AdamW learning rate: the peak of the schedule")
    public static let weightDecay = TrainingOption("weight-decay", \.weightDecay, .strength, writtenIf: adamw,
        help: "AdamW decoupled weight decay, 0 to 1e6")
    public static let batchSize = TrainingOption("batch-size", \.batchSize, .integer(1...Int(Int32.max)), writtenIf: adamw,
        help: "AdamW minibatch size")
    public static let epochs = TrainingOption("epochs", \.epochs, .integer(1...1_000_000), writtenIf: adamw, help: "AdamW epochs")
    public static let maxIterations = TrainingOption("max-iterations", \.maxIterations, .integer(1...10_000_000),
        writtenIf: { !adamw($0) }, help: "L-BFGS iteration limit")
    public static let tolerance = TrainingOption("tolerance", \.tolerance, .strength, writtenIf: { !adamw($0) },
        help: "L-BFGS stops when ‖∇L‖₂ is below this, 0 to 1e6")
    public static let seed = TrainingOption("seed", \.seed, .seed,
        help: "Random seed for shuffling, the holdout split and tune's folds")
    public static let hashBits = TrainingOption("hash-bits", \.hashBits, .integer(1...28), help: "Text: 2^bits hashed features")
    public static let includePrompt = TrainingOption("include-prompt", \.includePrompt, .boolean,
        help: "Text: hash the prompt's words into each response's features too")
    public static let standardize = TrainingOption("standardize", \.standardize, .boolean,
        help: "Dense: z-score features with training statistics (stored in the model)")
    public static let upweight = TrainingOption("upweight", \.weighting.upweight, .categoryFactors,
        help: "Multiply a category's weights: CATEGORY=FACTOR, 0 to 1e6 (repeatable)")
    public static let normalize = TrainingOption("normalize", \.weighting.normalize, .normalization,
        help: "Weight normalization: mean (weights average 1) or none")
    public static let categoryScheme = TrainingOption("category-scheme", \.weighting.scheme, .categoryScheme,
        help: "Category weights from counts: none, balanced, sqrt or effective:BETA")
    public static let clipWeights = TrainingOption("clip-weights", \.weighting.clip, .optional(.bounds),
        help: "Clip every weight to LO,HI before normalization")
    public static let noiseAware = TrainingOption("noise-aware", \.noiseAware, .choice, writtenIf: { $0.noiseAware != .off },
        help: "Audit the training labels per category (as upweight audit, 5 folds) and drop the pairs that look flipped or downweight them (docs/WEIGHTING.md, \"Noisy labels\")")
    public static let weightMode = TrainingOption("weight-mode", \.weightMode, .choice,
        help: "How weights act: loss (weighted mean loss) or sample (draw pairs ∝ weight)")
    public static let labelSmoothing = TrainingOption("label-smoothing", \.loss.labelSmoothing, .number(atLeast: 0, below: 0.5),
        help: "Label smoothing ε: (1−ε)·softplus(−Δ) + ε·softplus(Δ)")
    public static let centerRewards = TrainingOption("center-rewards", \.loss.centerRewards, .strength,
        help: "Reward centering λ, 0 to 1e6: + λ·(r_c + r_r)² (TRL's center_rewards_coefficient)")
    public static let focalGamma = TrainingOption("focal-gamma", \.loss.focalGamma, .strength,
        help: "Focal γ, 0 to 1e6: (1−σ(Δ))^γ · softplus(−Δ)")
    public static let groupDro = TrainingOption("group-dro", \.groupDRO, .strength, writtenIf: groupDRO,
        help: "Group DRO over categories with step size η, 0 to 1e6 (0: off)", default: "")
    public static let groupDroAdjust = TrainingOption("group-dro-adjust", \.groupDROAdjustment, .strength, writtenIf: groupDRO,
        help: "Group DRO generalization adjustment C, 0 to 1e6 (added as C/√n_k)")
    public static let boost = TrainingOption("boost", \.boostRounds, .integer(1...1000), writtenIf: { $0.boostRounds > 1 },
        help: "Boosting rounds T (RankBoost/AdaBoost over pairs; 1: off)", default: "")
    public static let target = TrainingOption("target", \.target, .optional(.string), writtenIf: { $0.target != nil },
        help: "Importance-weight the training pairs toward the domain of FILE: target prompts (text data: objects with the prompt field, or prompt strings) or unlabelled pairs (dense data), one a line")
    public static let targetClip = TrainingOption("target-clip", \.targetClip, .number(above: 0, atMost: 1), writtenIf: { $0.target != nil },
        help: "--target: clip the density ratios at this quantile, above 0 and at most 1 (1: no clipping)")
    public static let holdout = TrainingOption("holdout", \.holdout, .number(atLeast: 0, below: 1), writtenIf: heldOut,
        help: "Hold out this fraction of the training pairs (stratified by category, groups kept whole) for evaluation (0: none)", default: "")
    public static let groupBy = TrainingOption("group-by", \.grouping, .grouping, writtenIf: heldOut,
        help: "Keep pairs together in --holdout and in tune's folds: prompt (pairs sharing a prompt), none, or a field name (e.g. a conversation id)")
    public static let trainSplit = TrainingOption("train-split", \.trainSplit, .optional(.string),
        help: "Train only on pairs whose split field (--split-field) has this value")
    public static let evalSplit = TrainingOption("eval-split", \.evalSplit, .optional(.string),
        help: "Evaluate on the pairs whose split field has this value")

    // Where results go, and what else this run reads.
    public static let out = TrainingOption("out", \.out, .optional(.string), .run,
        help: "Model directory to write (config.json + model.safetensors); an existing one must be empty or an Upweight model")
    public static let eval = TrainingOption("eval", \.eval, .strings, .run,
        help: "JSONL file(s) to evaluate on after training (repeatable)")
    public static let saveSplit = TrainingOption("save-split", \.saveSplit, .optional(.string), .run,
        help: "Write the training and held-out pairs' lines into DIR/train.jsonl and DIR/held_out.jsonl, for other tools")
    public static let log = TrainingOption("log", \.logFile, .optional(.string), .run,
        help: "Write the training log (JSONL, one object per epoch) to this file")
    public static let checkpointEvery = TrainingOption("checkpoint-every", \.checkpointEvery, .optional(.integer(1...1_000_000)), .run,
        help: "AdamW: write a checkpoint into --out every N epochs")
    public static let resume = TrainingOption("resume", \.resume, .boolean, .run,
        help: "Continue from the checkpoint in --out (same data and flags)")
    public static let stream = TrainingOption("stream", \.stream, .boolean, .run,
        help: "Keep the feature rows on disk, not in memory (dense data); automatic when the data would exceed --max-memory")
    public static let shuffleBuffer = TrainingOption("shuffle-buffer", \.shuffleBuffer, .integer(1...Int(Int32.max)), .run,
        help: "Streamed AdamW: shuffle the pairs within windows of at most N pairs (whole units of rows, at least one), each epoch's units in a random order; at most a quarter of --max-memory")
    public static let cache = TrainingOption("cache", \.reading.cache, .optional(.string), .run,
        help: "Where streamed data is cached for later runs on the same files; none: a scratch file in $TMPDIR, deleted after the run",
        default: "$XDG_CACHE_HOME/upweight, else ~/.cache/upweight")
    public static let blockBytes = TrainingOption("block-bytes", \.reading.blockBytes, .byteCount, .run,
        help: "Streaming: read each file in blocks of this size (a line belongs to the block it starts in); units of rows end at block ends, and MPI ranks training by L-BFGS each read their own run of blocks",
        default: "16M")

    // How to read the data: the model's "reader" entry (in this order), then limits of this run.
    public static let shape = TrainingOption("shape", \.reading.shape, .shape, .reader,
        help: "Input shape", default: "auto, detected per file")
    public static let onError = TrainingOption("on-error", \.reading.onError, .choice, .run,
        help: "fail: stop at the first bad line; skip: skip bad lines and count them")
    public static let threads = TrainingOption("threads", \.reading.threads, .integer(1...1024), .run,
        help: "Threads for parsing, featurizing and training", default: "all cores")
    public static let promptField = TrainingOption("prompt-field", \.reading.fields.prompt, .string, .reader,
        help: "Field holding the prompt")
    public static let chosenField = TrainingOption("chosen-field", \.reading.fields.chosen, .string, .reader,
        help: "Field holding the chosen response")
    public static let rejectedField = TrainingOption("rejected-field", \.reading.fields.rejected, .string, .reader,
        help: "Field holding the rejected response")
    public static let categoryField = TrainingOption("category-field", \.reading.fields.category, .string, .reader,
        help: "Field holding the category")
    public static let weightField = TrainingOption("weight-field", \.reading.fields.weight, .string, .reader,
        help: "Field holding the per-example weight")
    public static let marginField = TrainingOption("margin-field", \.reading.fields.margin, .string, .reader,
        help: "Field holding the margin inside the loss")
    public static let idField = TrainingOption("id-field", \.reading.fields.id, .string, .reader, help: "Field holding the pair's id")
    public static let splitField = TrainingOption("split-field", \.reading.fields.split, .string, .run,
        help: "Field holding the split name, for --train-split and --eval-split")
    public static let maxMemory = TrainingOption("max-memory", \.reading.maxMemory, .optional(.byteCount), .run,
        help: "Refuse data estimated to need more memory than this, e.g. 8G", default: "the available memory")

    /// The table: every option, in the order config.json is written.
    public static let all: [TrainingOption] = [
        model, optimizer, l2, hidden, activation, initialization, warmupSteps, schedule, patience, learningRate, weightDecay,
        batchSize, epochs, maxIterations, tolerance, seed, hashBits, includePrompt, standardize, upweight, normalize,
        categoryScheme, clipWeights, noiseAware, weightMode, labelSmoothing, centerRewards, focalGamma, groupDro, groupDroAdjust, boost,
        target, targetClip, holdout, groupBy, trainSplit, evalSplit,
        out, eval, saveSplit, log, checkpointEvery, resume, stream, shuffleBuffer, cache, blockBytes,
        shape, onError, threads, promptField, chosenField, rejectedField, categoryField, weightField, marginField, idField,
        splitField, maxMemory,
    ]

    private static let byKey = Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0) })

    /// The option with this key.
    public static func named(_ key: String) -> TrainingOption? { byKey[key] }
}
