import CKernels
import UpweightSupport
import UpweightData

// Threaded Float32 matrix products over contiguous row-major buffers. The single-threaded kernels
// are in C (Sources/CKernels): a packed GEMM with an AVX-512 micro-kernel chosen at run time.
// Threads split C into disjoint blocks of whole columns (or rows, when C is narrow and tall), and a
// C element's sum over k runs in the same order in every block, so the result does not depend on
// the thread count at all.
//
// The models call the array forms (sizes checked, pointers taken here); the pointer forms below them
// are the kernels' own, and KernelTests'.

/// C = op(A)·op(B), or C += op(A)·op(B) when `accumulating`, on row-major arrays whose sizes must
/// match: op(A) is (m, k), A stored (m, k) or, when `transposingA`, (k, m); op(B) is (k, n), B stored
/// (k, n) or, when `transposingB`, (n, k); C is (m, n).
package func multiplyMatrices(_ a: [Float], transposingA: Bool = false, _ b: [Float], transposingB: Bool = false,
                              into c: inout [Float], m: Int, n: Int, k: Int, accumulating: Bool = false, threads: Int)
{
    precondition(m >= 0 && n >= 0 && k >= 0 && a.count == m * k && b.count == k * n && c.count == m * n,
                 "matrix sizes do not match the product")
    guard m > 0 && n > 0 else { return }
    guard k > 0 else {
        if !accumulating { setToZero(&c) }
        return
    }
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            c.withUnsafeMutableBufferPointer { c in
                multiplyMatrices(a.baseAddress!, transposingA: transposingA, b.baseAddress!, transposingB: transposingB,
                                 into: c.baseAddress!, m: m, n: n, k: k, accumulating: accumulating, threads: threads)
            }
        }
    }
}

extension FeatureMatrix {
    package var isSparse: Bool {
        if case .sparse = self { return true }
        return false
    }
}

/// C = op(A)·op(B), or C += op(A)·op(B) when `accumulating`.
/// op(A) is (m, k): A is stored (m, k), or (k, m) when `transposingA`;
/// op(B) is (k, n): B is stored (k, n), or (n, k) when `transposingB`; C is (m, n).
package func multiplyMatrices(_ a: UnsafePointer<Float>, transposingA: Bool = false,
                      _ b: UnsafePointer<Float>, transposingB: Bool = false,
                      into c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int,
                      accumulating: Bool = false, threads: Int)
{
    let lda = transposingA ? m : k
    let ldb = transposingB ? k : n
    let shared = UncheckedSendable((a, b, c))
    forEachBlock(ofProduct: m, n, k, transposingA: transposingA, threads: threads) { splitRows, start, end in
        let (a, b, c) = shared.value
        if splitRows {
            let aBlock = transposingA ? a + start : a + start * lda
            upweight_sgemm(transposingA, transposingB, end - start, n, k, aBlock, lda, b, ldb, c + start * n, n, accumulating)
        } else {
            let bBlock = transposingB ? b + start * ldb : b + start
            upweight_sgemm(transposingA, transposingB, m, end - start, k, a, lda, bBlock, ldb, c + start, n, accumulating)
        }
    }
}

/// `multiplyMatrices` with A given row by row: stored row r of A starts at `rows[r]` (m rows of k
/// values, or k rows of m values when `transposingA`). The rows may lie anywhere, as a batch's rows
/// do in the dataset; the result is `multiplyMatrices`'s on those rows copied together, bit for bit.
package func multiplyMatrices(rows a: UnsafePointer<UnsafePointer<Float>>, transposingA: Bool = false,
                              _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int,
                              accumulating: Bool = false, threads: Int)
{
    let shared = UncheckedSendable((a, b, c))
    forEachBlock(ofProduct: m, n, k, transposingA: transposingA, threads: threads) { splitRows, start, end in
        let (a, b, c) = shared.value
        // The C prototype takes `const float *const *`, which Swift sees as optional pointers.
        a.withMemoryRebound(to: UnsafePointer<Float>?.self, capacity: transposingA ? k : m) { a in
            if splitRows {
                upweight_sgemm_rows(transposingA, false, end - start, n, k, transposingA ? a : a + start, transposingA ? start : 0,
                                    b, n, c + start * n, n, accumulating)
            } else {
                upweight_sgemm_rows(transposingA, false, m, end - start, k, a, 0, b + start, n, c + start, n, accumulating)
            }
        }
    }
}

