import XCTest
@testable import UpweightSupport
@testable import UpweightData
@testable import UpweightModels
@testable import UpweightTraining

/// The pieces of a training step around the matrix products: the worker team that splits them, the
/// batch gather, the fused bias and activation, the activation's derivative and the finiteness check,
/// each against its definition, bit for bit on one and two threads.
final class StepKernelTests: XCTestCase {
    func test_the_worker_team_runs_every_part_once_and_a_nested_job_on_dispatch() {
        for parts in [1, 2, 3, 17] {
            var runs = [Int](repeating: 0, count: parts)
            var nestedRuns = [Int](repeating: 0, count: parts * 5)
            runs.withUnsafeMutableBufferPointer { runs in
                nestedRuns.withUnsafeMutableBufferPointer { nested in
                    let shared = UncheckedSendable((runs, nested))
                    WorkerTeam.shared.run(parts: parts, threads: 2) { part in
                        shared.value.0[part] += 1
                        // The team is busy: a job started inside a part runs on Dispatch, not in a deadlock.
                        WorkerTeam.shared.run(parts: 5, threads: 2) { inner in shared.value.1[part * 5 + inner] += 1 }
                    }
                }
            }
            XCTAssertEqual(runs, [Int](repeating: 1, count: parts), "\(parts) parts")
            XCTAssertEqual(nestedRuns, [Int](repeating: 1, count: parts * 5), "\(parts) parts")
        }
        // Many small jobs in a row: each starts after the previous one has ended.
        var total = 0
        withUnsafeMutablePointer(to: &total) { total in
            let shared = UncheckedSendable(total)
            for _ in 0..<2_000 {
                var slots = [Int](repeating: 0, count: 4)
                slots.withUnsafeMutableBufferPointer { slots in
                    let slots = UncheckedSendable(slots)
                    WorkerTeam.shared.run(parts: 4, threads: 2) { slots.value[$0] = $0 + 1 }
                }
                shared.value.pointee += slots.reduce(0, +)
            }
        }
        XCTAssertEqual(total, 2_000 * 10)
    }

    func test_stacked_rows_multiply_as_their_copy_does_bit_for_bit() {
        var generator = SplitMix64(seed: 3)
        let (count, width) = (300, 100)
        let chosen = DenseRows(dimension: width, values: randomValues(count * width, scale: 2, &generator))
        let rejected = DenseRows(dimension: width, values: randomValues(count * width, scale: 2, &generator))
        // 130 pairs: 260 rows, so the last panel of 8 rows is partial; repeats are allowed.
        let rows = (0..<130).map { _ in Int(generator.next() % UInt64(count)) }
        var copy: [Float] = []
        for row in rows { copy += chosen.values[row * width..<(row + 1) * width] }
        for row in rows { copy += rejected.values[row * width..<(row + 1) * width] }
        let copied = BatchRows.matrix(.dense(DenseRows(dimension: width, values: copy)))
        let features = PairFeatures(chosen: .dense(chosen), rejected: .dense(rejected))
        let stacked = features.stackingRows(of: rows)
        guard case .stacked = stacked else { return XCTFail("dense pairs are not read in place") }
        XCTAssertEqual(stacked.rowCount, 260)
        XCTAssertEqual(stacked.columnCount, width)
        // 40 columns: both products split C by rows on two threads; 160: by columns.
        for columns in [40, 160] {
            let w = randomValues(width * columns, scale: 1, &generator)
            let dOut = randomValues(260 * columns, scale: 1, &generator)
            let start = randomValues(width * columns, scale: 1, &generator)
            for threads in [1, 2] {
                var (expected, actual) = ([Float](repeating: 0, count: 260 * columns), [Float](repeating: 0, count: 260 * columns))
                copied.multiplied(by: w, columns: columns, into: &expected, threads: threads)
                stacked.multiplied(by: w, columns: columns, into: &actual, threads: threads)
                XCTAssertEqual(actual.map(\.bitPattern), expected.map(\.bitPattern), "X·W, \(columns) columns, \(threads) threads")
                for accumulating in [false, true] {
                    var (expectedG, actualG) = (start, start)
                    copied.transposedMultiplied(by: dOut, columns: columns, into: &expectedG, accumulating: accumulating, threads: threads)
                    stacked.transposedMultiplied(by: dOut, columns: columns, into: &actualG, accumulating: accumulating, threads: threads)
                    XCTAssertEqual(actualG.map(\.bitPattern), expectedG.map(\.bitPattern),
                                   "Xᵀ·dOut, \(columns) columns, \(threads) threads, accumulating: \(accumulating)")
                }
            }
        }
        // No pairs: no rows, and a gradient that is not accumulated is zero.
        let empty = features.stackingRows(of: [Int]())
        XCTAssertEqual(empty.rowCount, 0)
        var g = [Float](repeating: 1, count: width * 3)
        empty.transposedMultiplied(by: [], columns: 3, into: &g, accumulating: false, threads: 2)
        XCTAssertEqual(g, [Float](repeating: 0, count: width * 3))
    }

