import Synchronization
import UpweightSupport
import UpweightIO

/// SIGINT and SIGTERM during training: the loop finishes its current step, writes a checkpoint and
/// stops with `TrainingInterrupted`. A second signal ends the process at once (the checkpoint on
/// disk is then the previous one, still whole: checkpoints are swapped in atomically).
public enum Interruption {
    fileprivate static let received = Atomic<Int32>(0)

    /// Installs the handlers (the CLI does, for `train`).
    public static func install() {
        signal(SIGINT, interruptionHandler)
        signal(SIGTERM, interruptionHandler)
    }

    /// The signal received since start, if any.
    public static var pending: Int32? {
        let value = received.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }

    /// Stops a run that has no checkpoint to write (L-BFGS, boosting): throws `TrainingInterrupted`
    /// when a signal has arrived, saying where it stopped and why nothing was kept.
    package static func stopIfPending(at place: String, unsaved reason: String) throws {
        guard let signal = pending else { return }
        throw TrainingInterrupted(signal: signal, at: place, unsaved: reason)
    }

    public static func signalName(_ number: Int32) -> String {
        number == SIGINT ? "SIGINT" : number == SIGTERM ? "SIGTERM" : "signal \(number)"
    }
}

private func interruptionHandler(_ number: Int32) {
    let (exchanged, _) = Interruption.received.compareExchange(expected: 0, desired: number, ordering: .relaxed)
    if !exchanged {  // the second one: stop now, without the file being written
        SignalCleanup.removeTemporary()
        _exit(128 + number)
    }
}

/// Training stopped on a signal, after writing a checkpoint when it had somewhere to write it.
/// The CLI exits with 128 + the signal (130 for SIGINT, 143 for SIGTERM).
public struct TrainingInterrupted: Error, Sendable, CustomStringConvertible {
    public var signal: Int32
    public var message: String
    public var description: String { message }

    public init(signal: Int32, message: String) {
        self.signal = signal
        self.message = message
    }

    /// Stopped at `place` with nothing written, for `reason`.
    package init(signal: Int32, at place: String, unsaved reason: String) {
        self.init(signal: signal, message: "interrupted by \(Interruption.signalName(signal)) at \(place); nothing was saved (\(reason))")
    }
}
