import Synchronization
import Upweight
#if canImport(Glibc)
import Glibc
#endif

/// Draws library progress as one line on stderr that rewrites itself — on a terminal only, and
/// at most ten times a second: `training  epoch 3/10  61,000 pairs/s  ETA 0:04  loss 0.4312`.
final class ProgressLine: Sendable {
    private struct State {
        var phase = ""
        var phaseStart = ContinuousClock.now
        var lastDraw = ContinuousClock.now - .seconds(1)
        var drawn = false
    }
    private let state = Mutex(State())
    private let enabled: Bool

    init(quiet: Bool) { enabled = !quiet && isatty(2) != 0 }

    /// The reporter the library calls: notes are printed as lines, progress drawn on the live line.
    var reporter: Reporter {
        Reporter(note: { [self] message in clear(); printError(message) },
                 progress: { [self] update in draw(update) })
    }

    func draw(_ update: Reporter.Progress) {
        guard enabled else { return }
        state.withLock { state in
            let now = ContinuousClock.now
            if update.phase != state.phase { state.phase = update.phase; state.phaseStart = now }
            let finished = update.total.map { update.completed >= $0 } ?? false
            guard now - state.lastDraw >= .milliseconds(100) || finished else { return }
            state.lastDraw = now
            let elapsed = Double((now - state.phaseStart).components.attoseconds) * 1e-18 + Double((now - state.phaseStart).components.seconds)
            var line = "\(update.phase)  \(update.completed)" + (update.total.map { "/\($0)" } ?? "") + " \(update.unit)"
            if elapsed > 0.2 { line += "  \(Int(Double(update.completed) / elapsed)) \(update.unit)/s" }
            if let total = update.total, update.completed > 0, elapsed > 0.2 {
                let remaining = elapsed * Double(total - update.completed) / Double(update.completed)
                line += "  ETA \(Int(remaining) / 60):" + String(format2: Int(remaining) % 60)
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
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
    }
}

extension String {
    /// Two digits, zero-padded ("07").
    init(format2 value: Int) { self = value < 10 ? "0\(value)" : String(value) }
}
