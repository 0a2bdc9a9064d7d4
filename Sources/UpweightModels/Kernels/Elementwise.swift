import UpweightSupport

// Elementwise and row-by-row loops over row-major Float32 matrices held in arrays: the MLP's bias,
// activation and output layer, the L2 term, the finiteness check and the optimizer's update. Each
// takes and returns arrays, checks their sizes, and keeps its pointers inside, so the models,
// objectives and optimizers that call these read as the math (the one-row helpers that an
// activation inlines take the pointers their array form hands them). No element's arithmetic
// depends on how the work is split: the same bits on every run and at any thread count.

/// values[i] = update(values[i], other[i]) for every i, in place (an activation's backward),
/// `rangeUpdate` calling `updateElements(_:with:count:)` on one run. From 2^14 elements on, `threads`
/// threads take contiguous runs (no element depends on another).
package func updateElements(_ values: inout [Float], with other: [Float], threads: Int,
                            _ rangeUpdate: (_ values: UnsafeMutablePointer<Float>, _ other: UnsafePointer<Float>, _ count: Int) -> Void) {
    precondition(values.count == other.count, "elementwise operands of different sizes")
    guard !values.isEmpty else { return }
    other.withUnsafeBufferPointer { other in
        values.withUnsafeMutableBufferPointer { values in
            let shared = UncheckedSendable((values.baseAddress!, other.baseAddress!))
            WorkerTeam.shared.forEachRange(of: values.count, from: 1 << 14, threads: threads) { range in
                rangeUpdate(shared.value.0 + range.lowerBound, shared.value.1 + range.lowerBound, range.count)
            }
        }
    }
}

/// values[i] = update(values[i], other[i]) for i in 0..<count: one run of `updateElements`.
@inline(__always)
package func updateElements(_ values: UnsafeMutablePointer<Float>, with other: UnsafePointer<Float>, count: Int,
                            _ update: (Float, Float) -> Float) {
    for index in 0..<count { values[index] = update(values[index], other[index]) }
}

/// matrix[n, c] += bias[c], then result[n, c] = transform(matrix[n, c]), for every row n of a
/// (N, bias.count) matrix: a layer's bias and activation in one pass, `rowTransform` calling
/// `addBiasThenMap(row:…)` for one row. With `scoring` v, also scores[n] = result[n]·v in the same
/// pass (the output layer r = H·v, while the row is in cache; else `scores` is empty). From 64 rows
/// on, `threads` threads take contiguous blocks of rows (no element depends on another).
package func addBiasThenMap(_ bias: [Float], to matrix: inout [Float], scoring vector: [Float]? = nil, threads: Int,
                            _ rowTransform: (_ z: UnsafeMutablePointer<Float>, _ h: UnsafeMutablePointer<Float>,
                                             _ bias: UnsafePointer<Float>, _ width: Int) -> Void) -> (result: [Float], scores: [Float]) {
    let width = bias.count
    precondition(width > 0 && matrix.count % width == 0, "the matrix's rows are not as wide as the bias")
    precondition(vector.map { $0.count == width } ?? true, "the scoring vector is not as wide as the bias")
    let rows = matrix.count / width
    let scoring = vector != nil
    var scores = scoring ? productBuffer(count: rows) : []
    let result = [Float](unsafeUninitializedCapacity: matrix.count) { result, initialized in
        bias.withUnsafeBufferPointer { bias in
            matrix.withUnsafeMutableBufferPointer { matrix in
                scores.withUnsafeMutableBufferPointer { scores in
                    (vector ?? []).withUnsafeBufferPointer { vector in
                        guard rows > 0 else { return }
                        // An empty array's base address need not be nil: whether to score is decided here.
                        let scored = scoring ? (scores.baseAddress!, vector.baseAddress!) : nil
                        let shared = UncheckedSendable((matrix.baseAddress!, result.baseAddress!, bias.baseAddress!, scored))
                        WorkerTeam.shared.forEachRange(of: rows, from: 64, threads: threads) { block in
                            let (matrix, result, bias, scored) = shared.value
                            for row in block {
                                rowTransform(matrix + row * width, result + row * width, bias, width)
                                if let (scores, vector) = scored { scores[row] = dotProduct(result + row * width, vector, count: width) }
                            }
                        }
                    }
                }
            }
        }
        initialized = matrix.count
    }
    return (result, scores)
}

/// z[c] += bias[c], then h[c] = transform(z[c]), for c in 0..<width: one row of `addBiasThenMap`.
@inline(__always)
package func addBiasThenMap(row z: UnsafeMutablePointer<Float>, into h: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>,
                            width: Int, _ transform: (Float) -> Float) {
    for column in 0..<width {
        z[column] += bias[column]
        (h + column).initialize(to: transform(z[column]))
    }
}

/// A (count) buffer for a product to overwrite: its values are not set here.
package func productBuffer(count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
}

/// Every element set to 0, in place.
package func setToZero(_ values: inout [Float]) {
    values.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
}

