import UpweightSupport
import UpweightData

// Row-by-vector products for linear scoring and its gradient. Features are Float32; the parameter
// vector and the accumulators are Double, so the linear objective is smooth to ~1e-15 and L-BFGS can
// converge as tightly as scikit-learn does. These loops are memory-bound (docs/SPEED.md): the Float→Double
// conversion is free next to the loads, and explicit SIMD accumulators keep them vectorized.

/// θ·x for a dense row x of length `count`.
@inline(__always)
func dotProduct(_ row: UnsafePointer<Float>, _ theta: UnsafePointer<Double>, count: Int) -> Double {
    var accumulator = SIMD8<Double>()
    var column = 0
    while column + 8 <= count {
        let x = UnsafeRawPointer(row + column).loadUnaligned(as: SIMD8<Float>.self)
        let t = UnsafeRawPointer(theta + column).loadUnaligned(as: SIMD8<Double>.self)
        accumulator.addProduct(SIMD8<Double>(x), t)
        column += 8
    }
    var total = accumulator.sum()
    while column < count {
        total += Double(row[column]) * theta[column]
        column += 1
    }
    return total
}

/// y += a·x for a dense row x of length `count`.
@inline(__always)
func addScaled(_ a: Double, _ row: UnsafePointer<Float>, into y: UnsafeMutablePointer<Double>, count: Int) {
    let scale = SIMD8<Double>(repeating: a)
    var column = 0
    while column + 8 <= count {
        let x = SIMD8<Double>(UnsafeRawPointer(row + column).loadUnaligned(as: SIMD8<Float>.self))
        var current = UnsafeRawPointer(y + column).loadUnaligned(as: SIMD8<Double>.self)
        current.addProduct(scale, x)
        UnsafeMutableRawPointer(y + column).storeBytes(of: current, as: SIMD8<Double>.self)
        column += 8
    }
    while column < count {
        y[column] += a * Double(row[column])
        column += 1
    }
}

/// Read access to the rows of a feature matrix, dense or sparse, without copying: what
/// `CheckedRows.withRowAccess` lends, valid only inside its closure. θ and y are arrays of the
/// matrix's width, so a caller handles no pointers; each call checks the row and their lengths (the
/// sparse entries were checked once, by `CheckedRows`).
package struct RowAccess {
    private let dense: UnsafeBufferPointer<Float>?
    private let dimension: Int
    private let rowStarts: UnsafeBufferPointer<Int>?
    private let indices: UnsafeBufferPointer<Int32>?
    private let values: UnsafeBufferPointer<Float>?
    package let rowCount: Int

    fileprivate init(dense: UnsafeBufferPointer<Float>?, dimension: Int, rowStarts: UnsafeBufferPointer<Int>?,
                     indices: UnsafeBufferPointer<Int32>?, values: UnsafeBufferPointer<Float>?, rowCount: Int)
    {
        (self.dense, self.dimension, self.rowStarts, self.indices, self.values, self.rowCount) =
            (dense, dimension, rowStarts, indices, values, rowCount)
    }

    /// θ·x_row.
    @inline(__always)
    package func dot(_ row: Int, _ theta: [Double]) -> Double {
        precondition(row >= 0 && row < rowCount && theta.count == dimension, "row or parameters out of range")
        return theta.withUnsafeBufferPointer { theta in
            if let dense {
                return dotProduct(dense.baseAddress! + row * dimension, theta.baseAddress!, count: dimension)
            }
            var total = 0.0
            for entry in rowStarts![row]..<rowStarts![row + 1] {
                total += Double(values![entry]) * theta[Int(indices![entry])]
            }
            return total
        }
    }

    /// y += a·x_row.
    @inline(__always)
    package func addScaled(_ a: Double, row: Int, into y: inout [Double]) {
        precondition(row >= 0 && row < rowCount && y.count == dimension, "row or parameters out of range")
        y.withUnsafeMutableBufferPointer { y in
            if let dense {
                UpweightModels.addScaled(a, dense.baseAddress! + row * dimension, into: y.baseAddress!, count: dimension)
                return
            }
            for entry in rowStarts![row]..<rowStarts![row + 1] {
                y[Int(indices![entry])] += a * Double(values![entry])
            }
        }
    }
}

/// A feature matrix checked once for `RowAccess` (sparse rows: starts ascending within the entries,
/// every index a column) and immutable after, so that an objective evaluated hundreds of times over
/// it checks nothing more per row than the row number and θ's length.
package struct CheckedRows: Sendable {
    package let matrix: FeatureMatrix

    package init(_ matrix: FeatureMatrix) {
        if case .sparse(let rows) = matrix {
            precondition(rows.isWellFormed, "sparse rows out of order or naming a column outside the matrix")
        }
        self.matrix = matrix
    }

    /// Calls `body` with read access to the rows.
    package func withRowAccess<Result>(_ body: (RowAccess) throws -> Result) rethrows -> Result {
        switch matrix {
        case .dense(let rows):
            return try rows.values.withUnsafeBufferPointer { values in
                try body(RowAccess(dense: values, dimension: rows.dimension, rowStarts: nil, indices: nil, values: nil,
                                   rowCount: rows.count))
            }
        case .sparse(let rows):
            return try rows.rowStarts.withUnsafeBufferPointer { starts in
                try rows.indices.withUnsafeBufferPointer { indices in
                    try rows.values.withUnsafeBufferPointer { values in
                        try body(RowAccess(dense: nil, dimension: rows.dimension, rowStarts: starts,
                                           indices: indices, values: values, rowCount: rows.count))
                    }
                }
            }
        }
    }
}

/// θ·x for every row of `matrix`, in parallel over contiguous blocks of rows.
package func linearScores(_ matrix: FeatureMatrix, theta: [Double], threads: Int) -> [Double] {
    let rowCount = matrix.rowCount
    return CheckedRows(matrix).withRowAccess { access in
        let blocks = parallelMap(parts: threads, threads: threads) { part -> [Double] in
            contiguousRanges(count: rowCount, parts: threads).dropFirst(part).first.map { range in
                range.map { access.dot($0, theta) }
            } ?? []
        }
        return blocks.flatMap { $0 }
    }
}
