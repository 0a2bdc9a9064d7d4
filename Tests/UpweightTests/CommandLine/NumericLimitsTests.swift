import Foundation
import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightEvaluation
@testable import UpweightTraining

/// No Swift trap is reachable from input: huge printed values, NaN margins, sizes that overflow,
/// features that overflow Float32 arithmetic.
final class NumericLimitsTests: XCTestCase {
    func test_values_beyond_int64_are_printed_not_trapped_on() throws {
        XCTAssertEqual(fixed(1e16, 3), "1e+16")
        XCTAssertEqual(fixed(-3e300, 1), "-3e+300")
        XCTAssertEqual(fixed(123.4567, 2), "123.46")
        let data = TestSupport.write("""
            {"chosen":"good answer","rejected":"bad answer","category":"a","weight":1e16}
            {"chosen":"nice one","rejected":"awful one","category":"b"}

            """, "w.jsonl", in: TestSupport.temporaryDirectory(self))
        let run = try TestSupport.run(["stats", data])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("1e+16"), run.stdout)
    }

    func test_nan_margins_do_not_trap_in_calibration() {
        let calibration = Calibration(margins: [.nan, .infinity, -.infinity, 1])
        XCTAssertEqual(calibration.bins.map(\.count).reduce(0, +), 4)
        XCTAssertEqual(binIndex(position: .nan, count: 10), 0)
        XCTAssertEqual(binIndex(position: 1e300, count: 10), 9)
        XCTAssertEqual(binIndex(position: -.infinity, count: 10), 0)
    }

    func test_max_memory_must_be_a_finite_size() throws {
        for size in ["inf", "1e300", "nan", "9e15T"] {
            XCTAssertNil(MemoryBudget.parse(size), size)
            let run = try TestSupport.run(["train", TestSupport.fixture("linear-dense/train.jsonl"), "--max-memory", size])
            XCTAssertEqual(run.status, 64)
            XCTAssertEqual(run.stderr, "upweight: --max-memory: expected a size such as 512M or 8G, got \"\(size)\"\n")
        }
        var configuration = TrainingConfiguration()
        XCTAssertThrowsError(try configuration.apply(JSONObject([("max-memory", .number(1e300))]), from: .file("c.json"))) { error in
            XCTAssertEqual((error as? UsageError)?.message, "c.json: key \"max-memory\": expected a size such as 512M or 8G, got 1e300")
        }
    }

    func test_a_model_too_large_for_memory_is_refused_before_training() throws {
        let run = try TestSupport.run(["train", TestSupport.fixture("linear-text/train.jsonl"), "--model", "mlp", "--hidden", "65536",
                                       "--hash-bits", "28", "--max-memory", "1G"])
        XCTAssertEqual(run.status, 64)
        // 262144 GiB of parameters and optimizer state, plus what the process holds already (a few MiB).
        XCTAssertTrue(run.stderr.contains("upweight: training a model of 17592186175488 parameters on 268435456 features needs about 262144."), run.stderr)
        XCTAssertTrue(run.stderr.hasSuffix(" GiB of memory, more than --max-memory (1.00 GiB); use a smaller model (--hidden, --hash-bits) or raise --max-memory\n"), run.stderr)
        var configuration = TrainingConfiguration()
        configuration.model = .mlp
        configuration.hidden = [65536, 65536, 65536]
        XCTAssertNil(TrainingMemory.bytes(configuration, inputDimension: Int.max / 2, pairs: 10, denseFeatures: false))
    }

    func test_the_budget_names_the_smallest_limit() throws {
        let limit = try XCTUnwrap(SystemMemory.limit(maxMemory: 1 << 20))
        XCTAssertEqual(limit, MemoryLimit(bytes: 1 << 20, source: "--max-memory", isSoft: true))
        XCTAssertThrowsError(try MemoryBudget.check(needed: 2 << 20, for: "reading x", advice: "use less data", limit: 1 << 20)) { error in
            XCTAssertEqual((error as? UsageError)?.message, "reading x needs about 0.00 GiB of memory, more than --max-memory (0.00 GiB); use less data or raise --max-memory")
        }
    }

    /// Dense features of 3e38 are finite, but no Float32 reward of them is: an error at the line.
    func test_features_of_3e38_are_refused_at_their_line_in_train_and_eval() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let huge = TestSupport.write("""
            {"chosen_features":[1,2],"rejected_features":[0,1],"category":"b"}
            {"chosen_features":[3e38,1],"rejected_features":[-3e38,0],"category":"a"}

            """, "huge.jsonl", in: directory)
        let message = "\(huge):2:1: a vector of length 3e+38 is too large to compute with in Float32 (at most 1.8e19); scale the features down (field chosen_features)\n"
        let train = try TestSupport.run(["train", huge, "--out", "\(directory)/model"])
        XCTAssertEqual(train.status, 65)
        XCTAssertTrue(train.stderr.hasSuffix(message), train.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/model"))
        let normal = TestSupport.write("""
            {"chosen_features":[1,2],"rejected_features":[0,1],"category":"b"}
            {"chosen_features":[3,1],"rejected_features":[-3,0],"category":"a"}

            """, "normal.jsonl", in: directory)
        XCTAssertEqual(try TestSupport.run(["train", normal, "--out", "\(directory)/model"]).status, 0)
        let eval = try TestSupport.run(["eval", "\(directory)/model", huge])
        XCTAssertEqual(eval.status, 65)
        XCTAssertTrue(eval.stderr.hasSuffix(message), eval.stderr)
    }

    func test_synth_sizes_and_numbers_are_checked_before_allocating() throws {
        let out = TestSupport.temporaryDirectory(self) + "/s.jsonl"
        for (arguments, message) in [(["--n", "100000000", "--dim", "1000000"], "--n: expected a whole number from 1 to 10000000, got 100000000"),
                                     (["--n", "5000000", "--dim", "65536"], "--n × --dim: expected at most 100000000 numbers per side, got 5000000 × 65536"),
                                     (["--noise", "inf"], "--noise: expected a number > 0, got inf"),
                                     (["--nonlinear", "nan"], "--nonlinear: expected a number ≥ 0, got nan")] {
            let run = try TestSupport.run(["synth", "--out", out] + arguments)
            XCTAssertEqual(run.status, 64, run.stderr)
            XCTAssertTrue(run.stderr.contains(message), run.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        }
    }

    /// A margin of 1e308 is finite, but the mean loss of two such pairs is not: refused at its line.
    func test_margins_beyond_1e6_are_refused_at_their_line() throws {
        let data = TestSupport.write("""
            {"chosen":"good answer","rejected":"bad answer","category":"a","margin":1}
            {"chosen":"nice one","rejected":"awful one","category":"b","margin":1e308}

            """, "m.jsonl", in: TestSupport.temporaryDirectory(self))
        let run = try TestSupport.run(["train", data])
        XCTAssertEqual(run.status, 65)
        XCTAssertTrue(run.stderr.hasSuffix("\(data):2:1: a margin of 1e+308 is beyond ±1e6 (margins are reward differences); scale the margins down (field margin)\n"), run.stderr)
    }

    /// Under `ulimit -v` an allocation failure would trap: the budget counts the address-space limit.
    func test_an_address_space_limit_is_honoured_with_a_message() throws {
        // ThreadSanitizer reserves terabytes of address space at start: a TSan build cannot run
        // under `ulimit -v` at all (it refuses with its own message), so this runs in the plain suite.
        if dlsym(nil, "__tsan_init") != nil { throw XCTSkip("ThreadSanitizer builds cannot run under ulimit -v") }
        // --noise-aware: a run that streaming does not take, so it reads into memory (data past the budget
        // otherwise streams, and the limit is honoured that way).
        let (status, _, stderr) = try Subprocess("/bin/sh", ["-c", "ulimit -v 200000 && exec \"$0\" train \"$1\" --noise-aware drop", TestSupport.binary,
                                                             TestSupport.fixture("linear-dense/train.jsonl")], stdout: .discard).finish()
        XCTAssertEqual(status, 64, stderr)
        XCTAssertTrue(stderr.contains("of memory, more than the address-space limit (ulimit -v) ("), stderr)
        XCTAssertTrue(stderr.hasSuffix("); use less data or raise that limit\n"), stderr)
    }
}
