import Synchronization
import UpweightSupport
private import CSystem

/// The temporary file being written, removed if SIGINT, SIGTERM or SIGHUP ends the process
/// mid-write, so that an interrupted report or synth file does not stay behind filling the disk.
/// (A staging directory of a killed run is removed by the next save to the same path.)
package enum SignalCleanup {
    /// The address of a C copy of the path (0: none), read by the signal handler. Never freed: a
    /// handler on another thread may be reading it; a few bytes per write is the price.
    private static let current = Atomic<UInt>(0)
    private static let installed = Atomic<Bool>(false)
    private static let signals = [SIGINT, SIGTERM, SIGHUP]

    /// Sets the file to remove on a signal (nil: none). Handlers are installed once, for the signals
    /// that still have their default action (train's own handlers call `removeTemporary` themselves).
    package static func removeOnSignal(_ path: String?) {
        if !installed.exchange(true, ordering: .relaxed) {
            for number in signals where upweight_signal_is_default(number) != 0 {
                upweight_set_signal_handler(number, cleanupHandler)
            }
        }
        current.store(path.map { UInt(bitPattern: strdup($0)) } ?? 0, ordering: .releasing)
    }

    /// Removes the temporary file being written, if any. Async-signal-safe: one load and unlink(2).
    package static func removeTemporary() {
        if let path = UnsafePointer<CChar>(bitPattern: current.load(ordering: .acquiring)) { unlink(path) }
    }
}

private func cleanupHandler(_ number: Int32) {
    SignalCleanup.removeTemporary()
    signal(number, SIG_DFL)
    raise(number)  // ends the process as the signal would have, with the status a shell expects
}
