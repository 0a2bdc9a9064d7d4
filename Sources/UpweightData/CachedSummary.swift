import UpweightSupport
import UpweightIO

/// The reader's summary (shapes, skipped lines, warnings) kept in a cache entry's header, so that a
/// run that reuses the entry says what the run that read the files said.
extension ReadSummary {
    var cacheJSON: JSONValue {
        func counts(_ dictionary: [String: Int]) -> JSONValue {
            .object(JSONObject(dictionary.sorted { $0.key < $1.key }.map { ($0.key, JSONValue($0.value)) }))
        }
        let errors = firstSkipped.map { error -> JSONValue in
            .object(JSONObject([("file", .string(error.file)), ("line", error.line.map { JSONValue($0) } ?? .null),
                                ("column", error.column.map { JSONValue($0) } ?? .null), ("message", .string(error.message)),
                                ("field", error.field.map { .string($0) } ?? .null), ("reason", .string(error.reason))]))
        }
        let shapes = files.map { file -> JSONValue in
            .object(JSONObject([("path", .string(file.path)), ("shape", file.shape.map { .string($0.rawValue) } ?? .null),
                                ("layout", .string(file.layout)), ("forced", .bool(file.forced)), ("pairs", JSONValue(file.pairs)),
                                ("lines", JSONValue(file.lines)), ("newlines", JSONValue(file.newlines))]))
        }
        let places = warningLines.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.array($0.value.map { .string($0) })) }
        return .object(JSONObject([("lines", JSONValue(lines)), ("skipped", counts(skipped)), ("first_skipped", .array(errors)),
                                   ("warnings", counts(warnings)), ("warning_lines", .object(JSONObject(places))), ("files", .array(shapes))]))
    }

    /// The summary in an entry's header; nil when anything is missing or of the wrong type.
    init?(cacheJSON value: JSONValue?) {
        guard case .object(let object)? = value, let lines = object["lines"]?.wholeNumber(in: 0...(1 << 53)),
              let skipped = Self.counts(object["skipped"]), let warnings = Self.counts(object["warnings"]),
              case .array(let errors)? = object["first_skipped"], case .array(let shapes)? = object["files"],
              case .object(let places)? = object["warning_lines"]
        else { return nil }
        self.init()
        self.lines = lines
        self.skipped = skipped
        self.warnings = warnings
        for error in errors {
            guard case .object(let fields) = error, let file = fields["file"]?.stringValue, let message = fields["message"]?.stringValue,
                  let reason = fields["reason"]?.stringValue else { return nil }
            firstSkipped.append(DataError(file: file, line: fields["line"]?.wholeNumber(in: 0...(1 << 53)), column: fields["column"]?.wholeNumber(in: 0...(1 << 53)),
                                          message: message, field: fields["field"]?.stringValue, reason: reason))
        }
        for (warning, value) in places.members {
            guard case .array(let entries) = value else { return nil }
            warningLines[warning] = entries.compactMap(\.stringValue)
        }
        for shape in shapes {
            guard case .object(let fields) = shape, let path = fields["path"]?.stringValue, let layout = fields["layout"]?.stringValue,
                  case .bool(let forced)? = fields["forced"], let pairs = fields["pairs"]?.wholeNumber(in: 0...(1 << 53)),
                  let lines = fields["lines"]?.wholeNumber(in: 0...(1 << 53)), let newlines = fields["newlines"]?.wholeNumber(in: 0...(1 << 53))
            else { return nil }
            let detected = fields["shape"]?.stringValue.flatMap(InputShape.init(rawValue:))
            var file = FileShape(path: path, shape: detected, fields: FieldNames(), forced: forced, pairs: pairs)
            (file.layout, file.lines, file.newlines) = (layout, lines, newlines)
            files.append(file)
        }
    }

    private static func counts(_ value: JSONValue?) -> [String: Int]? {
        guard case .object(let object)? = value else { return nil }
        var counts: [String: Int] = [:]
        for (key, count) in object.members {
            guard let count = count.wholeNumber(in: 0...(1 << 53)) else { return nil }
            counts[key] = count
        }
        return counts
    }
}
