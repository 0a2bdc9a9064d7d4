/// A problem with the user's data: a file that cannot be read, or a line that is not a valid pair.
/// Printed as `FILE:LINE:COLUMN: message (field NAME)`, the form compilers use, so editors can jump to it.
/// The CLI exits with status 65 (EX_DATAERR) for these.
public struct DataError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var message: String
    public var field: String?
    /// A short stable name of the kind of problem, used to count skipped lines by reason.
    public var reason: String

    public init(file: String, line: Int? = nil, column: Int? = nil, message: String,
                field: String? = nil, reason: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.field = field
        self.reason = reason
    }

    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let line, line > 0 { location += ":\(column ?? 1)" }
        let suffix = field.map { " (field \($0))" } ?? ""
        return "\(location): \(message)\(suffix)"
    }
}

/// A problem with how the tool was asked to run: a flag, a config file, a model directory that does
/// not fit the data. The CLI exits with status 64 (EX_USAGE) for these.
public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A training run that cannot go on (a non-finite loss, for example). Exit status 70 (EX_SOFTWARE).
public struct TrainingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Writing failed for reasons of the system, not of the request: a full disk or quota (ENOSPC,
/// EDQUOT), a file too large (EFBIG), an I/O error (EIO), a short write or a failed fsync. The
/// message names the file. The CLI exits with status 74 (EX_IOERR) for these.
public struct IOError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
