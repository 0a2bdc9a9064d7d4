import ArgumentParser
import Upweight

@main
struct UpweightCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upweight",
        abstract: "Train preference-weighted reward models on pairwise preference data (JSONL).",
        discussion: "Exit status: 0 success, 64 bad usage (flags, config, model directory), 65 bad data, 70 training failed, 74 a write failed (disk full, I/O error), 130/143 interrupted (SIGINT/SIGTERM; minibatch training with --out writes a checkpoint first, L-BFGS and --boost runs save nothing).",
        version: upweightVersion,
        subcommands: [Train.self, Eval.self, Compare.self, Score.self, Stats.self, Tune.self, Synth.self]
    )
}
