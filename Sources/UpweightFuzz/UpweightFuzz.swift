// A libFuzzer target over the parsers that take a user's bytes: the JSONL pair reader (every
// input shape, both error policies, small and large chunks), the config parser, and model
// directories with checkpoints (ModelDirectoryChecks). It asserts
// invariants that can fail, not only "does not crash": errors name the file and a real line and
// column, `skip` accepts whatever `fail` accepts, accepted values are finite, a config survives being
// written and read back. Built with -DFUZZING for libFuzzer (scripts/fuzz); built plainly, it is a
// command that runs the files it is given through the same checks, to reproduce a finding.
import Upweight

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    FuzzChecks.run(bytes)
    return 0
}

#if FUZZING
// SwiftPM links an executable's entry point as `UpweightFuzz_main`; hand control to libFuzzer there.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("UpweightFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv, fuzzOneInput)
}
#else
@main
struct Reproduce {
    static func main() throws {
        let paths = CommandLine.arguments.dropFirst()
        for path in paths { FuzzChecks.run(try Files.read(path)) }
        print("\(paths.count) inputs passed every check")
    }
}
#endif

enum FuzzChecks {
    static let dataName = "fuzz.jsonl"
    static let configName = "fuzz.json"

    static func run(_ bytes: [UInt8]) {
        let lines = Lines(bytes)
        for shape in [nil] + InputShape.allCases { checkReader(bytes, shape: shape, lines: lines) }
        checkJSONAndConfig(bytes)
        ModelDirectoryChecks.run(bytes)
    }

    // MARK: The JSONL reader

    private typealias Outcome = Result<(PreferenceDataset, ReadSummary), any Error>

    private static func read(_ bytes: [UInt8], shape: InputShape?, onError: ErrorPolicy,
                             chunkBytes: Int = 32 << 20, threads: Int = 1, minimumPartBytes: Int = 1 << 16,
                             featurizer: Featurizer? = nil) -> Outcome {
        var options = ReadOptions()
        options.shape = shape
        options.onError = onError
        options.chunkBytes = chunkBytes
        options.threads = threads
        options.minimumPartBytes = minimumPartBytes
        return Result { try PreferenceReader.read(bytes: bytes, name: dataName, options: options, featurizingWith: featurizer) }
    }

    private static func checkReader(_ bytes: [UInt8], shape: InputShape?, lines: Lines) {
        let strict = read(bytes, shape: shape, onError: .fail)
        let lenient = read(bytes, shape: shape, onError: .skip)
        // Tiny chunks on two threads: line numbers and results must not depend on how the file is cut.
        let chunked = read(bytes, shape: shape, onError: .skip, chunkBytes: 7, threads: 2)
        // One chunk split into 3 parts at arbitrary bytes (each part starts after a newline), with
        // text hashed as it is read.
        let parted = read(bytes, shape: shape, onError: .skip, threads: 3, minimumPartBytes: 1, featurizer: hashing)

        switch strict {
        case .success(let (dataset, summary)):
            checkAccepted(dataset, summary)
            guard case .success(let (skipDataset, skipSummary)) = lenient else {
                fatalError("accepted under fail, rejected under skip: \(lenient)")
            }
            check(skipSummary.skippedCount == 0, "skip skipped lines that fail accepted")
            check(same(dataset, skipDataset), "fail and skip read different pairs")
        case .failure(let error):
            let failure = checkError(error, lines: lines)
            if case .success(let (_, skipSummary)) = lenient, failure.line != nil {
                check(skipSummary.firstSkipped.first == failure,
                             "fail stopped at \(failure), skip first skipped \(skipSummary.firstSkipped)")
            }
        }

        switch lenient {
        case .success(let (dataset, summary)):
            checkAccepted(dataset, summary)
            check(summary.lines == dataset.count + summary.skippedCount,
                         "\(summary.lines) lines, \(dataset.count) pairs, \(summary.skippedCount) skipped")
            for error in summary.firstSkipped { _ = checkError(error, lines: lines) }
            guard case .success(let (chunkedDataset, chunkedSummary)) = chunked else {
                fatalError("small chunks rejected what one chunk accepted: \(chunked)")
            }
            check(same(dataset, chunkedDataset), "small chunks read different pairs")
            check(chunkedSummary.lines == summary.lines && chunkedSummary.skippedCount == summary.skippedCount,
                         "small chunks counted other lines: \(chunkedSummary) vs \(summary)")
            guard case .success(let (partedDataset, partedSummary)) = parted else {
                fatalError("three parts rejected what one accepted: \(parted)")
            }
            var unhashed = partedDataset
            unhashed.hashedTexts = nil
            check(same(dataset, unhashed), "three parts read different pairs")
            checkHashedAsRead(partedDataset, against: dataset)
            check(partedSummary == summary, "three parts summed up otherwise: \(partedSummary) vs \(summary)")
        case .failure(let error):
            // Skipping bad lines leaves two ways to fail: nothing left to read, or a whole file that
            // is not UTF-8 but UTF-16 (its every line would be skipped; the hint helps more).
            let failure = checkError(error, lines: lines)
            check(failure.reason == "no pairs" || failure.reason == "UTF-16", "skip stopped at a line: \(failure)")
            if case .success = chunked { fatalError("small chunks accepted what one chunk rejected") }
            if case .success = parted { fatalError("three parts accepted what one rejected") }
        }
    }

    private static let hashing = Featurizer.hashed(hashBits: 8, includePrompt: true)