/// Splits C (m, n) of a product with inner size k into blocks for `threads` threads, and calls
/// `block(splitRows, start, end)` on each: rows start..<end of C, or columns start..<end.
private func forEachBlock(ofProduct m: Int, _ n: Int, _ k: Int, transposingA: Bool, threads: Int,
                          _ block: (_ splitRows: Bool, _ start: Int, _ end: Int) -> Void)
{
    // Below ~1 MFLOP a second thread costs more to wake than it saves.
    let parts = m * n * k < 1 << 19 ? 1 : max(1, threads)
    // Split so that each thread packs as little as it can: a column split has every thread pack
    // op(B)/parts and, when A is transposed, all of op(A) (m·k); a row split, op(A)/parts and all of
    // op(B) (k·n). An A used as stored is read in place, never packed, so it splits by columns (rows
    // measured no faster, even with each core multiplying the rows it gathered); a transposed A
    // (the weight gradient Xᵀ·dZ) splits by rows when it is the larger: 1024×256×512 ran 14–15%
    // faster so, alternated call by call inside training epochs (docs/PROFILE.md).
    // Columns need two panels of 32 per part, else rows when C is tall.
    let splitRows = transposingA && m > n || (n + 31) / 32 < 2 * parts && m >= n
    // Blocks of whole micro-kernel tiles (8 rows or 32 columns), so no thread gets a ragged edge.
    let tiles = splitRows ? (m + 7) / 8 : (n + 31) / 32
    let tileSize = splitRows ? 8 : 32
    let extent = splitRows ? m : n
    WorkerTeam.shared.run(parts: min(parts, tiles), threads: parts) { part in
        let range = contiguousRanges(count: tiles, parts: min(parts, tiles))[part]
        let start = range.lowerBound * tileSize
        let end = min(range.upperBound * tileSize, extent)
        if start < end { block(splitRows, start, end) }
    }
}

/// The CSR rows of a batch, as raw pointers for the kernels.
package struct SparseBatch {
    package let rowCount: Int
    package let rowStarts: UnsafePointer<Int>
    package let indices: UnsafePointer<Int32>
    package let values: UnsafePointer<Float>
}

/// Out = X·W for sparse rows X (rows, D) and W (D, columns) → (rows, columns): only the rows of W
/// that X's non-zeros name are read. Threads take disjoint blocks of rows of Out.
package func multiplySparse(_ x: SparseBatch, _ w: UnsafePointer<Float>, columns: Int,
                    into out: UnsafeMutablePointer<Float>, threads: Int)
{
    let shared = UncheckedSendable((w, out))
    WorkerTeam.shared.forEachRange(of: x.rowCount, from: 64, threads: threads) { rows in
        let (w, out) = shared.value
        upweight_sparse_times_dense(rows.count, x.rowStarts + rows.lowerBound, x.indices, x.values,
                                    w, columns, 0, columns, out + rows.lowerBound * columns)
    }
}

/// G += Xᵀ·dOut for sparse rows X (rows, D) and dOut (rows, columns) → G (D, columns): the gradient of
/// `multiplySparse` with respect to W, added only into the rows of G that X's non-zeros name. Threads
/// take disjoint blocks of columns, so every element is summed in row order whatever the thread count.
package func multiplySparseTransposed(_ x: SparseBatch, _ dOut: UnsafePointer<Float>, columns: Int,
                              into g: UnsafeMutablePointer<Float>, threads: Int)
{
    let parts = columns >= 64 && x.rowCount >= 64 ? max(1, threads) : 1
    let shared = UncheckedSendable((dOut, g))
    WorkerTeam.shared.run(parts: parts, threads: parts) { part in
        let (dOut, g) = shared.value
        // Blocks of 16 columns: one AVX-512 vector each.
        let blocks = contiguousRanges(count: (columns + 15) / 16, parts: parts)[part]
        upweight_sparse_transpose_times_dense(x.rowCount, x.rowStarts, x.indices, x.values, dOut, columns,
                                              blocks.lowerBound * 16, min(blocks.upperBound * 16, columns), g)
    }
}