/// The listed rows (each `width` values long, all distinct) set to 0, in place; from 2^16 values on,
/// `threads` threads take blocks of the list (a sparse dW₁'s rows: a tenth of a hashed-text step on one).
package func setRowsToZero(_ values: inout [Float], rows: [Int32], width: Int, threads: Int = 1) {
    precondition(width > 0 && rows.allSatisfy { $0 >= 0 && (Int($0) + 1) * width <= values.count }, "row outside the matrix")
    guard !rows.isEmpty else { return }
    values.withUnsafeMutableBufferPointer { values in
        let shared = UncheckedSendable(values.baseAddress!)
        WorkerTeam.shared.forEachRange(of: rows.count, from: max(1, (1 << 16) / width), threads: threads) { block in
            for row in rows[block] { (shared.value + Int(row) * width).update(repeating: 0, count: width) }
        }
    }
}

/// sums[c] += Σ_n matrix[n, c] over the rows of a (N, sums.count) matrix, row after row (a bias's gradient).
package func addColumnSums(of matrix: [Float], into sums: inout [Float]) {
    let width = sums.count
    precondition(width > 0 && matrix.count % width == 0, "the matrix's rows are not as wide as the sums")
    matrix.withUnsafeBufferPointer { matrix in
        sums.withUnsafeMutableBufferPointer { sums in
            for start in stride(from: 0, to: matrix.count, by: width) {
                let row = matrix.baseAddress! + start
                for column in 0..<width { sums[column] += row[column] }
            }
        }
    }
}

/// sums[c] += Σ_n scales[n]·matrix[n, c], row after row: Mᵀ·s for a (scales.count, sums.count) matrix M.
package func addTransposedProduct(of matrix: [Float], _ scales: [Float], into sums: inout [Float]) {
    let width = sums.count
    precondition(matrix.count == scales.count * width, "the matrix is not (scales, sums)")
    matrix.withUnsafeBufferPointer { matrix in
        sums.withUnsafeMutableBufferPointer { sums in
            for (row, scale) in scales.enumerated() {
                let values = matrix.baseAddress! + row * width
                for column in 0..<width { sums[column] += scale * values[column] }
            }
        }
    }
}

/// result[n, c] = column[n]·row[c], the (column.count, row.count) outer product, each row then
/// updated in place by `rowUpdate(result[n], other[n], row.count)` while it is in cache (a matrix
/// `other` of the same shape). From 64 rows on, `threads` threads take blocks of rows.
package func outerProduct(_ column: [Float], _ row: [Float], thenUpdatingWith other: [Float], threads: Int,
                          _ rowUpdate: (_ values: UnsafeMutablePointer<Float>, _ other: UnsafePointer<Float>, _ count: Int) -> Void)
    -> [Float]
{
    let width = row.count
    precondition(other.count == column.count * width, "the matrix is not (column, row)")
    return [Float](unsafeUninitializedCapacity: other.count) { result, initialized in
        column.withUnsafeBufferPointer { column in
            row.withUnsafeBufferPointer { row in
                other.withUnsafeBufferPointer { other in
                    guard !other.isEmpty else { return }
                    let shared = UncheckedSendable((result.baseAddress!, column.baseAddress!, row.baseAddress!, other.baseAddress!))
                    WorkerTeam.shared.forEachRange(of: column.count, from: 64, threads: threads) { block in
                        let (result, column, row, other) = shared.value
                        for index in block {
                            let target = result + index * width
                            for position in 0..<width { (target + position).initialize(to: column[index] * row[position]) }
                            rowUpdate(target, other + index * width, width)
                        }
                    }
                }
            }
        }
        initialized = other.count
    }
}

/// gradient += λ·θ over the listed rows of θ, each `width` long (every row when nil), adding Σθ² (in
/// Double, value after value) into `squaredNorm`: the gradient and size of an L2 penalty (λ/2)·Σθ².
package func addL2Gradient(_ lambda: Float, of theta: [Float], rows: [Int]?, width: Int, into gradient: inout [Float],
                           squaredNorm: inout Double)
{
    precondition(width > 0 && theta.count == gradient.count && theta.count % width == 0, "parameters and gradient of different shapes")
    theta.withUnsafeBufferPointer { theta in
        gradient.withUnsafeMutableBufferPointer { g in
            func add(row: Int) {
                precondition(row >= 0 && (row + 1) * width <= theta.count, "row outside the parameters")
                for index in (row * width)..<((row + 1) * width) {
                    g[index] += lambda * theta[index]
                    squaredNorm += Double(theta[index]) * Double(theta[index])
                }
            }
            if let rows {
                for row in rows { add(row: row) }
            } else {
                for row in 0..<(theta.count / width) { add(row: row) }
            }
        }
    }
}

/// An update of three vectors in place from a fourth, position by position (an optimizer's step:
/// parameters and two moments from a gradient). Positions must not depend on each other:
/// `updateLanes` splits them across threads and, over listed rows, applies the rule row by row.
@usableFromInline package protocol LaneUpdate {
    associatedtype Scalar: FloatingPoint
    typealias Pointers = (UnsafeMutablePointer<Scalar>, UnsafeMutablePointer<Scalar>, UnsafeMutablePointer<Scalar>,
                          UnsafePointer<Scalar>)
    /// The rule over `count` positions from `start`; whether every value written to `a` is finite.
    func update(_ p: Pointers, from start: Int, count: Int) -> Bool
}

