import ArgumentParser
import Upweight
#if canImport(Glibc)
import Glibc
#endif

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a reward model and report per-category accuracy on held-out pairs.",
        discussion: """
        Objective (linear): L(θ) = (1/Σw) Σ_i w_i·softplus(−(θ·(x_c,i − x_r,i) − m_i)) + (λ/2)‖θ‖², \
        with w_i = weight_i · upweight[category_i], normalized to mean 1.
        """)

    @Argument(help: "JSONL files of preference pairs (.jsonl or .jsonl.gz).")
    var data: [String]
    // Numbers are parsed `.unconditional`ly, so that `--l2 -1` reads -1 as the value (and is then
    // refused in the flag's own words) instead of as an unknown option leaving --l2 without a value.
    @Option(help: "Model directory to write (config.json + model.safetensors); an existing one must be empty or an Upweight model.") var out: String?
    @Option(help: "JSONL file(s) to evaluate on after training (repeatable).") var eval: [String] = []
    @Option(parsing: .unconditional, help: "Hold out this fraction of the training pairs (stratified by category, groups kept whole) for evaluation.") var holdout: Double?
    @Option(help: "Keep pairs together in --holdout: prompt (pairs sharing a prompt; default), none, or a field name (e.g. a conversation id).")
    var groupBy: String?
    @Option(help: "Write the training and held-out pairs' lines into DIR/train.jsonl and DIR/held_out.jsonl, for other tools.")
    var saveSplit: String?
    @Option(help: "Train only on pairs whose split field (--split-field, default split) has this value.") var trainSplit: String?
    @Option(help: "Evaluate on the pairs whose split field has this value.") var evalSplit: String?
    @Option(help: "A JSON config file; its keys are these flags' long names. Flags win.") var config: String?
    @Option(help: "Model: linear (default) or mlp.") var model: String?
    @Option(parsing: .unconditional, help: "MLP hidden widths, e.g. 256 or 256,128 (default 256).") var hidden: String?
    @Option(help: "MLP activation: relu (default), gelu or tanh.") var activation: String?
    @Option(help: "MLP initial weights: he (He-normal, Xavier for tanh; zero biases; default) or torch (torch.nn.Linear's U(±1/√fan_in)).")
    var initialization: String?
    @Option(parsing: .unconditional, help: "AdamW: linear warmup over this many steps (default 0).") var warmupSteps: Int?
    @Option(help: "AdamW learning-rate decay after warmup: constant (default), linear or cosine.") var schedule: String?
    @Option(parsing: .unconditional, help: "Early stopping: stop after N epochs without a better held-out loss; keep the best epoch.") var patience: Int?
    @Option(help: "Optimizer: lbfgs (full batch, default) or adamw (minibatches).") var optimizer: String?
    @Option(parsing: .unconditional, help: "L2 strength λ, 0 to 1e6 (default 1e-4).") var l2: Double?
    @Option(parsing: .unconditional, help: "AdamW learning rate (peak of the schedule; default 1e-3).") var learningRate: Double?
    @Option(parsing: .unconditional, help: "AdamW decoupled weight decay, 0 to 1e6 (default 0).") var weightDecay: Double?
    @Option(parsing: .unconditional, help: "AdamW minibatch size (default 256).") var batchSize: Int?
    @Option(parsing: .unconditional, help: "AdamW epochs (default 10).") var epochs: Int?
    @Option(parsing: .unconditional, help: "Random seed for shuffling and the holdout split (default 0).") var seed: Int?
    @Option(parsing: .unconditional, help: "L-BFGS iteration limit (default 1000).") var maxIterations: Int?
    @Option(parsing: .unconditional, help: "L-BFGS stops when ‖∇L‖₂ is below this, 0 to 1e6 (default 1e-7).") var tolerance: Double?
    @Option(parsing: .unconditional, help: "Text: 2^bits hashed features (default 18).") var hashBits: Int?
    @Flag(help: "Text: hash the prompt's words into each response's features too.") var includePrompt = false
    @Flag(help: "Dense: z-score features with training statistics (stored in the model).") var standardize = false
    @Option(help: "Multiply a category's weights: CATEGORY=FACTOR, 0 to 1e6 (repeatable).") var upweight: [String] = []
    @Option(help: "Weight normalization: mean (weights average 1, default) or none.") var normalize: String?
    @Option(help: "Category weights from counts: none, balanced, sqrt or effective:BETA.") var categoryScheme: String?
    @Option(parsing: .unconditional, help: "Clip every weight to LO,HI before normalization.") var clipWeights: String?
    @Option(help: "How weights act: loss (weighted mean loss, default) or sample (draw pairs ∝ weight).") var weightMode: String?
    @Option(parsing: .unconditional, help: "Label smoothing ε: (1−ε)·softplus(−Δ) + ε·softplus(Δ).") var labelSmoothing: Double?
    @Option(parsing: .unconditional, help: "Reward centering λ, 0 to 1e6: + λ·(r_c + r_r)² (TRL's center_rewards_coefficient).") var centerRewards: Double?
    @Option(parsing: .unconditional, help: "Focal γ, 0 to 1e6: (1−σ(Δ))^γ · softplus(−Δ).") var focalGamma: Double?
    @Option(parsing: .unconditional, help: "Group DRO over categories with step size η, 0 to 1e6 (0: off).") var groupDro: Double?
    @Option(parsing: .unconditional, help: "Group DRO generalization adjustment C, 0 to 1e6 (added as C/√n_k).") var groupDroAdjust: Double?
    @Option(parsing: .unconditional, help: "Boosting rounds T (RankBoost/AdaBoost over pairs; 1: off).") var boost: Int?
    @Option(help: "Write the training log (JSONL, one object per epoch) to this file.") var log: String?
    @Option(parsing: .unconditional, help: "AdamW: write a checkpoint into --out every N epochs.") var checkpointEvery: Int?
    @Flag(help: "Continue from the checkpoint in --out (same data and flags).") var resume = false
    @Option(help: "Report format: table, json, csv, markdown or html.") var format: ReportFormat = .table
    @Option(help: "Also write the HTML report (charts, weighting, training curves) to this file.") var report: String?
    @Flag(help: "Table: every metric (mean and median margin, Brier, reward scale, length baseline), not only those that fit 120 columns.")
    var wide = false
    @Flag(help: "Print only errors: no progress line, notes or warnings.") var quiet = false
    @OptionGroup var reading: ReadingFlags

    func validate() throws {
        for item in upweight where item.split(separator: "=").count != 2 || Double(item.split(separator: "=")[1]) == nil {
            throw ValidationError("--upweight expects CATEGORY=FACTOR, got \"\(item)\"")
        }
    }

    /// The given flags as config keys, so one parser checks flags and config files alike.
    var settings: JSONObject {
        var object = reading.settings
        let numbers: [(String, Double?)] = [("l2", l2), ("learning-rate", learningRate), ("weight-decay", weightDecay),
                                            ("tolerance", tolerance), ("holdout", holdout), ("label-smoothing", labelSmoothing),
                                            ("center-rewards", centerRewards), ("focal-gamma", focalGamma),
                                            ("group-dro", groupDro), ("group-dro-adjust", groupDroAdjust)]
        for (key, value) in numbers { if let value { object[key] = .number(value) } }
        let integers: [(String, Int?)] = [("batch-size", batchSize), ("epochs", epochs), ("seed", seed),
                                          ("max-iterations", maxIterations), ("hash-bits", hashBits), ("boost", boost),
                                          ("checkpoint-every", checkpointEvery), ("warmup-steps", warmupSteps), ("patience", patience)]
        for (key, value) in integers { if let value { object[key] = JSONValue(value) } }
        for (key, value) in [("model", model), ("optimizer", optimizer), ("normalize", normalize), ("out", out),
                             ("group-by", groupBy), ("save-split", saveSplit), ("train-split", trainSplit), ("eval-split", evalSplit),
                             ("category-scheme", categoryScheme), ("clip-weights", clipWeights), ("weight-mode", weightMode),
                             ("log", log), ("hidden", hidden), ("activation", activation),
                             ("initialization", initialization), ("schedule", schedule)] {
            if let value { object[key] = .string(value) }
        }
        if includePrompt { object["include-prompt"] = true }
        if resume { object["resume"] = true }
        if standardize { object["standardize"] = true }
        if !eval.isEmpty { object["eval"] = .array(eval.map { .string($0) }) }
        if !upweight.isEmpty {
            var factors = JSONObject()
            for item in upweight {
                let parts = item.split(separator: "=", maxSplits: 1)
                factors[String(parts[0])] = .number(Double(parts[1])!)
            }
            object["upweight"] = .object(factors)
        }
        return object
    }

    func run() throws {
        try reportingErrors {
            var configuration = TrainingConfiguration()
            if let config {
                try configuration.apply(try Files.readJSONObject(config), from: .file(config))
            }
            try configuration.apply(settings, from: .commandLine)
            // The session checks --out and --log too, but knows no config file.
            let inputs = data + configuration.eval + (config.map { [$0] } ?? [])
            for (flag, path) in [("--report", report), ("--log", configuration.logFile)] {
                if let path { try OutputPath.checkFile(path, flag: flag, apartFrom: inputs, outside: configuration.out) }
            }
            let progress = ProgressLine(quiet: quiet)
            Interruption.install()
            let finished = try TrainingSession(configuration: configuration, data: data).run(reporter: progress.reporter)
            progress.clear()
            let context = ReportContext(modelDirectory: configuration.out,
                                        dataFiles: try (data + configuration.eval).map(ReportContext.DataFile.init(path:)),
                                        pairsFingerprint: finished.reportedPairsFingerprint, commandLine: CommandLine.arguments)
            if let report { try Files.writeAtomically(finished.render(.html, context: context), to: report) }
            // Colour only on a terminal: a pipe or a file gets plain text.
            print(format == .table ? finished.report.table(colour: isatty(1) != 0, wide: wide, width: terminalWidth()) : finished.render(format, context: context), terminator: "")
        }
    }
}
