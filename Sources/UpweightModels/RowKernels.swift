import UpweightSupport
import UpweightData

// Row-by-vector products for linear scoring and its gradient. Features are Float32; the parameter
// vector and the accumulators are Double, so the linear objective is smooth to ~1e-15 and L-BFGS can
// converge as tightly as scikit-learn does. These loops are memory-bound (docs/SPEED.md): the Float→Double
// conversion is free next to the loads, and explicit SIMD accumulators keep them vectorized.

/// θ·x for a dense row x of length `count`.
@inline(__always)
package func dotProduct(_ row: UnsafePointer<Float>, _ theta: UnsafePointer<Double>, count: Int) -> Double {
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
package func addScaled(_ a: Double, _ row: UnsafePointer<Float>, into y: UnsafeMutablePointer<Double>, count: Int) {
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

/// Read access to one row of a feature matrix, dense or sparse, without copying.
package struct RowAccess {
    package let dense: UnsafeBufferPointer<Float>?
    package let dimension: Int
    package let rowStarts: UnsafeBufferPointer<Int>?
    package let indices: UnsafeBufferPointer<Int32>?
    package let values: UnsafeBufferPointer<Float>?

    /// θ·x_row.
    @inline(__always)
    package func dot(_ row: Int, _ theta: UnsafePointer<Double>) -> Double {
        if let dense {
            return dotProduct(dense.baseAddress! + row * dimension, theta, count: dimension)
        }
        var total = 0.0
        for entry in rowStarts![row]..<rowStarts![row + 1] {
            total += Double(values![entry]) * theta[Int(indices![entry])]
        }
        return total
    }

    /// y += a·x_row.
    @inline(__always)
    package func addScaled(_ a: Double, row: Int, into y: UnsafeMutablePointer<Double>) {
        if let dense {
            UpweightModels.addScaled(a, dense.baseAddress! + row * dimension, into: y, count: dimension)
            return
        }
        for entry in rowStarts![row]..<rowStarts![row + 1] {
            y[Int(indices![entry])] += a * Double(values![entry])
        }
    }
}

extension FeatureMatrix {
    /// Calls `body` with unsafe read access to the rows; valid only inside `body`.
    package func withRowAccess<Result>(_ body: (RowAccess) throws -> Result) rethrows -> Result {
        switch self {
        case .dense(let rows):
            return try rows.values.withUnsafeBufferPointer { values in
                try body(RowAccess(dense: values, dimension: rows.dimension, rowStarts: nil, indices: nil, values: nil))
            }
        case .sparse(let rows):
            return try rows.rowStarts.withUnsafeBufferPointer { starts in
                try rows.indices.withUnsafeBufferPointer { indices in
                    try rows.values.withUnsafeBufferPointer { values in
                        try body(RowAccess(dense: nil, dimension: rows.dimension, rowStarts: starts,
                                           indices: indices, values: values))
                    }
                }
            }
        }
    }
}

/// θ·x for every row of `matrix`, in parallel over contiguous blocks of rows.
package func linearScores(_ matrix: FeatureMatrix, theta: [Double], threads: Int) -> [Double] {
    let rowCount = matrix.rowCount
    return matrix.withRowAccess { access in
        theta.withUnsafeBufferPointer { theta in
            let blocks = parallelMap(parts: threads, threads: threads) { part -> [Double] in
                contiguousRanges(count: rowCount, parts: threads).dropFirst(part).first.map { range in
                    range.map { access.dot($0, theta.baseAddress!) }
                } ?? []
            }
            return blocks.flatMap { $0 }
        }
    }
}
