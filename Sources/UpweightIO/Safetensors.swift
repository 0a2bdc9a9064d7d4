import UpweightSupport

/// A named Float32 tensor.
public struct Tensor: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "tensor \(name): shape does not match its values")
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// A named Float64 tensor: optimizer state in checkpoints, where resuming must be exact.
public struct Tensor64: Sendable, Equatable {
    public var name: String
    public var values: [Double]
    public init(name: String, values: [Double]) {
        self.name = name
        self.values = values
    }
}

/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
/// `{"NAME": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}`
/// padded with spaces to a multiple of 8 bytes, then the raw little-endian data. Tensors are written
/// in name order, so the same tensors always give the same bytes.
public enum Safetensors {
    public static func encode(_ tensors: [Tensor], doubles: [Tensor64] = [], metadata: [String: String] = [:]) -> [UInt8] {
        let sorted = tensors.sorted { $0.name < $1.name }
        let sortedDoubles = doubles.sorted { $0.name < $1.name }
        var header = JSONObject()
        if !metadata.isEmpty {
            header["__metadata__"] = .object(JSONObject(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        }
        var offset = 0
        for tensor in sorted {
            let size = tensor.values.count * 4
            header[tensor.name] = ["dtype": "F32", "shape": .array(tensor.shape.map { JSONValue($0) }),
                                   "data_offsets": [JSONValue(offset), JSONValue(offset + size)]]
            offset += size
        }
        for tensor in sortedDoubles {
            let size = tensor.values.count * 8
            header[tensor.name] = ["dtype": "F64", "shape": [JSONValue(tensor.values.count)],
                                   "data_offsets": [JSONValue(offset), JSONValue(offset + size)]]
            offset += size
        }
        var headerBytes = Array(JSONValue.object(header).compactText.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(UInt8(ascii: " ")) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: headerBytes)
        for tensor in sorted {
            for value in tensor.values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        }
        for tensor in sortedDoubles {
            for value in tensor.values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        }
        return bytes
    }

    public static func decode(_ bytes: [UInt8], file: String) throws -> [Tensor] {
        try decodeAll(bytes, file: file).floats
    }

    /// Every F32 and F64 tensor of a file. The file is untrusted: the header length, every shape and
    /// offset are checked (whole numbers, no overflow, within the file, not overlapping) and every
    /// value must be finite; anything else is a `DataError` naming the file and the tensor.
    public static func decodeAll(_ bytes: [UInt8], file: String) throws -> (floats: [Tensor], doubles: [Tensor64]) {
        func corrupt(_ why: String) -> DataError { .invalidModel(file, "not a valid safetensors file: \(why)") }
        guard bytes.count >= 8 else { throw corrupt("shorter than its 8-byte header length") }
        let declaredLength = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | (UInt64($1.element) << (8 * UInt64($1.offset))) }
        guard declaredLength > 0, declaredLength <= UInt64(bytes.count - 8) else { throw corrupt("header length \(declaredLength) exceeds the file") }
        let headerLength = Int(declaredLength)
        let parsed = bytes[8..<8 + headerLength].withUnsafeBytes { buffer in
            Result { () throws(JSONSyntaxError) in try JSONParser.parse(buffer) }
        }
        guard case .success(.object(let header)) = parsed else { throw corrupt("header is not a JSON object") }
        let dataStart = 8 + headerLength
        let dataLength = bytes.count - dataStart
        var tensors: [Tensor] = []
        var doubles: [Tensor64] = []
        var ranges: [(range: Range<Int>, name: String)] = []
        for (name, entry) in header.members where name != "__metadata__" {
            guard case .object(let info) = entry, let dtype = info["dtype"]?.stringValue, dtype == "F32" || dtype == "F64",
                  case .array(let shapeValues)? = info["shape"], case .array(let offsets)? = info["data_offsets"], offsets.count == 2
            else { throw corrupt("tensor \(name) is not an F32 or F64 tensor with a shape and data offsets") }
            let shape = shapeValues.compactMap { $0.wholeNumber(in: 0...Int.max) }
            let width = dtype == "F32" ? 4 : 8
            guard shape.count == shapeValues.count, let count = checkedProduct(shape), let size = checkedProduct([count, width]) else {
                throw corrupt("tensor \(name) has a shape that is not a list of whole numbers ≥ 0 with a size that fits in memory")
            }
            guard let begin = offsets[0].wholeNumber(in: 0...dataLength), let end = offsets[1].wholeNumber(in: 0...dataLength), begin <= end else {
                throw corrupt("tensor \(name) has data offsets that are not whole numbers from 0 to \(dataLength) (the data bytes in the file)")
            }
            guard end - begin == size else {
                throw corrupt("tensor \(name) has data offsets [\(begin), \(end)] that do not match its shape \(shape) (\(size) bytes)")
            }
            ranges.append((begin..<end, name))
            let range = (dataStart + begin)..<(dataStart + end)
            if width == 4 {
                var bits = [UInt32](repeating: 0, count: count)
                bits.withUnsafeMutableBytes { target in bytes.withUnsafeBytes { target.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[range])) } }
                let values = bits.map { Float(bitPattern: UInt32(littleEndian: $0)) }
                if let bad = values.firstIndex(where: { !$0.isFinite }) { throw corrupt("tensor \(name) holds \(values[bad]) at index \(bad) (every value must be finite)") }
                tensors.append(Tensor(name: name, shape: shape, values: values))
            } else {
                var bits = [UInt64](repeating: 0, count: count)
                bits.withUnsafeMutableBytes { target in bytes.withUnsafeBytes { target.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[range])) } }
                let values = bits.map { Double(bitPattern: UInt64(littleEndian: $0)) }
                if let bad = values.firstIndex(where: { !$0.isFinite }) { throw corrupt("tensor \(name) holds \(values[bad]) at index \(bad) (every value must be finite)") }
                doubles.append(Tensor64(name: name, values: values))
            }
        }
        ranges.sort { $0.range.lowerBound < $1.range.lowerBound }
        for (first, second) in zip(ranges, ranges.dropFirst()) where first.range.overlaps(second.range) {
            throw corrupt("tensors \(first.name) and \(second.name) overlap in the file")
        }
        return (tensors.sorted { $0.name < $1.name }, doubles.sorted { $0.name < $1.name })
    }
}
