/// FNV-1a (64-bit) over 8-byte little-endian words: a cheap checksum of a cache entry's files, fed
/// in pieces as they are written or read back. Pieces must be whole words but the last (its tail is
/// zero-padded), so that the result does not depend on how the bytes were cut.
public struct ContentHash: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    public private(set) var bytes = 0

    public init() {}

    public mutating func mix(_ buffer: UnsafeRawBufferPointer) {
        var hash = value
        let words = buffer.count / 8
        for word in 0..<words {
            hash = (hash ^ UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: 8 * word, as: UInt64.self))) &* 0x100_0000_01b3
        }
        if buffer.count % 8 != 0 {
            var tail: UInt64 = 0
            for (shift, byte) in buffer[(8 * words)...].enumerated() { tail |= UInt64(byte) << (8 * UInt64(shift)) }
            hash = (hash ^ tail) &* 0x100_0000_01b3
        }
        value = hash
        bytes += buffer.count
    }

    public mutating func mix(_ bytes: [UInt8]) { bytes.withUnsafeBytes { mix($0) } }
    public mutating func mix(_ floats: [Float]) { floats.withUnsafeBytes { mix($0) } }
    public mutating func mix(_ words: [UInt32]) { words.withUnsafeBytes { mix($0) } }

    /// 16 hexadecimal digits.
    public var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