/// Which GEMM micro-kernel this CPU runs: "avx512", "avx2" or "portable".
public var matrixKernelName: String { String(cString: upweight_gemm_kernel_name()) }


extension FeatureMatrix {
    /// The given rows, in the given order, as a new matrix of the same kind: a batch for the kernels.
    package func gatheringRows(_ rows: some Collection<Int>) -> FeatureMatrix {
        switch self {
        case .dense(let matrix):
            // Each row copied straight into place (appending slices retained and released the
            // source for every row: a tenth of the held-out evaluation).
            let dimension = matrix.dimension
            precondition(rows.allSatisfy { $0 >= 0 && $0 < matrix.count }, "rows outside the matrix")
            let values = [Float](unsafeUninitializedCapacity: rows.count * dimension) { target, initialized in
                matrix.values.withUnsafeBufferPointer { source in
                    for (position, row) in rows.enumerated() {
                        (target.baseAddress! + position * dimension).initialize(from: source.baseAddress! + row * dimension,
                                                                                 count: dimension)
                    }
                }
                initialized = rows.count * dimension
            }
            return .dense(DenseRows(dimension: dimension, values: values))
        case .sparse(let matrix):
            var batch = SparseRows(dimension: matrix.dimension)
            batch.rowStarts.reserveCapacity(rows.count + 1)
            for row in rows {
                let entries = matrix.rowStarts[row]..<matrix.rowStarts[row + 1]
                batch.indices.append(contentsOf: matrix.indices[entries])
                batch.values.append(contentsOf: matrix.values[entries])
                batch.rowStarts.append(batch.indices.count)
            }
            return .sparse(batch)
        }
    }

    /// Calls `body` with the rows as one contiguous (rows, columns) buffer, or as CSR pointers, valid
    /// only inside `body`. Sparse rows are checked first (starts ascending within the entries, every
    /// index a column), so that the kernels cannot read or write outside their matrices.
    package func withKernelInput<Result>(_ body: (_ dense: UnsafePointer<Float>?, _ sparse: SparseBatch?) -> Result) -> Result {
        switch self {
        case .dense(let matrix):
            return matrix.values.withUnsafeBufferPointer { body($0.baseAddress!, nil) }
        case .sparse(let matrix):
            precondition(matrix.isWellFormed, "sparse rows out of order or naming a column outside the matrix")
            return matrix.rowStarts.withUnsafeBufferPointer { starts in
                matrix.indices.withUnsafeBufferPointer { indices in
                    matrix.values.withUnsafeBufferPointer { values in
                        // An empty array may have no storage; the kernels read nothing through these then.
                        let noIndex = UnsafePointer<Int32>(bitPattern: 8)!
                        let noValue = UnsafePointer<Float>(bitPattern: 8)!
                        return body(nil, SparseBatch(rowCount: matrix.count, rowStarts: starts.baseAddress!,
                                                     indices: indices.baseAddress ?? noIndex,
                                                     values: values.baseAddress ?? noValue))
                    }
                }
            }
        }
    }
}

/// Σ a[i]·b[i] with explicit SIMD accumulators (plain Float reductions do not vectorize).
@inline(__always)
func dotProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var accumulator = SIMD16<Float>()
    var index = 0
    while index + 16 <= count {
        accumulator += UnsafeRawPointer(a + index).loadUnaligned(as: SIMD16<Float>.self)
            * UnsafeRawPointer(b + index).loadUnaligned(as: SIMD16<Float>.self)
        index += 16
    }
    var total = accumulator.sum()
    while index < count {
        total += a[index] * b[index]
        index += 1
    }
    return total
}
