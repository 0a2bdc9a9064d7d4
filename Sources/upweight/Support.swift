import ArgumentParser
import Upweight
#if canImport(Glibc)
import Glibc
#endif

/// Runs a subcommand's work and turns the library's errors into a message on stderr and an exit
/// status: 64 bad usage (EX_USAGE), 65 bad data (EX_DATAERR), 70 training failed (EX_SOFTWARE),
/// 74 a write failed (EX_IOERR: disk full, I/O error).
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as DataError {
        printError(error.description)
        throw ExitCode(65)
    } catch let error as UsageError {
        printError("upweight: \(error.message)")
        throw ExitCode(64)
    } catch let error as TrainingError {
        printError("upweight: \(error.message)")
        throw ExitCode(70)
    } catch let error as IOError {
        printError("upweight: \(error.message)")
        throw ExitCode(74)
    } catch let error as TrainingInterrupted {
        printError("upweight: \(error.message)")
        throw ExitCode(128 + error.signal)  // 130 for SIGINT, 143 for SIGTERM, as a shell reports them
    }
}

func printError(_ message: String) {
    let line = Array((message + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// Loads a model directory, reads `data` the way the model was trained to read (unless flags say
/// otherwise) and scores both sides of every pair: the common first half of `eval` and `score`.
func loadAndScore(model: String, data: [String], reading: ReadingFlags, reporter: Reporter = .silent)
    throws -> (dataset: PreferenceDataset, chosen: [Float], rejected: [Float], model: TrainedModel)
{
    let trained = try ModelDirectory.load(model)
    let options = try reading.options(base: trained.reading)
    reporter.progress(.init(phase: "reading", completed: 0, total: nil, unit: "pairs"))
    let (dataset, summary) = try PreferenceReader.read(paths: data, options: options, featurizingWith: trained.featurizer)
    logReadSummary(summary, pairs: dataset.count, log: reporter.note)
    reporter.progress(.init(phase: "scoring", completed: 0, total: dataset.count, unit: "pairs"))
    let rewards = try trained.rewards(for: dataset, threads: options.threads)
    reporter.progress(.init(phase: "scoring", completed: dataset.count, total: dataset.count, unit: "pairs"))
    return (dataset, rewards.chosen, rewards.rejected, trained)
}

/// Writes `text` to `path` atomically, or to stdout when there is no path.
func emit(_ text: String, to path: String?) throws {
    if let path { try Files.writeAtomically(text, to: path) } else { print(text, terminator: "") }
}

extension ReportFormat: ExpressibleByArgument {}
extension ErrorPolicy: ExpressibleByArgument {}
extension TiePolicy: ExpressibleByArgument {}
