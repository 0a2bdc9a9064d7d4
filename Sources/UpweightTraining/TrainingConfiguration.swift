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
/// Each option is declared once, in `TrainingOption`'s table, which parses and writes them all.
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
    /// Audit the training pairs' labels and drop or downweight those that look flipped (off: no audit).
    public var noiseAware = NoiseAwareMode.off
    public var weightMode = WeightMode.loss
    public var loss = PairLoss()
    /// Group DRO step size η (0: off) and generalization adjustment C.
    public var groupDRO = 0.0
    public var groupDROAdjustment = 0.0
    /// Write a checkpoint into `out` every this many epochs (minibatch training).
    public var checkpointEvery: Int?
    /// Continue from the checkpoint in `out`.
    public var resume = false
    /// Stream the feature rows from a scratch file instead of holding them (`StreamedPairs`).
    public var stream = false
    /// Streamed AdamW: the most pairs whose rows are shuffled together (`StreamedBatches`).
    public var shuffleBuffer = 65_536
    /// Boosting rounds T (1: a single model).
    public var boostRounds = 1
    /// `--target FILE`: prompts (or pairs) of the domain the model will be used in; the training
    /// pairs are importance-weighted toward it (TargetWeights.swift). nil: no target.
    public var target: String?
    /// The quantile of the density ratios they are clipped at (`--target-clip`).
    public var targetClip = 0.99
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
    public static var keys: [String] { TrainingOption.all.map(\.key) }

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

    /// Applies the settings in `object`, checking every key and value against `TrainingOption`'s table.
    public mutating func apply(_ object: JSONObject, from source: Source) throws {
        for (key, value) in object.members {
            guard let option = TrainingOption.named(key) else {
                let suggestion = closestMatch(to: key, in: Self.keys).map { " (did you mean \"\($0)\"?)" } ?? ""
                switch source {
                case .file(let path): throw UsageError("\(path): unknown key \"\(key)\"\(suggestion)")
                case .commandLine: throw UsageError("unknown option --\(key)\(suggestion)")
                }
            }
            try option.apply(value, name: source.name(key), to: &self)
        }
    }

    /// The settings as a config file would hold them (written to the model's config.json; `train --config` reads it back).
    public var json: JSONObject { written(in: .training) }

    /// How to read data for the model, as config keys (a model directory's "reader" entry).
    public var readerJSON: JSONObject { written(in: .reader) }

    /// `options`' values, set or not, where config.json holds them or not (nil values left out).
    public func settings(_ options: [TrainingOption] = TrainingOption.all) -> JSONObject {
        JSONObject(options.compactMap { option in option.value(in: self).map { (option.key, $0) } })
    }

    private func written(in section: TrainingOption.Section) -> JSONObject {
        settings(TrainingOption.all.filter { $0.section == section && $0.isWritten(for: self) })
    }
}
