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

    /// Out = X·W for these rows X (N, D) and W (D, `columns`) → Out (N, `columns`). On sparse rows
    /// only the rows of W that X's non-zeros name are read.
    package func multiplied(by w: [Float], columns: Int, into out: inout [Float], threads: Int) {
        precondition(columns >= 0 && w.count == columnCount * columns && out.count == rowCount * columns,
                     "matrix sizes do not match the product")
        guard rowCount > 0 && columns > 0 else { return }
        let (m, k) = (rowCount, columnCount)
        withKernelInput(w, &out) { x, w, out in
            switch x {
            case .contiguous(let x): multiplyMatrices(x, w, into: out, m: m, n: columns, k: k, threads: threads)
            case .rowByRow(let x): multiplyMatrices(rows: x, w, into: out, m: m, n: columns, k: k, threads: threads)
            case .sparse(let x): multiplySparse(x, w, columns: columns, into: out, threads: threads)
            }
        }
    }

    /// G = Xᵀ·dOut for these rows X (N, D) and dOut (N, `columns`) → G (D, `columns`), or G += Xᵀ·dOut
    /// when `accumulating`: the gradient of `multiplied(by:)` with respect to W. Sparse rows always add,
    /// and only into the rows of G that their non-zeros name (the caller zeroes those rows first).
    package func transposedMultiplied(by dOut: [Float], columns: Int, into g: inout [Float], accumulating: Bool, threads: Int) {
        precondition(columns >= 0 && dOut.count == rowCount * columns && g.count == columnCount * columns,
                     "matrix sizes do not match the product")
        guard rowCount > 0 && columns > 0 else {
            if !accumulating && sparseRows == nil { setToZero(&g) }
            return
        }
        let (m, k) = (columnCount, rowCount)
        withKernelInput(dOut, &g) { x, dOut, g in
            switch x {
            case .contiguous(let x):
                multiplyMatrices(x, transposingA: true, dOut, into: g, m: m, n: columns, k: k, accumulating: accumulating, threads: threads)
            case .rowByRow(let x):
                multiplyMatrices(rows: x, transposingA: true, dOut, into: g, m: m, n: columns, k: k, accumulating: accumulating, threads: threads)
            case .sparse(let x):
                multiplySparseTransposed(x, dOut, columns: columns, into: g, threads: threads)
            }
        }
    }

    /// How the kernels read the rows.
    private enum KernelInput {
        case contiguous(UnsafePointer<Float>)
        case rowByRow(UnsafePointer<UnsafePointer<Float>>)
        case sparse(SparseBatch)
    }

    /// Calls `body` with pointers to the rows, to the product's other operand and to its result, all
    /// valid only inside `body`. Both arrays hold values: the products return early for no rows or no
    /// columns, and a row is at least one feature wide.
    private func withKernelInput(_ operand: [Float], _ result: inout [Float],
                                 _ body: (KernelInput, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        operand.withUnsafeBufferPointer { operand in
            result.withUnsafeMutableBufferPointer { result in
                let (operand, result) = (operand.baseAddress!, result.baseAddress!)
                switch self {
                case .matrix(let matrix):
                    matrix.withKernelInput { dense, sparse in body(sparse.map(KernelInput.sparse) ?? .contiguous(dense!), operand, result) }
                case .stacked(let top, let bottom, let rows):
                    let width = top.dimension
                    top.values.withUnsafeBufferPointer { top in
                        bottom.values.withUnsafeBufferPointer { bottom in
                            let pointers = rows.map { top.baseAddress! + $0 * width } + rows.map { bottom.baseAddress! + $0 * width }
                            pointers.withUnsafeBufferPointer { body(.rowByRow($0.baseAddress!), operand, result) }
                        }
                    }
                }
            }
        }
    }
}
