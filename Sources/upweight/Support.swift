import ArgumentParser
import Upweight

/// Runs a subcommand's work and turns the library's errors into a message on stderr and an exit
/// status: 64 bad usage (EX_USAGE), 65 bad data (EX_DATAERR), 70 training failed (EX_SOFTWARE),
/// 74 a write failed (EX_IOERR: disk full, I/O error).
func reportingErrors(_ body: () throws -> Void) throws {
    // Under MPI only rank 0 prints; every rank exits with the same status (they agreed on the error).
    func report(_ message: String) { if Launch.prints { printError(message) } }
    do {
        try body()
    } catch let error as DataError {
        report(error.description)
        throw ExitCode(65)
    } catch let error as UsageError {
        report("upweight: \(error.message)")
        throw ExitCode(64)
    } catch let error as TrainingError {
        report("upweight: \(error.message)")
        throw ExitCode(70)
    } catch let error as IOError {
        report("upweight: \(error.message)")
        throw ExitCode(74)
    } catch let error as TrainingInterrupted {
        report("upweight: \(error.message)")
        throw ExitCode(128 + error.signal)  // 130 for SIGINT, 143 for SIGTERM, as a shell reports them
    }
}

/// Prints one line on stderr. Every message is one line, so all of it is escaped: data quoted in a
/// message (a category, a file name, a value) cannot drive the terminal or forge another line.
func printError(_ message: String) {
    try? Files.writeAll(Array((terminalEscaped(message) + "\n").utf8), to: 2, naming: "standard error")
}

/// Loads a model directory, reads `data` the way the model was trained to read (unless flags say
/// otherwise) and scores both sides of every pair: the common first half of `eval` and `score`.
/// With `heldOutOf` (a model directory trained with --holdout), only the pairs it held out, read from
/// `data` or, when none is given, from the files it was trained on.
func loadAndScore(model: String, data: [String], reading: ReadingFlags, heldOutOf: String? = nil, reporter: Reporter = .silent) throws -> ScoredPairs {
    try ScoredPairs.load(model: model, data: data, options: { try reading.options(base: $0.reading) }, heldOutOf: heldOutOf, reporter: reporter)
}

/// Writes `text` to `path` atomically, or to stdout when there is no path.
func emit(_ text: String, to path: String?) throws {
    if let path { try Files.writeAtomically(text, to: path) } else { print(text, terminator: "") }
}

extension ReportFormat: ExpressibleByArgument {}
extension ErrorPolicy: ExpressibleByArgument {}
extension TiePolicy: ExpressibleByArgument {}

/// The width tables are laid out for: $COLUMNS when it is a number, else the terminal's width when
/// stdout is one, else 120.
func terminalWidth() -> Int {
    if let text = getenv("COLUMNS").map({ String(cString: $0) }), let columns = Int(text), (20...10_000).contains(columns) { return columns }
    var size = winsize()
    if isatty(1) != 0, ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col >= 20 { return Int(size.ws_col) }
    return 120
}