    func test_ranges_cover_every_index_once_and_split_only_from_the_minimum() {
        for (count, minimum) in [(0, 1), (1, 1), (5, 10), (63, 64), (64, 64), (1_001, 64)] {
            var covered = [Int](repeating: 0, count: count)
            // On two threads there are at most two blocks: the one from 0 and the one after it.
            var blocks = [0, 0]
            covered.withUnsafeMutableBufferPointer { covered in
                blocks.withUnsafeMutableBufferPointer { blocks in
                    let shared = UncheckedSendable((covered, blocks))
                    WorkerTeam.shared.forEachRange(of: count, from: minimum, threads: 2) { range in
                        for index in range { shared.value.0[index] += 1 }
                        shared.value.1[range.lowerBound == 0 ? 0 : 1] += 1
                    }
                }
            }
            XCTAssertEqual(covered, [Int](repeating: 1, count: count), "count \(count)")
            XCTAssertEqual(blocks, count >= minimum && count > 1 ? [1, 1] : [1, 0], "count \(count), split from \(minimum)")
        }
    }

    func test_the_output_layer_and_its_gradient_match_their_definitions_on_any_thread_count() {
        var generator = SplitMix64(seed: 5)
        let (rows, width) = (130, 37)  // 130 rows: two blocks on two threads
        let z = randomValues(rows * width, scale: 2, &generator)
        let bias = randomValues(width, scale: 1, &generator)
        let v = randomValues(width, scale: 1, &generator)
        let dr = randomValues(rows, scale: 1, &generator)
        for activation in Activation.allCases {
            var added = z
            let h = activation.applyAddingBias(bias, to: &added, threads: 1)
            // r[n] = Σ_c H[n, c]·v[c], in Double.
            let rewards = (0..<rows).map { n in (0..<width).reduce(0.0) { $0 + Double(h[n * width + $1]) * Double(v[$1]) } }
            // dZ = dH ⊙ act′(Z) with dH[n, c] = dr[n]·v[c] (one product, exact in Float), through the
            // elementwise `backward` that finite differences check below.
            var dZ = (0..<rows * width).map { dr[$0 / width] * v[$0 % width] }
            activation.backward(added, h, gradient: &dZ, threads: 1)
            var bits: [[UInt32]] = []
            for threads in [1, 2] {
                var scored = z
                let (outputs, computed) = activation.applyAddingBias(bias, to: &scored, scoringWith: v, threads: threads)
                XCTAssertEqual(scored.map(\.bitPattern), added.map(\.bitPattern), "Z + b, \(activation), \(threads) threads")
                XCTAssertEqual(outputs.map(\.bitPattern), h.map(\.bitPattern), "H, \(activation), \(threads) threads")
                XCTAssertEqual(computed.count, rows)
                for (got, want) in zip(computed, rewards) { XCTAssertEqual(Double(got), want, accuracy: 1e-4 * (1 + abs(want))) }
                let fused = activation.backward(fromRewardGradient: dr, outputWeights: v, added, h, threads: threads)
                XCTAssertEqual(fused.map(\.bitPattern), dZ.map(\.bitPattern), "dZ, \(activation), \(threads) threads")
                bits.append(computed.map(\.bitPattern))
            }
            XCTAssertEqual(bits[0], bits[1], "the rewards depend on the thread count")
        }
        var noRows: [Float] = []
        let (outputs, rewards) = Activation.relu.applyAddingBias(bias, to: &noRows, scoringWith: v, threads: 2)
        XCTAssertEqual(outputs, [])
        XCTAssertEqual(rewards, [])
        XCTAssertEqual(Activation.gelu.backward(fromRewardGradient: [], outputWeights: v, [], [], threads: 2), [])
    }

