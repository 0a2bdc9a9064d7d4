import UpweightIO

/// Texts stored as spans of a few large UTF-8 buffers. Each reading thread writes the texts of its
/// share of a chunk into one buffer, and the dataset keeps those buffers as they are: a dataset's
/// hundreds of thousands of texts cost a handful of allocations instead of one each, joining the
/// threads' results copies no bytes, and nothing is freed one text at a time. Reads as a collection
/// of `String`s; columns may share buffers (a pair's prompt and responses sit in the same one).
public struct TextColumn: Sendable, RandomAccessCollection, ExpressibleByArrayLiteral {
    private var buffers: [[UInt8]] = []
    private var spans: [Span] = []

    /// Where one text lies: buffer `buffer`, bytes `start ..< start + count`.
    package struct Span {
        package var buffer: Int32
        package var start: Int
        package var count: Int
    }

    public init() {}

    public init(_ texts: some Sequence<String>) {
        var writer = TextBuffer()
        for text in texts { spans.append(writer.write(text)) }
        buffers = [writer.bytes]
    }

    public init(arrayLiteral texts: String...) { self.init(texts) }

    /// Texts written into `buffer`, at `spans` (whose `buffer` fields are 0).
    package init(buffer: [UInt8], spans: [Span]) {
        buffers = [buffer]
        self.spans = spans
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { spans.count }

    public subscript(position: Int) -> String {
        String(decoding: utf8(position), as: UTF8.self)
    }

    /// The UTF-8 bytes of text `position`, without making a `String` or copying them.
    public func utf8(_ position: Int) -> ArraySlice<UInt8> {
        let span = spans[position]
        return buffers[Int(span.buffer)][span.start..<span.start + span.count]
    }

    /// Appends `other`'s texts by reference to its buffers (no bytes are copied).
    public mutating func append(contentsOf other: TextColumn) {
        let offset = Int32(buffers.count)
        buffers.append(contentsOf: other.buffers)
        spans.append(contentsOf: other.spans.lazy.map { Span(buffer: $0.buffer + offset, start: $0.start, count: $0.count) })
    }

    /// The texts at `positions`, in that order. They share this column's buffers (no bytes are
    /// copied, so a train/eval split costs no second copy of the text); an empty subset keeps none.
    public func subset(_ positions: [Int]) -> TextColumn {
        var picked = TextColumn()
        if !positions.isEmpty { picked.buffers = buffers }
        picked.spans = positions.map { spans[$0] }
        return picked
    }
}

extension TextColumn: CustomStringConvertible {
    /// The texts, as an array of strings would print them (not the buffers they happen to sit in).
    public var description: String { Array(self).description }
}

extension TextColumn: Equatable {
    /// Equal texts in the same order, however they are laid out in buffers.
    public static func == (left: TextColumn, right: TextColumn) -> Bool {
        left.count == right.count && left.indices.allSatisfy { left.utf8($0) == right.utf8($0) }
    }
}

/// One growing buffer of UTF-8 texts, written end to end.
package struct TextBuffer {
    package var bytes: [UInt8] = []

    package mutating func write(_ text: String) -> TextColumn.Span {
        let start = bytes.count
        bytes.append(contentsOf: text.utf8)
        return TextColumn.Span(buffer: 0, start: start, count: bytes.count - start)
    }
}

/// The three text columns of a run of text pairs, written into one buffer as their lines are decoded.
package struct PairTexts {
    private var buffer = TextBuffer()
    private var prompts: [TextColumn.Span] = []
    private var chosen: [TextColumn.Span] = []
    private var rejected: [TextColumn.Span] = []

    /// `bytes`: about how many bytes the texts will take (the lines' length bounds them, as decoding
    /// never lengthens a string). Only pages actually written are ever touched.
    package init(reserving bytes: Int = 0) {
        buffer.bytes.reserveCapacity(bytes)
    }

    package var count: Int { chosen.count }

    /// Moves `record`'s texts into the buffer, leaving it with empty ones: its strings are freed
    /// here, on the decoding thread, rather than one by one wherever the record ends up.
    package mutating func take(from record: inout PairRecord) {
        append(prompt: buffer.write(record.prompt), chosen: buffer.write(record.chosen), rejected: buffer.write(record.rejected))
        (record.prompt, record.chosen, record.rejected) = ("", "", "")
    }

    /// Decodes the JSON string at `cursor` into the buffer, for `append` to place; nil for what
    /// jansson rejects (then nothing is written).
    package mutating func decode(_ cursor: inout JSONCursor) -> TextColumn.Span? {
        let start = buffer.bytes.count
        guard cursor.string(appendingTo: &buffer.bytes) else { return nil }
        return TextColumn.Span(buffer: 0, start: start, count: buffer.bytes.count - start)
    }

    package mutating func append(prompt: TextColumn.Span, chosen: TextColumn.Span, rejected: TextColumn.Span) {
        prompts.append(prompt)
        self.chosen.append(chosen)
        self.rejected.append(rejected)
    }

    /// Where the buffer ends now, to `discard(after:)` what a line wrote before it turned out unusable.
    package var mark: Int { buffer.bytes.count }

    package mutating func discard(after mark: Int) {
        buffer.bytes.removeSubrange(mark...)
    }

    /// Whether two decoded texts are the same bytes.
    package func same(_ a: TextColumn.Span, _ b: TextColumn.Span) -> Bool {
        a.count == b.count && buffer.bytes[a.start..<a.start + a.count] == buffer.bytes[b.start..<b.start + b.count]
    }

    /// The three columns, sharing the one buffer.
    package var columns: (prompts: TextColumn, chosen: TextColumn, rejected: TextColumn) {
        (TextColumn(buffer: buffer.bytes, spans: prompts), TextColumn(buffer: buffer.bytes, spans: chosen),
         TextColumn(buffer: buffer.bytes, spans: rejected))
    }
}
