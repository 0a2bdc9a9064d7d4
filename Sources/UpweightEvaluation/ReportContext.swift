import UpweightSupport
import UpweightData

/// What a saved report records about the run that made it, so the page alone says which model,
/// which data (and whether the files changed since), against which baselines, by which command and
/// when. The CLI fills it; the HTML report shows it first.
public struct ReportContext: Sendable {
    public struct DataFile: Sendable, Equatable {
        public var path: String
        public var bytes: Int
        /// 64-bit FNV-1a of the file's bytes ("fnv1a64:" and 16 hex digits): any change to the file changes it.
        public var hash: String

        public init(path: String, bytes: Int, hash: String) {
            (self.path, self.bytes, self.hash) = (path, bytes, hash)
        }

        /// Reads the file once, in blocks, to measure and hash it.
        public init(path: String) throws {
            guard let file = fopen(path, "rb") else {
                throw UsageError("\(path): cannot open: \(String(cString: strerror(errno)))")
            }
            defer { fclose(file) }
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            var bytes = 0
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let got = fread(&buffer, 1, buffer.count, file)
                for byte in buffer[..<got] { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
                bytes += got
                if got < buffer.count { break }
            }
            if ferror(file) != 0 { throw UsageError("\(path): read error: \(String(cString: strerror(errno)))") }
            self.init(path: path, bytes: bytes, hash: fingerprintText(hash))
        }
    }

    /// The model directory the report is about; nil when the model was not saved.
    public var modelDirectory: String?
    public var dataFiles: [DataFile]
    /// `fingerprint(of:)` of the evaluated pairs: equals the one in held_out.json when they are a held-out set.
    public var pairsFingerprint: String?
    /// Models compared against, in order.
    public var baselines: [String]
    /// The process's arguments, the program first.
    public var commandLine: [String]
    /// When the report was made, in seconds since 1970-01-01 UTC.
    public var time: Int

    public init(modelDirectory: String?, dataFiles: [DataFile], pairsFingerprint: String? = nil, baselines: [String] = [],
                commandLine: [String], time: Int = ReportContext.now) {
        (self.modelDirectory, self.dataFiles, self.pairsFingerprint) = (modelDirectory, dataFiles, pairsFingerprint)
        (self.baselines, self.commandLine, self.time) = (baselines, commandLine, time)
    }

    public static var now: Int { Int(Glibc.time(nil)) }

    /// The "Run" section: a two-column table, every text escaped.
    package var html: String {
        let files = dataFiles.map { "\(htmlEscaped($0.path)) (\(plural($0.bytes, "byte", "bytes")), \($0.hash))" }
        var rows = [("model directory", modelDirectory.map(htmlEscaped) ?? "not saved (no --out)"),
                    ("data", files.isEmpty ? "none named" : files.joined(separator: "<br/>"))]
        if let pairsFingerprint { rows.append(("evaluated pairs' fingerprint", htmlEscaped(pairsFingerprint))) }
        rows.append(("baseline", baselines.isEmpty ? "none" : baselines.map(htmlEscaped).joined(separator: "<br/>")))
        rows.append(("command", "<code>" + htmlEscaped(commandLine.map(shellQuoted).joined(separator: " ")) + "</code>"))
        rows.append(("date", iso8601UTC(time)))
        return "<div class=\"scroll\"><table class=\"record\"><tbody>\n"
            + rows.map { "<tr><th>\($0)</th><td>\($1)</td></tr>\n" }.joined() + "</tbody></table></div>\n"
    }
}

/// An argument as a POSIX shell reads it back: bare when it is plain, else in single quotes.
package func shellQuoted(_ argument: String) -> String {
    let plain = !argument.isEmpty && argument.unicodeScalars.allSatisfy { scalar in
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_-./=:,@%+".unicodeScalars.contains(scalar))
    }
    return plain ? argument : "'" + replacingCharacters(in: argument, ["'": "'\\''"]) + "'"
}