    func test_gathered_dense_rows_are_the_listed_rows_in_order() {
        var generator = SplitMix64(seed: 8)
        let width = 19
        let matrix = DenseRows(dimension: width, values: randomValues(50 * width, scale: 3, &generator))
        let rows = [49, 0, 7, 7, 23]
        guard case .dense(let gathered) = FeatureMatrix.dense(matrix).gatheringRows(rows) else { return XCTFail("not dense") }
        XCTAssertEqual(gathered.dimension, width)
        XCTAssertEqual(gathered.values, rows.flatMap { matrix.values[$0 * width..<($0 + 1) * width] })
        guard case .dense(let none) = FeatureMatrix.dense(matrix).gatheringRows([Int]()) else { return XCTFail("not dense") }
        XCTAssertEqual(none.count, 0)
    }

    /// act(z) by its definition, in Double, for a tolerance check beside the bit-for-bit ones.
    func reference(_ activation: Activation, _ z: Double) -> Double {
        switch activation {
        case .relu: return max(z, 0)
        case .gelu: return z * 0.5 * (1 + erf(z / 2.0.squareRoot()))
        case .tanh: return tanh(z)
        }
    }

    func test_bias_and_activation_in_one_pass_match_their_definitions_on_any_thread_count() {
        var generator = SplitMix64(seed: 11)
        let (rows, width) = (70, 40)  // 70 rows: two blocks of rows on two threads
        let z = randomValues(rows * width, scale: 2, &generator)
        let bias = randomValues(width, scale: 2, &generator)
        for activation in Activation.allCases {
            var outputs: [[Float]] = []
            for threads in [1, 2] {
                var added = z
                let h = activation.applyAddingBias(bias, to: &added, threads: threads)
                for index in z.indices {
                    XCTAssertEqual(added[index], z[index] + bias[index % width], "Z + b, \(activation)")
                    XCTAssertEqual(Double(h[index]), reference(activation, Double(added[index])), accuracy: 2e-6, "\(activation)")
                }
                outputs.append(h)
            }
            XCTAssertEqual(outputs[0].map(\.bitPattern), outputs[1].map(\.bitPattern), "\(activation)")
        }
    }

    func test_the_activation_derivative_matches_finite_differences_on_any_thread_count() {
        var generator = SplitMix64(seed: 12)
        let count = 1 << 14 + 5  // past the two-thread threshold, with a ragged end
        let z = randomValues(count, scale: 2, &generator)
        let upstream = randomValues(count, scale: 2, &generator)
        for activation in Activation.allCases {
            var noBias = z
            let h = activation.applyAddingBias([0], to: &noBias, threads: 1)
            var results: [[Float]] = []
            for threads in [1, 2] {
                var gradient = upstream
                activation.backward(z, h, gradient: &gradient, threads: threads)
                results.append(gradient)
            }
            XCTAssertEqual(results[0].map(\.bitPattern), results[1].map(\.bitPattern), "\(activation)")
            for index in stride(from: 0, to: count, by: 97) where abs(z[index]) > 1e-2 {
                let step = 1e-4
                let slope = (reference(activation, Double(z[index]) + step) - reference(activation, Double(z[index]) - step)) / (2 * step)
                XCTAssertEqual(Double(results[0][index]), Double(upstream[index]) * slope, accuracy: 1e-4, "\(activation) at \(z[index])")
            }
        }
    }

    func test_listed_rows_are_zeroed_on_any_thread_count() {
        // 3,000 rows of 32: 96,000 values, above the 2^16 from which two threads share the list.
        let (rowCount, width) = (3_000, 32)
        var generator = SplitMix64(seed: 21)
        let values = randomValues(rowCount * width, scale: 1, &generator)
        let listed: [Int32] = stride(from: 2_999, through: 0, by: -3).map(Int32.init)  // 1,000 rows, descending
        for threads in [1, 2] {
            var zeroed = values
            setRowsToZero(&zeroed, rows: listed, width: width, threads: threads)
            let isListed = Set(listed.map(Int.init))
            for row in 0..<rowCount {
                let slice = Array(zeroed[row * width..<(row + 1) * width])
                XCTAssertEqual(slice, isListed.contains(row) ? [Float](repeating: 0, count: width) : Array(values[row * width..<(row + 1) * width]),
                               "row \(row), \(threads) threads")
            }
        }
    }

