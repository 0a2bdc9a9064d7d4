import CKernels
import Foundation
import XCTest
@testable import UpweightSupport
@testable import UpweightData
@testable import UpweightEvaluation

/// The kernels' instruction sets this CPU runs, narrowest first: every path a kernel test covers here.
let instructionSetsOfThisCPU: [UpweightInstructionSet] = (0...upweight_cpu_instruction_set().rawValue).map {
    UpweightInstructionSet(rawValue: $0)
}

/// Paths and helpers shared by the tests.
enum TestSupport {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repository.appendingPathComponent("Tests/UpweightTests/Fixtures")

    static func fixture(_ relative: String) -> String { fixtures.appendingPathComponent(relative).path }
    static func data(_ relative: String) -> String { repository.appendingPathComponent("data/\(relative)").path }

    /// A fresh temporary directory, removed when the test ends.
    static func temporaryDirectory(_ test: XCTestCase) -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("upweight-tests-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// Writes `text` to `name` in `directory` and returns the path.
    @discardableResult
    static func write(_ text: String, _ name: String, in directory: String) -> String {
        let path = "\(directory)/\(name)"
        try! Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// `text` compressed by gzip(1).
    static func gzip(_ text: String, _ test: XCTestCase) throws -> Data {
        let path = write(text, "plain.jsonl", in: temporaryDirectory(test))
        let gzip = try Subprocess("/bin/gzip", ["-f", path]).finish()
        guard gzip.status == 0 else { throw Failure("gzip failed: \(gzip.stderr)") }
        return try Data(contentsOf: URL(fileURLWithPath: path + ".gz"))
    }

    static func read(paths: [String], _ configure: (inout ReadOptions) -> Void = { _ in }) throws -> PreferenceDataset {
        var options = ReadOptions()
        configure(&options)
        return try PreferenceReader.read(paths: paths, options: options).0
    }

    /// The `upweight` binary built beside the test bundle.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["UPWEIGHT_BINARY"] { return path }
        // On Linux the test runner is the `.xctest` executable in the same products folder as `upweight`.
        let runner = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).resolvingSymlinksInPath()
        return runner.deletingLastPathComponent().appendingPathComponent("upweight").path
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let isolatedCachePath = FileManager.default.temporaryDirectory.appendingPathComponent("upweight-tests-cache-\(getpid())").path

    /// A cache directory of this test process's own (`$XDG_CACHE_HOME`, set for it and for the CLI
    /// runs it starts), so that streamed runs never write into the user's cache; removed at exit.
    static let isolatedCache: String = {
        try! FileManager.default.createDirectory(atPath: isolatedCachePath, withIntermediateDirectories: true)
        setenv("XDG_CACHE_HOME", isolatedCachePath, 1)
        atexit { try? FileManager.default.removeItem(atPath: TestSupport.isolatedCachePath) }
        return isolatedCachePath
    }()

    /// Runs the CLI (or `executable`, a launcher such as mpirun) with `arguments` (and `environment`
    /// added to this process's) and waits for it.
    static func run(_ arguments: [String], environment: [String: String] = [:], executable: String? = nil) throws -> Run {
        _ = isolatedCache
        let finished = try Subprocess(executable ?? binary, arguments, environment: environment).finish()
        return Run(status: finished.status, stdout: finished.stdout, stderr: finished.stderr)
    }

    /// A test's own failure thrown as an error (a precondition the environment does not meet).
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Parses a JSON text the way a user's script would (Foundation), for checking our output.
    static func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }
}

/// Relative L2 distance ‖a − b‖ / ‖b‖.
func relativeDistance(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    var difference = 0.0
    var reference = 0.0
    for index in a.indices {
        difference += (a[index] - b[index]) * (a[index] - b[index])
        reference += b[index] * b[index]
    }
    return (difference / reference).squareRoot()
}

/// `count` values uniform in [−scale, scale).
func randomValues(_ count: Int, scale: Float = 1, _ generator: inout SplitMix64) -> [Float] {
    (0..<count).map { _ in scale * Float(generator.nextUnit() * 2 - 1) }
}

/// Random dense pairs: every feature uniform in [−1, 1).
func randomDensePairs(pairs: Int, dimension: Int, seed: UInt64) -> PairFeatures {
    var generator = SplitMix64(seed: seed)
    func matrix() -> FeatureMatrix {
        .dense(DenseRows(dimension: dimension, values: (0..<pairs * dimension).map { _ in Float(generator.nextUnit() * 2 - 1) }))
    }
    return PairFeatures(chosen: matrix(), rejected: matrix())
}

/// Random sparse pairs: up to 4 distinct columns per row, values uniform in [−1, 1).
func randomSparsePairs(pairs: Int, dimension: Int, seed: UInt64) -> PairFeatures {
    var generator = SplitMix64(seed: seed)
    func matrix() -> FeatureMatrix {
        var rows = SparseRows(dimension: dimension)
        for _ in 0..<pairs {
            let columns = Set((0..<4).map { _ in Int32(generator.next() % UInt64(dimension)) }).sorted()
            rows.indices.append(contentsOf: columns)
            rows.values.append(contentsOf: columns.map { _ in Float(generator.nextUnit() * 2 - 1) })
            rows.rowStarts.append(rows.indices.count)
        }
        return .sparse(rows)
    }
    return PairFeatures(chosen: matrix(), rejected: matrix())
}
