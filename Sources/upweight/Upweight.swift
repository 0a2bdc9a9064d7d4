import ArgumentParser
import Upweight

@main
struct UpweightCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upweight",
        abstract: "Train preference-weighted reward models on pairwise preference data (JSONL).",
        discussion: "Exit status: 0 success, 64 bad usage (flags, config, model directory), 65 bad data, 70 training failed, 130/143 interrupted (SIGINT/SIGTERM; a checkpoint is written when --out is set).",
        version: upweightVersion,
        subcommands: [Train.self, Eval.self, Score.self, Stats.self, Tune.self, Synth.self]
    )
}