    func test_mapped_ranges_come_back_in_order() {
        for count in [0, 1, 7, 100_000] {
            let ranges = WorkerTeam.shared.mapRanges(of: count, from: 8, threads: 2) { $0 }
            XCTAssertEqual(ranges.first?.lowerBound, 0)
            XCTAssertEqual(ranges.last?.upperBound, count)
            XCTAssertEqual(ranges.count, count >= 8 ? 2 : 1)
            XCTAssertTrue(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        }
    }

    func test_radix_sorted_rows_match_sorted() {
        var generator = SplitMix64(seed: 13)
        for (count, bound) in [(0, 10), (1, 10), (255, 1 << 18), (256, 1 << 18), (20_000, 1 << 18), (5_000, Int(Int32.max)), (3_000, 7)] {
            let values = (0..<count).map { _ in Int32(generator.next() % UInt64(bound)) }
            XCTAssertEqual(radixSorted(values), values.sorted(), "\(count) values below \(bound)")
        }
        XCTAssertEqual(radixSorted([Int32](repeating: 0, count: 300)), [Int32](repeating: 0, count: 300))
        XCTAssertEqual(radixSorted([Int32.max] + [Int32](repeating: 1, count: 299)), [Int32](repeating: 1, count: 299) + [Int32.max])
    }

    /// a ← a + d·b, b ← b + 1, c ← c: a rule whose written values are as finite as d makes them.
    struct AddScaled: VectorLaneUpdate {
        func update(_ a: inout SIMD16<Float>, _ b: inout SIMD16<Float>, _ c: inout SIMD16<Float>, reading d: SIMD16<Float>) {
            a += d * b
            b += 1
        }
    }

    func test_an_update_says_whether_every_value_it_wrote_is_finite() {
        // Widths 37 (two vectors and a tail of 5) and 64; 3,000 rows, so two threads share the list.
        for width in [37, 64] {
            let rowCount = 3_000
            var generator = SplitMix64(seed: 34)
            let start = randomValues(rowCount * width, scale: 1, &generator)
            let listed: [Int32] = stride(from: 2_999, through: 0, by: -2).map(Int32.init)
            for threads in [1, 2] {
                for spoiledPosition in [nil, 0, width - 1, 700 * width + 20, 701 * width + 3, rowCount * width - 1] as [Int?] {
                    var d = [Float](repeating: 0.5, count: rowCount * width)
                    if let spoiledPosition { d[spoiledPosition] = .infinity }
                    let spoiledRow = spoiledPosition.map { Int32($0 / width) }
                    // Every position: finite unless d holds ∞ somewhere.
                    var (a, b, c) = (start, [Float](repeating: 1, count: start.count), start)
                    XCTAssertEqual(updateLanes(&a, &b, &c, reading: d, threads: threads, AddScaled()), spoiledPosition == nil,
                                   "width \(width), ∞ at \(String(describing: spoiledPosition)), \(threads) threads")
                    XCTAssertEqual(a[5], start[5] + 0.5, "the update itself")
                    // Listed rows: only they are written, and only they are checked.
                    (a, b, c) = (start, [Float](repeating: 1, count: start.count), start)
                    let finite = updateLanes(&a, &b, &c, reading: d, rows: (listed, width), threads: threads, AddScaled())
                    XCTAssertEqual(finite, spoiledRow.map { !listed.contains($0) } ?? true,
                                   "width \(width), ∞ in row \(String(describing: spoiledRow)), \(threads) threads")
                    XCTAssertEqual(a[1], start[1], "row 0 is not listed")
                    XCTAssertEqual(a[width + 1], start[width + 1] + 0.5, "row 1 is listed")
                }
            }
        }
    }

    func test_the_optimizer_reports_a_step_that_wrote_a_non_finite_parameter() {
        let model = MLPRewardModel(inputDimension: 4, hidden: [3], activation: .relu, seed: 1)
        var parameters = model.parameters
        var optimizer = TensorAdamW(weightDecay: 0.01)
        XCTAssertTrue(optimizer.lastStepWasFinite, "before the first step")
        var gradients = parameters.map { [Float](repeating: 0.25, count: $0.count) }
        optimizer.update(&parameters, gradients: gradients, rate: 1e-3)
        XCTAssertTrue(optimizer.lastStepWasFinite)
        gradients[1][2] = .nan
        optimizer.update(&parameters, gradients: gradients, rate: 1e-3)
        XCTAssertFalse(optimizer.lastStepWasFinite, "a NaN gradient makes a NaN bias")
        XCTAssertTrue(parameters[1][2].isNaN)
    }
}
