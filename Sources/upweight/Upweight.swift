import ArgumentParser
import Upweight

@main
struct UpweightCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upweight",
        abstract: "Train preference-weighted reward models on pairwise preference data (JSONL).",
        discussion: "Exit status: 0 success, 64 bad usage (flags, config files, output paths), 65 bad data (or a damaged model directory or checkpoint), 70 training failed (diverged), 74 a write failed (disk full, I/O error), 130/143 interrupted (SIGINT/SIGTERM; minibatch training with --out writes a checkpoint first, L-BFGS and --boost runs save nothing).",
        version: upweightVersion,
        subcommands: [Train.self, Eval.self, Compare.self, Score.self, Stats.self, Tune.self, Audit.self, Synth.self]
    )

    /// argument-parser's own `main`, except that its error messages, which quote what was typed,
    /// reach stderr escaped a line at a time (a flag's value must not drive the terminal either).
    static func main() {
        do {
            var command = try parseAsRoot()
            if let ranks = Launch.announcedRanks, ranks > 1, !(command is Train || command is Eval || command is Score) {
                let name = type(of: command)._commandName
                if Launch.prints { printError("upweight: only `upweight train`, `eval` and `score` run on several MPI ranks yet; run `upweight \(name)` as one process") }
                Glibc.exit(64)
            }
            try command.run()
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
            } else if !message.isEmpty && Launch.prints {  // under MPI, rank 0 alone
                message.split(separator: "\n", omittingEmptySubsequences: false).forEach { printError(String($0)) }
            }
            Glibc.exit(code.rawValue)
        }
    }
}
