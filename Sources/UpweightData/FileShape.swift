import UpweightSupport

/// What one file turned out to hold: its input shape (detected from its first pair, or set by
/// --shape) and how many pairs it gave. `train`, `eval` and `compare` print it as a note per file.
public struct FileShape: Sendable, Equatable {
    public var path: String
    /// nil: no line of the file showed a shape (every line was skipped).
    public var shape: InputShape?
    /// The fields the shape reads, e.g. "prompt/chosen/rejected strings".
    public var layout: String
    /// Set by --shape rather than detected.
    public var forced: Bool
    public var pairs: Int
    /// Non-blank lines read, and line breaks: a block read after these numbers its first line 1 + `newlines`.
    public var lines = 0
    public var newlines = 0

    init(path: String, shape: InputShape?, fields: FieldNames, forced: Bool, pairs: Int) {
        self.path = path
        self.shape = shape
        self.forced = forced
        self.pairs = pairs
        switch shape {
        case .explicit?: layout = "\(fields.prompt)/\(fields.chosen)/\(fields.rejected) strings"
        case .conversational?: layout = "\(fields.chosen)/\(fields.rejected) message lists"
        case .implicit?: layout = "\(fields.chosen)/\(fields.rejected) transcripts"
        case .dense?: layout = "\(fields.chosenFeatures)/\(fields.rejectedFeatures) vectors"
        case nil: layout = ""
        }
    }

    /// `note: data/x.jsonl: shape explicit (prompt/chosen/rejected strings), 1204 pairs`.
    public var note: String {
        guard let shape else { return "note: \(path): no shape detected (no valid pair), 0 pairs" }
        return "note: \(path): shape \(shape.rawValue) (\(layout)\(forced ? "; set by --shape" : "")), \(plural(pairs, "pair", "pairs"))"
    }
}