    /// Text hashed as it was read gives the rows hashing afterwards gives; dense data carries none.
    private static func checkHashedAsRead(_ read: PreferenceDataset, against plain: PreferenceDataset) {
        guard plain.isText else { return check(read.hashedTexts == nil, "dense data with hashed rows") }
        guard let hashed = read.hashedTexts, let features = try? hashing.features(of: plain, threads: 1),
              case .sparse(let chosen) = features.chosen, case .sparse(let rejected) = features.rejected
        else { fatalError("text read without hashed rows, or not hashable") }
        check(hashed.chosen == chosen && hashed.rejected == rejected, "hashed as read differs from hashed after reading")
    }

    /// Every error about the data is a DataError naming the file; one about a line names a real,
    /// non-blank line and a column inside it (or just past its end).
    private static func checkError(_ error: any Error, lines: Lines) -> DataError {
        guard let error = error as? DataError else { fatalError("not a DataError: \(error)") }
        check(error.file == dataName && error.description.hasPrefix("\(dataName):"), "no file name: \(error)")
        guard let line = error.line else {
            check(error.reason == "no pairs", "an error about the data without a line: \(error)")
            return error
        }
        check(line >= 1 && line <= lines.count, "line \(line) of \(lines.count): \(error)")
        check(error.description.hasPrefix("\(dataName):\(line):"), "bad location: \(error)")
        let text = lines[line]
        check(!text.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" }, "error on a blank line: \(error)")
        let column = error.column ?? 0
        check(column >= 1 && column <= text.count + 1, "column \(column) of \(text.count): \(error)")
        if error.field != nil && column > 1 {
            // A column found for a field points at the start of its value.
            let first = text[column - 1]
            check("\"[{-0123456789tfn".unicodeScalars.contains(first), "column \(column) is not a value's start: \(error)")
        }
        return error
    }

    private static func checkAccepted(_ dataset: PreferenceDataset, _ summary: ReadSummary) {
        check(dataset.count > 0, "an accepted file without pairs")
        check(dataset.exampleWeights.allSatisfy { $0.isFinite && $0 >= 0 }, "bad weights \(dataset.exampleWeights)")
        check(dataset.margins.allSatisfy(\.isFinite), "non-finite margins \(dataset.margins)")
        check(dataset.sources.allSatisfy { $0.line >= 1 }, "pair without a line")
        check(dataset.categoryIndices.allSatisfy { Int($0) < dataset.categoryNames.count }, "bad category index")
        switch dataset.responses {
        case .dense(let dimension, let chosen, let rejected):
            check(dimension > 0 && chosen.count == dimension * dataset.count && rejected.count == chosen.count,
                         "dense columns do not fit: \(dimension) × \(dataset.count)")
            check(chosen.allSatisfy(\.isFinite) && rejected.allSatisfy(\.isFinite), "non-finite features")
        case .text(let prompts, let chosen, let rejected):
            check(prompts.count == dataset.count && chosen.count == dataset.count && rejected.count == dataset.count,
                         "text columns do not fit")
            check(zip(chosen, rejected).allSatisfy { !($0.isEmpty && $1.isEmpty) }, "both responses empty")
        }
    }

    private static func same(_ a: PreferenceDataset, _ b: PreferenceDataset) -> Bool {
        String(describing: a) == String(describing: b)
    }

    // MARK: JSON and the config parser

    private static func checkJSONAndConfig(_ bytes: [UInt8]) {
        let parsed = Result(catching: { () throws(JSONSyntaxError) in try JSONParser.parse(bytes) })
        guard case .success(let value) = parsed else {
            if case .failure(let error) = parsed { check(error.line >= 1 && error.column >= 1, "\(error)") }
            return
        }
        // What we write, jansson reads back as the same value (an integral real may come back an integer).
        let again = try? JSONParser.parse(value.compactText)
        check(again.map { equivalent($0, value) } ?? false, "\(value) written as \(value.compactText) reads back as \(String(describing: again))")

        guard case .object(let object) = value else { return }
        var configuration = TrainingConfiguration()
        do {
            try configuration.apply(object, from: .file(configName))
        } catch let error as UsageError {
            check(error.message.hasPrefix("\(configName): "), "config error without the file name: \(error)")
            return
        } catch {
            fatalError("a config error that is not a UsageError: \(error)")
        }
        // A configuration written out (as into a model's config.json) reads back to the same one.
        let written = JSONValue.object(configuration.json)
        guard case .object(let writtenObject)? = try? JSONParser.parse(written.compactText) else {
            fatalError("written configuration is not a JSON object: \(written.compactText)")
        }
        var reread = TrainingConfiguration()
        do { try reread.apply(writtenObject, from: .file("config.json")) } catch {
            fatalError("written configuration \(written.compactText) does not read back: \(error)")
        }
        check(reread.json == configuration.json, "configuration changed on a round trip: \(written.compactText) → \(JSONValue.object(reread.json).compactText)")
    }

    private static func equivalent(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy(equivalent)
        case (.object(let x), .object(let y)):
            return x.keys == y.keys && zip(x.values, y.values).allSatisfy(equivalent)
        case (.integer(let x), .integer(let y)): return x == y
        case (.integer, .number), (.number, .integer), (.number, .number): return a.numberValue == b.numberValue
        default: return a == b
        }
    }
}

/// The input's lines as the reader numbers them (1-based; a byte-order mark dropped), decoded
/// leniently into code points, as columns count them.
struct Lines {
    private let texts: [[Unicode.Scalar]]

    init(_ bytes: [UInt8]) {
        let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        texts = body.split(separator: 10, omittingEmptySubsequences: false).map { Array(String(decoding: $0, as: UTF8.self).unicodeScalars) }
    }

    var count: Int { texts.count }
    subscript(number: Int) -> [Unicode.Scalar] { texts[number - 1] }
}

/// `precondition` that keeps its message in release builds, so a finding says what broke.
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
