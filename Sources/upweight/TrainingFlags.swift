import ArgumentParser
import Upweight

// Numbers are parsed `.unconditional`ly, so that `--l2 -1` reads -1 as the value (and is then
// refused in the flag's own words) instead of as an unknown option leaving --l2 without a value.

/// How a model is trained (a model's config.json "training"): the flags `train` and `tune` share.
struct TrainingFlags: OptionTableFlags {
    @Option(name: .key(.model), help: .option(.model)) var model: ModelKind?
    @Option(name: .key(.optimizer), help: .option(.optimizer)) var optimizer: OptimizerKind?
    @Option(name: .key(.l2), parsing: .unconditional, help: .option(.l2)) var l2: Double?
    @Option(name: .key(.hidden), parsing: .unconditional, help: .option(.hidden)) var hidden: String?
    @Option(name: .key(.activation), help: .option(.activation)) var activation: Activation?
    @Option(name: .key(.initialization), help: .option(.initialization)) var initialization: MLPRewardModel.Initialization?
    @Option(name: .key(.warmupSteps), parsing: .unconditional, help: .option(.warmupSteps)) var warmupSteps: Int?
    @Option(name: .key(.schedule), help: .option(.schedule)) var schedule: LearningRateSchedule.Decay?
    @Option(name: .key(.patience), parsing: .unconditional, help: .option(.patience)) var patience: Int?
    @Option(name: .key(.learningRate), parsing: .unconditional, help: .option(.learningRate)) var learningRate: Double?
    @Option(name: .key(.weightDecay), parsing: .unconditional, help: .option(.weightDecay)) var weightDecay: Double?
    @Option(name: .key(.batchSize), parsing: .unconditional, help: .option(.batchSize)) var batchSize: Int?
    @Option(name: .key(.epochs), parsing: .unconditional, help: .option(.epochs)) var epochs: Int?
    @Option(name: .key(.maxIterations), parsing: .unconditional, help: .option(.maxIterations)) var maxIterations: Int?
    @Option(name: .key(.tolerance), parsing: .unconditional, help: .option(.tolerance)) var tolerance: Double?
    @Option(name: .key(.seed), parsing: .unconditional, help: .option(.seed)) var seed: Seed?
    @Option(name: .key(.hashBits), parsing: .unconditional, help: .option(.hashBits)) var hashBits: Int?
    @Flag(name: .key(.includePrompt), help: .option(.includePrompt)) var includePrompt = false
    @Flag(name: .key(.standardize), help: .option(.standardize)) var standardize = false
    @Option(name: .key(.upweight), help: .option(.upweight)) var upweight: [String] = []
    @Option(name: .key(.normalize), help: .option(.normalize)) var normalize: WeightNormalization?
    @Option(name: .key(.categoryScheme), help: .option(.categoryScheme)) var categoryScheme: String?
    @Option(name: .key(.clipWeights), parsing: .unconditional, help: .option(.clipWeights)) var clipWeights: String?
    @Option(name: .key(.noiseAware), help: .option(.noiseAware)) var noiseAware: NoiseAwareMode?
    @Option(name: .key(.weightMode), help: .option(.weightMode)) var weightMode: WeightMode?
    @Option(name: .key(.labelSmoothing), parsing: .unconditional, help: .option(.labelSmoothing)) var labelSmoothing: Double?
    @Option(name: .key(.centerRewards), parsing: .unconditional, help: .option(.centerRewards)) var centerRewards: Double?
    @Option(name: .key(.focalGamma), parsing: .unconditional, help: .option(.focalGamma)) var focalGamma: Double?
    @Option(name: .key(.groupDro), parsing: .unconditional, help: .option(.groupDro)) var groupDro: Double?
    @Option(name: .key(.groupDroAdjust), parsing: .unconditional, help: .option(.groupDroAdjust)) var groupDroAdjust: Double?
    @Option(name: .key(.boost), parsing: .unconditional, help: .option(.boost)) var boost: Int?
    @Option(name: .key(.groupBy), help: .option(.groupBy)) var groupBy: String?
    @Option(name: .key(.target), help: .option(.target)) var target: String?
    @Option(name: .key(.targetClip), parsing: .unconditional, help: .option(.targetClip)) var targetClip: Double?
}

/// What `train` evaluates on and writes.
struct RunFlags: OptionTableFlags {
    @Option(name: .key(.out), help: .option(.out)) var out: String?
    @Option(name: .key(.eval), help: .option(.eval)) var eval: [String] = []
    @Option(name: .key(.holdout), parsing: .unconditional, help: .option(.holdout)) var holdout: Double?
    @Option(name: .key(.saveSplit), help: .option(.saveSplit)) var saveSplit: String?
    @Option(name: .key(.trainSplit), help: .option(.trainSplit)) var trainSplit: String?
    @Option(name: .key(.evalSplit), help: .option(.evalSplit)) var evalSplit: String?
    @Option(name: .key(.log), help: .option(.log)) var log: String?
    @Option(name: .key(.checkpointEvery), parsing: .unconditional, help: .option(.checkpointEvery)) var checkpointEvery: Int?
    @Flag(name: .key(.resume), help: .option(.resume)) var resume = false
    @Flag(name: .key(.stream), help: .option(.stream)) var stream = false
    @Option(name: .key(.shuffleBuffer), parsing: .unconditional, help: .option(.shuffleBuffer)) var shuffleBuffer: Int?
}
