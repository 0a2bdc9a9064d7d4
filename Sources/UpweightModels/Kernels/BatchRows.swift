import UpweightSupport
import UpweightData

/// The rows a model's first layer multiplies: a feature matrix, or a dense batch read where it lies
/// in the dataset (the chosen rows of some pairs, then the same pairs' rejected rows), which the
/// products take row by row instead of a copy (the copy was a tenth of a dense step).
package enum BatchRows {
    case matrix(FeatureMatrix)
    case stacked(top: DenseRows, bottom: DenseRows, rows: [Int])

    /// The chosen rows `rows` of `top`, then the rejected rows `rows` of `bottom`: (2·rows.count, D).
    package static func stacking(_ top: DenseRows, _ bottom: DenseRows, rows: [Int]) -> BatchRows {
        precondition(bottom.dimension == top.dimension && rows.allSatisfy { $0 >= 0 && $0 < top.count && $0 < bottom.count },
                     "rows outside the matrices")
        return .stacked(top: top, bottom: bottom, rows: rows)
    }

    package var rowCount: Int {
        switch self {
        case .matrix(let matrix): return matrix.rowCount
        case .stacked(_, _, let rows): return 2 * rows.count
        }
    }

    package var columnCount: Int {
        switch self {
        case .matrix(let matrix): return matrix.columnCount
        case .stacked(let top, _, _): return top.dimension
        }
    }

    /// The sparse rows, when these are sparse (their non-zeros name the rows of dW₁ a step touches).
    package var sparseRows: SparseRows? {
        if case .matrix(.sparse(let rows)) = self { return rows }
        return nil
    }

    /// Out = X·W, as `FeatureMatrix.multiplied(by:)`.
    package func multiplied(by w: [Float], columns: Int, into out: inout [Float], threads: Int) {
        switch self {
        case .matrix(let matrix):
            matrix.multiplied(by: w, columns: columns, into: &out, threads: threads)
        case .stacked:
            precondition(columns >= 0 && w.count == columnCount * columns && out.count == rowCount * columns,
                         "matrix sizes do not match the product")
            guard rowCount > 0 && columns > 0 else { return }
            w.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { out in
                    withRowPointers { rows in
                        multiplyMatrices(rows: rows, w.baseAddress!, into: out.baseAddress!, m: rowCount, n: columns,
                                         k: columnCount, threads: threads)
                    }
                }
            }
        }
    }

    /// G = Xᵀ·dOut (or G += Xᵀ·dOut when `accumulating`), as `FeatureMatrix.transposedMultiplied(by:)`.
    package func transposedMultiplied(by dOut: [Float], columns: Int, into g: inout [Float], accumulating: Bool, threads: Int) {
        switch self {
        case .matrix(let matrix):
            matrix.transposedMultiplied(by: dOut, columns: columns, into: &g, accumulating: accumulating, threads: threads)
        case .stacked:
            precondition(columns >= 0 && dOut.count == rowCount * columns && g.count == columnCount * columns,
                         "matrix sizes do not match the product")
            guard rowCount > 0 && columns > 0 else {
                if !accumulating { setToZero(&g) }
                return
            }
            dOut.withUnsafeBufferPointer { dOut in
                g.withUnsafeMutableBufferPointer { g in
                    withRowPointers { rows in
                        multiplyMatrices(rows: rows, transposingA: true, dOut.baseAddress!, into: g.baseAddress!, m: columnCount,
                                         n: columns, k: rowCount, accumulating: accumulating, threads: threads)
                    }
                }
            }
        }
    }

    /// A pointer to each stacked row, valid inside `body`.
    private func withRowPointers<Result>(_ body: (UnsafePointer<UnsafePointer<Float>>) -> Result) -> Result {
        guard case .stacked(let top, let bottom, let rows) = self else { preconditionFailure("not stacked rows") }
        let width = top.dimension
        return top.values.withUnsafeBufferPointer { top in
            bottom.values.withUnsafeBufferPointer { bottom in
                let pointers = rows.map { top.baseAddress! + $0 * width } + rows.map { bottom.baseAddress! + $0 * width }
                return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
            }
        }
    }
}
