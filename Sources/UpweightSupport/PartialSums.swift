/// One rank's part of a sum over the ranks: a dense vector (the same length on every rank) and,
/// for a matrix most of whose rows a rank leaves untouched (a hashed first layer), only the rows it
/// touched (distinct, `width` values each, row after row).
public struct PartialSums: Equatable, Sendable {
    public var dense: [Double]
    public var rows: [Int32]
    public var rowValues: [Double]
    /// Values per row; 0: no sparse part.
    public var width: Int

    public init(dense: [Double], rows: [Int32] = [], rowValues: [Double] = [], width: Int = 0) {
        precondition(rowValues.count == rows.count * width, "width values per row")
        (self.dense, self.rows, self.rowValues, self.width) = (dense, rows, rowValues, width)
    }
}

extension Collective {
    /// Every rank's part added up in rank order, the same bits on every rank. Dense only: one
    /// `orderedSum` of the vector. With rows: one allgather of the parts (dense vector, touched rows
    /// and their values, never the whole matrix), summed on every rank in rank order; the rows come
    /// back as their union in order of first appearance. `width` must be the same on every rank.
    public func sum(_ part: PartialSums) -> PartialSums {
        guard part.width > 0 else {
            return PartialSums(dense: orderedSum([part.dense], count: part.dense.count) { total, values in
                for index in total.indices { total[index] += values[index] }
            })
        }
        var total = PartialSums(dense: [Double](repeating: 0, count: part.dense.count), width: part.width)
        var slot: [Int32: Int] = [:]
        for bytes in allgather(part.encoded) {
            let other = PartialSums(decoding: bytes, denseCount: part.dense.count, width: part.width)
            for index in total.dense.indices { total.dense[index] += other.dense[index] }
            for (position, row) in other.rows.enumerated() {
                let start: Int
                if let known = slot[row] {
                    start = known * part.width
                } else {
                    slot[row] = total.rows.count
                    total.rows.append(row)
                    start = total.rowValues.count
                    total.rowValues += repeatElement(0, count: part.width)
                }
                for offset in 0..<part.width { total.rowValues[start + offset] += other.rowValues[position * part.width + offset] }
            }
        }
        return total
    }
}

extension PartialSums {
    /// The bytes a rank sends: the row count, the dense values, the rows, their values (native order:
    /// the ranks of one job share an architecture).
    var encoded: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + 8 * dense.count + 4 * rows.count + 8 * rowValues.count)
        withUnsafeBytes(of: Int64(rows.count)) { bytes += $0 }
        dense.withUnsafeBytes { bytes += $0 }
        rows.withUnsafeBytes { bytes += $0 }
        rowValues.withUnsafeBytes { bytes += $0 }
        return bytes
    }

    init(decoding bytes: [UInt8], denseCount: Int, width: Int) {
        // The length is checked before any read, and the expected size in arithmetic that cannot trap,
        // so that a rank's malformed message stops the job with this message, not a stray read.
        precondition(bytes.count >= 8, "a rank's partial sums of the agreed shape")
        let rowCount = bytes.withUnsafeBytes { Int($0.loadUnaligned(as: Int64.self)) }
        let rowBytes = (4 + 8 * width).multipliedReportingOverflow(by: rowCount)
        precondition(rowCount >= 0 && !rowBytes.overflow && bytes.count - 8 - 8 * denseCount == rowBytes.partialValue,
                     "a rank's partial sums of the agreed shape")
        func values<T>(_ type: T.Type, from offset: Int, count: Int) -> [T] {
            bytes.withUnsafeBytes { raw in (0..<count).map { raw.loadUnaligned(fromByteOffset: offset + $0 * MemoryLayout<T>.size, as: T.self) } }
        }
        let rowsStart = 8 + 8 * denseCount
        self.init(dense: values(Double.self, from: 8, count: denseCount), rows: values(Int32.self, from: rowsStart, count: rowCount),
                  rowValues: values(Double.self, from: rowsStart + 4 * rowCount, count: rowCount * width), width: width)
    }
}
