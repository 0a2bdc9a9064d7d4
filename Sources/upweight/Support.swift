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

/// Runs `body` as one process (nil), or under MPI on every rank with the ranks agreeing on how it
/// ended, so that one rank's error stops them all (rank 0 prints it).
func onRanks(_ body: ((any Collective)?) throws -> Void) throws {
    let collective = try Launch.collective()
    guard let collective else { return try body(nil) }
    try collective.agreeing { try body(collective) }
}

/// Prints one line on stderr. Every message is one line, so all of it is escaped: data quoted in a
/// message (a category, a file name, a value) cannot drive the terminal or forge another line.
func printError(_ message: String) {
    try? Files.writeAll(Array((terminalEscaped(message) + "\n").utf8), to: 2, naming: "standard error")
}

/// Loads a model directory, reads `data` the way the model was trained to read (unless flags say
/// otherwise) and scores both sides of every pair: the common first half of `eval` and `score`.
/// With `heldOutOf` (a model directory trained with --holdout), only the pairs it held out, read from
/// `data` or, when none is given, from the files it was trained on. With `collective` (MPI), each
/// rank scores a share of the pairs and every rank gets all the rewards.
func loadAndScore(model: String, data: [String], reading: ReadingFlags, heldOutOf: String? = nil, collective: (any Collective)? = nil,
                  reporter: Reporter = .silent) throws -> ScoredPairs {
    try ScoredPairs.load(model: model, data: data, options: { trained in
        var options = try reading.options(base: trained.reading)
        // Ranks on one machine share its cores.
        if collective != nil && reading.threads == nil { options.threads = Launch.threadsPerRank }
        return options
    }, heldOutOf: heldOutOf, collective: collective, reporter: reporter)
}

/// Writes `text` to `path` atomically, or to stdout when there is no path.
func emit(_ text: String, to path: String?) throws {
    if let path { try Files.writeAtomically(text, to: path) } else { print(text, terminator: "") }
}

extension ReportFormat: ExpressibleByArgument {}
extension ErrorPolicy: ExpressibleByArgument {}
extension TiePolicy: ExpressibleByArgument {}

/// Whether stdout is a terminal (tables in colour). Under mpirun a rank's stdout is a pseudo-terminal
/// whatever mpirun's own stdout is (a pipe, a file), so ranks print plain text.
var stdoutIsTerminal: Bool { isatty(1) != 0 && Launch.announcedRanks == nil }

/// The width tables are laid out for: $COLUMNS when it is a number, else the terminal's width when
/// stdout is one, else 120.
func terminalWidth() -> Int {
    if let text = getenv("COLUMNS").map({ String(cString: $0) }), let columns = Int(text), (20...10_000).contains(columns) { return columns }
    var size = winsize()
    if stdoutIsTerminal, ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col >= 20 { return Int(size.ws_col) }
    return 120
}
