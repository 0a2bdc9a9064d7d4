/// Agreeing on success or failure, so that one rank's error stops every rank at the same point
/// (rather than leaving the others waiting in a collective the failed rank never reaches).
extension Collective {
    /// Every rank says whether it failed; if any did, every rank throws the error of the lowest
    /// failed rank (rank 0 prints it: its own error, or that rank's with the same message and exit
    /// status). Every rank must call this at the same point.
    public func agree(_ failure: Error?) throws {
        let statuses = allgather(failure.map(RankFailure.encode) ?? "")
        // A rank's own error comes before another's `PeerFailed` echo of it.
        guard let first = statuses.firstIndex(where: { !$0.isEmpty && $0 != RankFailure.peer })
                ?? statuses.firstIndex(where: { !$0.isEmpty }) else { return }
        if first == rank, let failure { throw failure }
        throw RankFailure.decode(statuses[first], rank: first)
    }

    /// Runs `body` and agrees on how it ended: its value on every rank if all succeeded, else the
    /// first failed rank's error everywhere.
    public func agreeing<T>(_ body: () throws -> T) throws -> T {
        var result: T?
        var failure: Error?
        do { result = try body() } catch { failure = error }
        try agree(failure)
        return result!
    }
}

/// A rank's error sent to the others: its kind (the exit status it maps to) and fields, separated
/// by U+001F, a character no message holds unescaped.
enum RankFailure {
    private static let separator: Character = "\u{1F}"

    static let peer = "peer"

    static func encode(_ error: Error) -> String {
        let fields: [String]
        switch error {
        case is PeerFailed: return peer
        case let error as DataError:
            fields = ["data", error.file, error.line.map(String.init) ?? "", error.column.map(String.init) ?? "", error.message,
                      error.field ?? "", error.reason]
        case let error as UsageError: fields = ["usage", error.message]
        case let error as IOError: fields = ["io", error.message]
        case let error as TrainingError: fields = ["training", error.message]
        default: fields = ["training", String(describing: error)]
        }
        return fields.joined(separator: String(separator))
    }

    static func decode(_ status: String, rank: Int) -> Error {
        let fields = status.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
        func field(_ index: Int) -> String { index < fields.count ? fields[index] : "" }
        switch field(0) {
        case "data":
            return DataError(file: field(1), line: Int(field(2)), column: Int(field(3)), message: field(4),
                             field: field(5).isEmpty ? nil : field(5), reason: field(6))
        case "usage": return UsageError(field(1))
        case peer: return TrainingError("rank \(rank) stopped because another rank failed")
        case "io": return IOError("rank \(rank): \(field(1))")
        default: return TrainingError("rank \(rank): \(field(1))")
        }
    }
}

/// Thrown on the ranks that did not fail when another rank did, at a point all of them share (a
/// collective that carried the failure); the failed rank's own error is the one printed.
public struct PeerFailed: Error, Sendable {
    public init() {}
}
