import ArgumentParser
import Upweight

/// Flags that say how to read JSONL, shared by every subcommand that reads pairs.
struct ReadingFlags: OptionTableFlags {
    @Option(name: .key(.shape), help: .option(.shape)) var shape: ShapeChoice?
    @Option(name: .key(.onError), help: .option(.onError)) var onError: ErrorPolicy?
    @Option(name: .key(.threads), parsing: .unconditional, help: .option(.threads)) var threads: Int?
    @Option(name: .key(.promptField), help: .option(.promptField)) var promptField: String?
    @Option(name: .key(.chosenField), help: .option(.chosenField)) var chosenField: String?
    @Option(name: .key(.rejectedField), help: .option(.rejectedField)) var rejectedField: String?
    @Option(name: .key(.categoryField), help: .option(.categoryField)) var categoryField: String?
    @Option(name: .key(.weightField), help: .option(.weightField)) var weightField: String?
    @Option(name: .key(.marginField), help: .option(.marginField)) var marginField: String?
    @Option(name: .key(.idField), help: .option(.idField)) var idField: String?
    @Option(name: .key(.splitField), help: .option(.splitField)) var splitField: String?
    @Option(name: .key(.maxMemory), parsing: .unconditional, help: .option(.maxMemory)) var maxMemory: String?
    @Option(name: .key(.cache), help: .option(.cache)) var cache: String?
    @Option(name: .key(.blockBytes), parsing: .unconditional, help: .option(.blockBytes)) var blockBytes: String?

    /// Reading options: `base` (a model's own settings, or defaults) overridden by the flags given.
    func options(base: ReadOptions = ReadOptions()) throws -> ReadOptions {
        var configuration = TrainingConfiguration()
        configuration.reading = base
        try configuration.apply(settings, from: .commandLine)
        return configuration.reading
    }
}

/// Where `eval`, `compare` and `score` write (stdout without): `--out`, as `train`, `tune` and
/// `synth` name their outputs. `--output`, its old name, still works, hidden from the help.
struct OutputFlags: ParsableArguments {
    @Option(help: "Write to this file (atomically) instead of stdout (--output, the old name of this flag, still works).")
    var out: String?
    @Option(help: ArgumentHelp("Deprecated: the old name of --out.", visibility: .hidden)) var output: String?

    func validate() throws {
        if out != nil && output != nil { throw ValidationError("--output is the old name of --out: give one of them") }
    }

    /// The path given, and the flag that gave it (for messages).
    var file: (path: String, flag: String)? { out.map { ($0, "--out") } ?? output.map { ($0, "--output") } }
}

/// How eval and compare score pairs and resample them.
struct ScoringFlags: ParsableArguments {
    @Option(help: "How a tie (Δ = 0) counts towards accuracy: half (½), strict (0) or exclude (left out).") var ties: TiePolicy = .half
    @Option(parsing: .unconditional, help: "Bootstrap resamples for the 95% intervals (eval: 0 for none).") var bootstrap: Int = 1000
    @Option(parsing: .unconditional, help: "Seed of the bootstrap.") var seed = Seed(0)
    @Flag(help: "Print only errors: no progress line, notes or warnings.") var quiet = false

    /// The values, checked: `--bootstrap` from `fewestResamples` to a million.
    func values(fewestResamples: Int) throws -> (TiePolicy, Int, UInt64) {
        try FlagRange.check(bootstrap, flag: "--bootstrap", in: fewestResamples...1_000_000)
        return (ties, bootstrap, try seed.value())
    }
}
