import Synchronization
import Upweight

/// Draws library progress as one line on stderr that rewrites itself — on a terminal only, and
/// at most ten times a second: `epoch 3/10  2048/3000 pairs  61000 pairs/s  ETA 0:04  loss 0.4312`.
/// The ETA is the whole training run's when the library says where the run stands (every epoch, or
/// every L-BFGS iteration it may take: `ETA ≤ 0:40`), else the phase's. With `quiet`, nothing is
/// printed at all, notes and warnings included: errors are printed elsewhere.
final class ProgressLine: Sendable {
    private struct State {
        var phase = ""
        var phaseStart = ContinuousClock.now
        var lastDraw = ContinuousClock.now - .seconds(1)
        var drawn = false
        /// When the run being timed started to be watched, and where it stood then.
        var runStart: (time: ContinuousClock.Instant, completed: Int, total: Int)?
    }
    private let state = Mutex(State())
    private let enabled: Bool
    private let quiet: Bool

    init(quiet: Bool) {
        self.quiet = quiet
        enabled = !quiet && isatty(2) != 0
    }

    /// The reporter the library calls: notes are printed as lines, progress drawn on the live line.
    var reporter: Reporter {
        Reporter(note: { [self] message in note(message) },
                 progress: { [self] update in draw(update) })
    }

    /// Prints a lasting line (a note or a warning) on stderr, unless quiet.
    func note(_ message: String) {
        guard !quiet else { return }
        clear()
        printError(message)
    }

    func draw(_ update: Reporter.Progress) {
        guard enabled else { return }
        state.withLock { state in
            let now = ContinuousClock.now
            if update.phase != state.phase { state.phase = update.phase; state.phaseStart = now }
            // A run is timed from its first update; one that starts over (a new run) is timed afresh.
            if let run = update.run, state.runStart.map({ run.total != $0.total || run.completed < $0.completed }) ?? true {
                state.runStart = (now, run.completed, run.total)
            }
            let finished = update.total.map { update.completed >= $0 } ?? false
            guard now - state.lastDraw >= .milliseconds(100) || finished else { return }
            state.lastDraw = now
            let elapsed = (now - state.phaseStart).inSeconds
            var line = "\(update.phase)  \(update.completed)" + (update.total.map { "/\($0)" } ?? "") + " \(update.unit)"
            if elapsed > 0.2 { line += "  \(Int(Double(update.completed) / elapsed)) \(update.unit)/s" }
            if let run = update.run, let start = state.runStart {
                let runElapsed = (now - start.time).inSeconds
                if runElapsed > 0.2, let remaining = run.remainingSeconds(startedAt: start.completed, elapsed: runElapsed) {
                    line += "  ETA \(run.isLimit ? "≤ " : "")" + durationText(remaining)
                }
            } else if let total = update.total, update.completed > 0, elapsed > 0.2 {
                line += "  ETA " + durationText(elapsed * Double(total - update.completed) / Double(update.completed))
            }
            // A diverging loss (huge, inf, NaN) is shown as is: Int(_:) would trap on it.
            if let loss = update.loss { line += "  loss \(abs(loss) < 1e9 ? Double(Int(loss * 10_000)) / 10_000 : loss)" }
            write(2, "\r\u{1B}[K" + terminalEscaped(line))  // only the erase is ours to send
            state.drawn = true
        }
    }

    /// Erases the live line, so that a note or the final output starts on a clean line.
    func clear() {
        guard enabled else { return }
        state.withLock { state in
            if state.drawn { write(2, "\r\u{1B}[K"); state.drawn = false }
        }
    }

    private func write(_ descriptor: Int32, _ text: String) {
        try? Files.writeAll(Array(text.utf8), to: descriptor, naming: "standard error")
    }
}

/// "0:04", "12:30", "2:05:00" (whole seconds; a huge or unknown estimate shows as "?").
func durationText(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds < 1e8 else { return "?" }
    let whole = Int(seconds)
    let (hours, minutes, rest) = (whole / 3600, whole % 3600 / 60, whole % 60)
    return hours > 0 ? "\(hours):\(String(format2: minutes)):\(String(format2: rest))" : "\(minutes):\(String(format2: rest))"
}

extension String {
    /// Two digits, zero-padded ("07").
    init(format2 value: Int) { self = value < 10 ? "0\(value)" : String(value) }
}
