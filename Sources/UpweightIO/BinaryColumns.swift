import UpweightSupport

/// Little-endian columns of numbers and strings, appended one after another: the format of a cache
/// entry's metadata file.
public struct BinaryColumnWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func append<Number: FixedWidthInteger>(_ value: Number) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func append(_ value: Double) { append(value.bitPattern) }

    public mutating func append(_ text: String) {
        let utf8 = Array(text.utf8)
        append(UInt64(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    public mutating func append(_ text: String?) {
        append(UInt8(text == nil ? 0 : 1))
        if let text { append(text) }
    }

    public mutating func append<Number: FixedWidthInteger>(column: [Number]) {
        append(UInt64(column.count))
        bytes.reserveCapacity(bytes.count + column.count * MemoryLayout<Number>.size)
        column.forEach { append($0) }
    }
}

/// Reads what `BinaryColumnWriter` wrote, from untrusted bytes: every count is checked against
/// what is left before anything is allocated, and a short or malformed file throws
/// `BinaryColumnError`, never traps.
public struct BinaryColumnReader {
    private let bytes: [UInt8]
    public private(set) var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { offset == bytes.count }

    public mutating func read<Number: FixedWidthInteger>(_: Number.Type) throws -> Number {
        let size = MemoryLayout<Number>.size
        guard bytes.count - offset >= size else { throw BinaryColumnError("ends early, at byte \(offset)") }
        let value = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: Number.self) }
        offset += size
        return Number(littleEndian: value)
    }

    public mutating func readDouble() throws -> Double { Double(bitPattern: try read(UInt64.self)) }

    /// A count of items at least `itemBytes` bytes each, no larger than what is left could hold.
    public mutating func readCount(itemBytes: Int) throws -> Int {
        let count = try read(UInt64.self)
        guard count <= UInt64(bytes.count - offset) / UInt64(max(1, itemBytes)) else {
            throw BinaryColumnError("counts \(count) items at byte \(offset - 8), more than the file holds")
        }
        return Int(count)
    }

    public mutating func readString() throws -> String {
        let count = try readCount(itemBytes: 1)
        defer { offset += count }
        return String(decoding: bytes[offset..<offset + count], as: UTF8.self)
    }

    public mutating func readOptionalString() throws -> String? {
        switch try read(UInt8.self) {
        case 0: return nil
        case 1: return try readString()
        case let flag: throw BinaryColumnError("has the flag \(flag) at byte \(offset - 1), expected 0 or 1")
        }
    }

    public mutating func readColumn<Number: FixedWidthInteger>(of _: Number.Type) throws -> [Number] {
        let count = try readCount(itemBytes: MemoryLayout<Number>.size)
        return try (0..<count).map { _ in try read(Number.self) }
    }
}

public struct BinaryColumnError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
