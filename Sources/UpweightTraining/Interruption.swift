import Synchronization
import UpweightSupport
import UpweightIO

/// SIGINT and SIGTERM during training: the loop finishes its current step, writes a checkpoint and
/// stops with `TrainingInterrupted`. A second signal ends the process at once (the checkpoint on
/// disk is then the previous one, still whole: checkpoints are swapped in atomically).
public enum Interruption {
    fileprivate static let received = Atomic<Int32>(0)

    /// What the handler writes to stderr at once on the first signal (0: nothing). Set under
    /// MPI: a rank blocked in a collective never reaches the end of its step, and the launcher,
    /// which sends SIGTERM to every survivor when one rank dies, kills it a few seconds later.
    fileprivate static let announcement = Atomic<Int>(0)  // the text's address (pointers are not Sendable)
    fileprivate static let announcementLength = Atomic<Int>(0)

    /// Installs the handlers (the CLI does, for `train`). `rank` of `ranks` (MPI): each surviving
    /// rank says at once why it stops, since it may be killed before it can say more.
    public static func install(rank: Int? = nil, of ranks: Int = 1) {
        // Initialised here, not first in the handler.
        _ = (received.load(ordering: .relaxed), announcement.load(ordering: .relaxed), announcementLength.load(ordering: .relaxed))
        if let rank {
            let text = "upweight: rank \(rank) of \(ranks) stopping on a signal from the MPI launcher: it stops every rank when one fails (mpirun's message says which) or the job is cancelled\n"
            let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: text.utf8.count, alignment: 1)  // kept until exit
            bytes.copyBytes(from: text.utf8)
            announcementLength.store(bytes.count, ordering: .relaxed)
            announcement.store(Int(bitPattern: bytes.baseAddress), ordering: .releasing)
        }
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
    if exchanged, let text = UnsafeRawPointer(bitPattern: Interruption.announcement.load(ordering: .acquiring)) {
        _ = write(2, text, Interruption.announcementLength.load(ordering: .relaxed))  // async-signal-safe, unlike print
    }
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
