/// Rows of features: dense (row-major Float32) or sparse (CSR, for hashed text).
public enum FeatureMatrix: Sendable {
    case dense(DenseRows)
    case sparse(SparseRows)

    public var rowCount: Int {
        switch self {
        case .dense(let rows): return rows.count
        case .sparse(let rows): return rows.count
        }
    }

    public var columnCount: Int {
        switch self {
        case .dense(let rows): return rows.dimension
        case .sparse(let rows): return rows.dimension
        }
    }

    /// The first `count` rows (all of them when there are fewer).
    public func prefix(_ count: Int) -> FeatureMatrix {
        switch self {
        case .dense(let rows): return .dense(DenseRows(dimension: rows.dimension, values: Array(rows.values.prefix(count * rows.dimension))))
        case .sparse(let rows): return .sparse(rows.subset(Array(0..<min(count, rows.count))))
        }
    }
}

/// Row-major dense rows: row i is `values[i*dimension ..< (i+1)*dimension]`.
public struct DenseRows: Sendable {
    public var dimension: Int
    public var values: [Float]
    public var count: Int { dimension == 0 ? 0 : values.count / dimension }

    public init(dimension: Int, values: [Float]) {
        precondition(dimension > 0 && values.count % dimension == 0, "dense rows must fill whole rows")
        self.dimension = dimension
        self.values = values
    }
}

/// Compressed sparse rows: row i's entries are `indices[rowStarts[i] ..< rowStarts[i+1]]` with their `values`.
public struct SparseRows: Sendable, Equatable {
    public var dimension: Int
    public var rowStarts: [Int] = [0]
    public var indices: [Int32] = []
    public var values: [Float] = []
    public var count: Int { rowStarts.count - 1 }

    public init(dimension: Int) { self.dimension = dimension }

    /// Appends the rows of `other` (same dimension) after these.
    public mutating func append(contentsOf other: SparseRows) {
        precondition(other.dimension == dimension, "sparse rows of different dimensions")
        let offset = indices.count
        rowStarts.append(contentsOf: other.rowStarts.dropFirst().map { $0 + offset })
        indices.append(contentsOf: other.indices)
        values.append(contentsOf: other.values)
    }

    /// Keeps only the rows `kept` (ascending), moved to the front in place: no second copy.
    public mutating func compact(keeping kept: [Int]) {
        var written = 0
        var starts = [0]
        starts.reserveCapacity(kept.count + 1)
        for row in kept {
            let entries = rowStarts[row]..<rowStarts[row + 1]
            // written ≤ entries.lowerBound: moving forward never overwrites an entry still to be moved.
            for entry in entries {
                indices[written] = indices[entry]
                values[written] = values[entry]
                written += 1
            }
            starts.append(written)
        }
        indices.removeLast(indices.count - written)
        values.removeLast(values.count - written)
        rowStarts = starts
    }

    /// The rows at `positions`, in that order.
    public func subset(_ positions: [Int]) -> SparseRows {
        var picked = SparseRows(dimension: dimension)
        picked.rowStarts.reserveCapacity(positions.count + 1)
        for row in positions {
            let entries = rowStarts[row]..<rowStarts[row + 1]
            picked.indices.append(contentsOf: indices[entries])
            picked.values.append(contentsOf: values[entries])
            picked.rowStarts.append(picked.indices.count)
        }
        return picked
    }
}

extension SparseRows {
    /// Whether the rows can be handed to the kernels: `rowStarts` runs from 0 to the number of
    /// entries without going back, every entry has a value, and every index is a column.
    package var isWellFormed: Bool {
        guard rowStarts.first == 0, rowStarts.last == indices.count, values.count == indices.count else { return false }
        var (previous, lowest, highest) = (0, Int32.max, Int32.min)
        for start in rowStarts {
            if start < previous { return false }
            previous = start
        }
        for index in indices {
            lowest = min(lowest, index)
            highest = max(highest, index)
        }
        return indices.isEmpty || (lowest >= 0 && Int(highest) < dimension)
    }
}

/// The features of both sides of every pair: row i of `chosen` and of `rejected` belong to pair i.
public struct PairFeatures: Sendable {
    public var chosen: FeatureMatrix
    public var rejected: FeatureMatrix
    public var count: Int { chosen.rowCount }
    public var dimension: Int { chosen.columnCount }

    public init(chosen: FeatureMatrix, rejected: FeatureMatrix) {
        (self.chosen, self.rejected) = (chosen, rejected)
    }

    /// No pairs, `dimension` wide: what a problem holds whose rows stay on disk (streamed).
    public static func withoutRows(dimension: Int) -> PairFeatures {
        let rows = FeatureMatrix.dense(DenseRows(dimension: dimension, values: []))
        return PairFeatures(chosen: rows, rejected: rows)
    }
}

extension FeatureMatrix {
    /// The rows at `positions`, in that order.
    package func rows(_ positions: [Int]) -> FeatureMatrix {
        switch self {
        case .dense(let rows):
            var values: [Float] = []
            values.reserveCapacity(positions.count * rows.dimension)
            for row in positions { values.append(contentsOf: rows.values[row * rows.dimension..<(row + 1) * rows.dimension]) }
            return .dense(DenseRows(dimension: rows.dimension, values: values))
        case .sparse(let rows): return .sparse(rows.subset(positions))
        }
    }

    /// `count` rows of zeros of this matrix's kind and width.
    package func zeros(_ count: Int) -> FeatureMatrix {
        switch self {
        case .dense(let rows): return .dense(DenseRows(dimension: rows.dimension, values: [Float](repeating: 0, count: count * rows.dimension)))
        case .sparse(let rows):
            var empty = SparseRows(dimension: rows.dimension)
            empty.rowStarts.append(contentsOf: [Int](repeating: 0, count: count))
            return .sparse(empty)
        }
    }

    /// These rows, then `other`'s (same kind and width).
    package func appending(_ other: FeatureMatrix) -> FeatureMatrix {
        switch (self, other) {
        case (.dense(let first), .dense(let second)):
            return .dense(DenseRows(dimension: first.dimension, values: first.values + second.values))
        case (.sparse(var first), .sparse(let second)):
            first.append(contentsOf: second)
            return .sparse(first)
        default: preconditionFailure("dense and sparse rows cannot be joined")
        }
    }
}
