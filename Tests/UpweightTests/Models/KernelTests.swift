import CKernels
import XCTest
@testable import UpweightSupport
@testable import UpweightData
@testable import UpweightModels

/// The GEMM and sparse kernels against naive loops in Double, at odd sizes that cross every block edge.
final class KernelTests: XCTestCase {
    /// op(A)·op(B) by the definition, in Double.
    func naiveProduct(_ a: [Float], transposingA: Bool, _ b: [Float], transposingB: Bool, m: Int, n: Int, k: Int) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let left = transposingA ? a[p * m + i] : a[i * k + p]
                    let right = transposingB ? b[j * k + p] : b[p * n + j]
                    sum += Double(left) * Double(right)
                }
                c[i * n + j] = sum
            }
        }
        return c
    }

    func product(_ a: [Float], transposingA: Bool, _ b: [Float], transposingB: Bool, m: Int, n: Int, k: Int,
                 startingFrom initial: [Float]? = nil, threads: Int) -> [Float] {
        var c = initial ?? [Float](repeating: .nan, count: m * n)  // NaN: every element must be written
        c.withUnsafeMutableBufferPointer { c in
            multiplyMatrices(a, transposingA: transposingA, b, transposingB: transposingB, into: c.baseAddress!,
                             m: m, n: n, k: k, accumulating: initial != nil, threads: threads)
        }
        return c
    }

    // Sizes cross the micro-kernel (8×32), the k block (256), the row block (128) and the thread
    // threshold; n > m splits columns across threads.
    let shapes = [(1, 1, 1), (7, 33, 5), (9, 31, 257), (130, 70, 300), (40, 300, 50), (17, 65, 513)]

    func test_every_gemm_variant_matches_the_naive_product_on_one_and_two_threads() {
        var generator = SplitMix64(seed: 5)
        // The products under each instruction set, to compare them bit for bit at the end.
        var results: [UInt32: [[UInt32]]] = [:]
        for set in instructionSetsOfThisCPU {
            upweight_limit_instruction_set(set)
            defer { upweight_limit_instruction_set(UPWEIGHT_AVX512) }
            for (m, n, k) in shapes {
                let a = randomValues(m * k, &generator)
                let b = randomValues(k * n, &generator)
                let initial = randomValues(m * n, &generator)
                for (transposingA, transposingB) in [(false, false), (true, false), (false, true), (true, true)] {
                    let expected = naiveProduct(a, transposingA: transposingA, b, transposingB: transposingB, m: m, n: n, k: k)
                    // Float32 sums of k products of values in [−1, 1]: error well under 1e-5·k.
                    let tolerance = 1e-6 * Double(k) + 1e-6
                    let one = product(a, transposingA: transposingA, b, transposingB: transposingB, m: m, n: n, k: k, threads: 1)
                    let two = product(a, transposingA: transposingA, b, transposingB: transposingB, m: m, n: n, k: k, threads: 2)
                    let added = product(a, transposingA: transposingA, b, transposingB: transposingB, m: m, n: n, k: k,
                                        startingFrom: initial, threads: 2)
                    let label = "\(m)×\(n)×\(k) Aᵀ:\(transposingA) Bᵀ:\(transposingB) kernel:\(matrixKernelName)"
                    for index in expected.indices {
                        XCTAssertEqual(Double(one[index]), expected[index], accuracy: tolerance, label)
                        XCTAssertEqual(Double(added[index]), expected[index] + Double(initial[index]), accuracy: tolerance, label)
                    }
                    // Threads own disjoint blocks of C and sum over k in one order: bit-identical.
                    XCTAssertEqual(one.map(\.bitPattern), two.map(\.bitPattern), label)
                    results[set.rawValue, default: []].append((one + added).map(\.bitPattern))
                }
            }
            generator = SplitMix64(seed: 5)  // the same matrices for the next instruction set
        }
        // AVX2 and AVX-512 run the same chain of FMAs for each element: the same bits (checked where the CPU has both).
        if let avx2 = results[UPWEIGHT_AVX2.rawValue], let avx512 = results[UPWEIGHT_AVX512.rawValue] {
            XCTAssertEqual(avx2, avx512, "the AVX2 and AVX-512 kernels")
        }
    }

    func test_the_widest_kernel_this_cpu_has_is_chosen() throws {
        let cpuInfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = Set(cpuInfo.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init))
        #if arch(x86_64)
        let expected = flags.isSuperset(of: ["avx512f", "fma"]) ? "avx512" : flags.isSuperset(of: ["avx2", "fma"]) ? "avx2" : "portable"
        #else
        let expected = "portable"
        #endif
        XCTAssertEqual(matrixKernelName, expected)
        upweight_limit_instruction_set(UPWEIGHT_BASELINE)
        defer { upweight_limit_instruction_set(UPWEIGHT_AVX512) }
        XCTAssertEqual(matrixKernelName, "portable")
    }

    func randomSparse(rows: Int, dimension: Int, _ generator: inout SplitMix64) -> SparseRows {
        var matrix = SparseRows(dimension: dimension)
        for row in 0..<rows {
            // Row 3 is empty; the others have up to 6 distinct columns.
            let columns = row == 3 ? [] : Set((0..<6).map { _ in Int32(generator.next() % UInt64(dimension)) }).sorted()
            matrix.indices.append(contentsOf: columns)
            matrix.values.append(contentsOf: randomValues(columns.count, &generator))
            matrix.rowStarts.append(matrix.indices.count)
        }
        return matrix
    }

    func test_sparse_products_match_dense_products_and_touch_only_named_rows() {
        var generator = SplitMix64(seed: 8)
        let (rows, dimension, columns) = (150, 41, 70)
        let sparse = randomSparse(rows: rows, dimension: dimension, &generator)
        var dense = [Float](repeating: 0, count: rows * dimension)
        for row in 0..<rows {
            for entry in sparse.rowStarts[row]..<sparse.rowStarts[row + 1] {
                dense[row * dimension + Int(sparse.indices[entry])] = sparse.values[entry]
            }
        }
        let w = randomValues(dimension * columns, &generator)
        let dOut = randomValues(rows * columns, &generator)
        let forward = naiveProduct(dense, transposingA: false, w, transposingB: false, m: rows, n: columns, k: dimension)
        let backward = naiveProduct(dense, transposingA: true, dOut, transposingB: false, m: dimension, n: columns, k: rows)
        let named = Set(sparse.indices.map(Int.init))
        var results: [UInt32: [[UInt32]]] = [:]  // per instruction set, on 1 and 2 threads
        for set in instructionSetsOfThisCPU {
            upweight_limit_instruction_set(set)
            defer { upweight_limit_instruction_set(UPWEIGHT_AVX512) }
            for threads in [1, 2] {
                var out = [Float](repeating: .nan, count: rows * columns)
                var g = [Float](repeating: 0, count: dimension * columns)
                for row in 0..<dimension where !named.contains(row) { g[row * columns] = .nan }  // must stay untouched
                FeatureMatrix.sparse(sparse).withKernelInput { _, batch in
                    multiplySparse(batch!, w, columns: columns, into: &out, threads: threads)
                    multiplySparseTransposed(batch!, dOut, columns: columns, into: &g, threads: threads)
                }
                for index in forward.indices { XCTAssertEqual(Double(out[index]), forward[index], accuracy: 1e-5) }
                for row in 0..<dimension {
                    if named.contains(row) {
                        for column in 0..<columns {
                            XCTAssertEqual(Double(g[row * columns + column]), backward[row * columns + column], accuracy: 1e-4)
                        }
                    } else {
                        XCTAssertTrue(g[row * columns].isNaN, "row \(row) is named by no entry but was written")
                    }
                }
                results[set.rawValue, default: []].append((out + g.filter { !$0.isNaN }).map(\.bitPattern))
            }
            let (one, two) = (results[set.rawValue]![0], results[set.rawValue]![1])
            XCTAssertEqual(one, two, "\(matrixKernelName): 1 and 2 threads")
        }
        // Both wide paths fuse each multiply-add: the same bits (checked where the CPU has both).
        if let avx2 = results[UPWEIGHT_AVX2.rawValue], let avx512 = results[UPWEIGHT_AVX512.rawValue] {
            XCTAssertEqual(avx2, avx512, "the AVX2 and AVX-512 paths")
        }
    }
}