/// A `LaneUpdate` written on SIMD vectors: the positions go `Vector.scalarCount` at a time, and the
/// last block is padded with zeros (lanes are independent, so padding changes no other lane).
@usableFromInline package protocol VectorLaneUpdate: LaneUpdate where Scalar == Vector.Scalar {
    associatedtype Vector: SIMD
    func update(_ a: inout Vector, _ b: inout Vector, _ c: inout Vector, reading d: Vector)
}

extension VectorLaneUpdate {
    @inlinable @inline(__always)
    package func update(_ p: Pointers, from start: Int, count: Int) -> Bool { updateLanes(p, from: start, count: count, self) }
}

/// Applies `rule` to `a`, `b`, `c` (in place) and `d` (read): every position, or only the positions
/// of the listed `rows` (each `rows.width` long, all distinct, as the rows of W₁ a sparse batch touched). From 2^16 positions on, the work is split
/// across `threads`; every position is updated once and alone, so no bit depends on the split.
/// Returns whether every value it wrote to `a` is finite: the check after an optimizer's step, made
/// while the values are in registers (read again, the rows of a hashed W₁ cost a tenth of a step).
@inlinable @discardableResult
package func updateLanes<Rule: LaneUpdate>(_ a: inout [Rule.Scalar], _ b: inout [Rule.Scalar], _ c: inout [Rule.Scalar],
                                           reading d: [Rule.Scalar],
                                           rows: (list: [Int32], width: Int)? = nil, threads: Int, _ rule: Rule) -> Bool
{
    let count = a.count
    precondition(b.count == count && c.count == count && d.count == count, "update operands of different sizes")
    if let rows {
        precondition(rows.width > 0 && rows.list.allSatisfy { $0 >= 0 && (Int($0) + 1) * rows.width <= count },
                     "a row outside the tensor")
    }
    guard count > 0 else { return true }
    return a.withUnsafeMutableBufferPointer { a in
        b.withUnsafeMutableBufferPointer { b in
            c.withUnsafeMutableBufferPointer { c in
                d.withUnsafeBufferPointer { d in
                    let shared = UncheckedSendable((a.baseAddress!, b.baseAddress!, c.baseAddress!, d.baseAddress!))
                    if let rows {
                        return WorkerTeam.shared.mapRanges(of: rows.list.count, from: max(1, (1 << 16) / rows.width), threads: threads) { block in
                            var finite = true
                            for row in rows.list[block] {
                                finite = rule.update(shared.value, from: Int(row) * rows.width, count: rows.width) && finite
                            }
                            return finite
                        }.allSatisfy { $0 }
                    } else {
                        return WorkerTeam.shared.mapRanges(of: count, from: 1 << 16, threads: threads) { range in
                            rule.update(shared.value, from: range.lowerBound, count: range.count)
                        }.allSatisfy { $0 }
                    }
                }
            }
        }
    }
}

/// `updateLanes` over one contiguous run of positions.
@inlinable @inline(__always)
func updateLanes<Rule: VectorLaneUpdate>(_ p: Rule.Pointers, from start: Int, count: Int, _ rule: Rule) -> Bool
{
    typealias Vector = Rule.Vector
    let (a, b, c, d) = (p.0 + start, p.1 + start, p.2 + start, p.3 + start)
    var index = 0
    // x − x is 0 for a finite x and NaN for ±∞ or NaN, and a NaN stays in a sum.
    var check = Vector()
    while index + Vector.scalarCount <= count {
        var x = UnsafeRawPointer(a + index).loadUnaligned(as: Vector.self)
        var y = UnsafeRawPointer(b + index).loadUnaligned(as: Vector.self)
        var z = UnsafeRawPointer(c + index).loadUnaligned(as: Vector.self)
        rule.update(&x, &y, &z, reading: UnsafeRawPointer(d + index).loadUnaligned(as: Vector.self))
        UnsafeMutableRawPointer(a + index).storeBytes(of: x, as: Vector.self)
        UnsafeMutableRawPointer(b + index).storeBytes(of: y, as: Vector.self)
        UnsafeMutableRawPointer(c + index).storeBytes(of: z, as: Vector.self)
        check += x - x
        index += Vector.scalarCount
    }
    let finite = !check.sum().isNaN
    guard index < count else { return finite }
    // The tail in zero-padded vectors: lanes are independent, so the same arithmetic as above.
    var x = Vector(), y = Vector(), z = Vector(), w = Vector()
    for lane in 0..<(count - index) {
        (x[lane], y[lane], z[lane], w[lane]) = (a[index + lane], b[index + lane], c[index + lane], d[index + lane])
    }
    rule.update(&x, &y, &z, reading: w)
    for lane in 0..<(count - index) {
        (a[index + lane], b[index + lane], c[index + lane]) = (x[lane], y[lane], z[lane])
    }
    return finite && (0..<(count - index)).allSatisfy { x[$0].isFinite }
}
