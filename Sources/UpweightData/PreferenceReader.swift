import UpweightSupport
import UpweightIO

/// What to do with a line that is not a valid pair.
public enum ErrorPolicy: String, Sendable, CaseIterable {
    /// Stop at the first bad line (the default: nothing is dropped unless asked).
    case fail
    /// Skip bad lines and count them by reason.
    case skip
}

public struct ReadOptions: Sendable, Equatable {
    public var fields = FieldNames()
    /// nil: detect each file's shape from its first pair.
    public var shape: InputShape?
    public var onError = ErrorPolicy.fail
    public var threads = defaultThreadCount()
    /// Bytes read and parsed at a time; the peak memory of reading is about this much over the data.
    public var chunkBytes = 32 << 20
    /// A chunk smaller than this is decoded on one thread (splitting it would cost more than it saves;
    /// the fuzzer sets 1 to split even tiny inputs).
    public var minimumPartBytes = 1 << 16
    /// Refuse data whose estimated footprint exceeds this many bytes (nil: the available memory).
    public var maxMemory: Int?
    /// Where streamed dense rows are cached (`PairsCache`): nil for the default location, "none" for
    /// no cache (an anonymous scratch file). Not a reader setting: what is read does not depend on it.
    public var cache: String?
    /// The blocks a streaming read is cut into (`FileBlocks`): the streamed units end at block
    /// ends, so this, unlike the chunk size, is part of what a streamed read produces.
    public var blockBytes = FileBlocks.defaultBytes
    public init() {}
}

/// What reading saw besides the pairs: lines skipped and warnings, each counted by reason.
public struct ReadSummary: Sendable, Equatable {
    public var lines = 0
    public var skipped: [String: Int] = [:]
    public var firstSkipped: [DataError] = []
    public var warnings: [String: Int] = [:]
    /// The first lines (`FILE:LINE`, at most `warningLineLimit`) of each warning, in reading order.
    public var warningLines: [String: [String]] = [:]
    /// Each file's shape and pairs, in the order read.
    public var files: [FileShape] = []
    public static let warningLineLimit = 3
    public var skippedCount: Int { skipped.values.reduce(0, +) }
}

/// Reads JSONL preference files into a `PreferenceDataset`. Lines are parsed in parallel chunks;
/// the result does not depend on the thread count.
public enum PreferenceReader {
    /// With a hashing `featurizer`, text is also hashed as it is read (each thread hashes the pairs
    /// it has just decoded), and the dataset carries the rows for `Featurizer.features` to use.
    public static func read(paths: [String], options: ReadOptions = ReadOptions(), featurizingWith featurizer: Featurizer? = nil)
        throws -> (PreferenceDataset, ReadSummary)
    {
        try MemoryBudget.check(paths: paths, limit: options.maxMemory)
        // The estimate trusts file sizes and gzip trailers; what is read (decompressed) is counted
        // too, so that a gzip bomb or an endless pipe stops at the budget.
        let budget = SystemMemory.limit(maxMemory: options.maxMemory)
        let limit = budget?.bytes
        let limitName = budget?.source ?? "--max-memory"
        return try read(names: paths, options: options, featurizer: featurizer) { path, _, alreadyRead in
            try LineChunks(path: path, chunkBytes: options.chunkBytes, byteLimit: limit.map { max(0, $0 - alreadyRead) },
                           limitName: limitName)
        }
    }

    /// Reads JSONL held in memory, exactly as if it were the file `name` (the fuzzer's entry point).
    public static func read(bytes: [UInt8], name: String, options: ReadOptions = ReadOptions(),
                            featurizingWith featurizer: Featurizer? = nil) throws -> (PreferenceDataset, ReadSummary)
    {
        try read(names: [name], options: options, featurizer: featurizer) { _, _, _ in
            LineChunks(bytes: bytes, name: name, chunkBytes: options.chunkBytes)
        }
    }

    /// Reads pairs whose features need not fit in memory: each chunk's rows are handed to `spill` as
    /// soon as they are decoded (dense rows, or text hashed by `hashing` with the texts it came
    /// from), and the dataset returned holds every column but the responses (dense of dimension 0,
    /// no rows). Every check and error is the reader's as above; text without `hashing` is refused.
    /// The files are read block by block (`FileBlocks`), and `spill` hears `.endOfBlock` after each.
    /// With `share`, only those blocks are read, as one MPI rank's part of the read: lines are
    /// numbered from 1 at the share's start in each file, and a file or a share without pairs is no
    /// error here (the ranks decide that together, `StreamedPairs.readShare`).
    public static func readStreaming(paths: [String], options: ReadOptions, hashing: Featurizer? = nil, share: [FileBlock]? = nil,
                                     spill: @escaping (StreamedChunk) throws -> Void) throws
        -> (metadata: PreferenceDataset, summary: ReadSummary)
    {
        let blocks = try share ?? FileBlocks.plan(paths, blockBytes: options.blockBytes)
        return try read(names: paths, options: options, featurizer: hashing, blocks: blocks, isShare: share != nil, spill: spill) { path, block, _ in
            guard let block else { return try LineChunks(path: path, chunkBytes: options.chunkBytes) }
            return try LineChunks(path: path, block: block, chunkBytes: options.chunkBytes)
        }
    }

    /// Opens each named source (or each of its `blocks`, in order) only when its turn comes, so one
    /// file's chunks are alive at a time. With `spill`, each chunk's rows (and a text chunk's texts)
    /// leave the builder for it.
    private static func read(names paths: [String], options: ReadOptions, featurizer: Featurizer?, blocks: [FileBlock]? = nil,
                             isShare: Bool = false, spill: ((StreamedChunk) throws -> Void)? = nil,
                             open: (_ path: String, _ block: Range<Int>?, _ alreadyRead: Int) throws -> LineChunks) throws
        -> (PreferenceDataset, ReadSummary)
    {
        try options.fields.validate()
        var builder = DatasetBuilder()
        var summary = ReadSummary()
        var shapeSeen: (shape: InputShape, file: String)?
        var bytesRead = 0
        for (fileIndex, path) in paths.enumerated() {
            var shape = options.shape
            var nextLine = 1
            let pairsBefore = builder.count
            let linesBefore = summary.lines
            // A file read whole is one block (nil).
            for block in blocks.map({ $0.filter { $0.file == fileIndex }.map(\.bytes) }) ?? [nil] {
                let chunks = try open(path, block, bytesRead)
                defer { bytesRead += chunks.bytesRead }
                var startsFile = block?.lowerBound ?? 0 == 0
                while let chunk = try chunks.next() {
                    try chunk.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
                        if startsFile && UTF16Detection.looksLikeUTF16(buffer) { throw UTF16Detection.error(file: path) }
                        startsFile = false
                        // Each thread splits its share of the chunk into lines (numbered from 0 within the
                        // share, as the numbers before it are not known yet); the shares are decoded below.
                        let parts = partition(buffer, parts: buffer.count >= options.minimumPartBytes ? options.threads : 1)
                        let split = parallelMap(parts: parts.count, threads: options.threads) { part in
                            lineRanges(buffer, in: parts[part], firstLine: 0)
                        }
                        if shape == nil { shape = detectShape(split.lazy.flatMap(\.lines), buffer, path, options.fields) }
                        if let shape {
                            if let (previous, file) = shapeSeen, previous.isText != shape.isText {
                                throw DataError(file: path, message: "has \(shape.isText ? "text" : "dense") pairs, but \(file) has \(previous.isText ? "text" : "dense") pairs",
                                                reason: "mixed shapes")
                            }
                            shapeSeen = shapeSeen ?? (shape, path)
                        }
                        // While no line has shown the file's shape, decode as explicit text, so that each
                        // bad line still gets its own error.
                        let decoder = PairDecoder(file: path, fields: options.fields, shape: shape ?? .explicit)
                        var firstLines = [nextLine]
                        for share in split.dropLast() { firstLines.append(firstLines[firstLines.count - 1] + share.newlines) }
                        nextLine = firstLines[firstLines.count - 1] + split[split.count - 1].newlines
                        // Each share is decoded into columns of its own, against the dense dimension the
                        // data before this chunk set (if any), and the shares are joined in order.
                        let reference = builder.denseReference
                        func decodeShare(_ part: Int, against reference: (dimension: Int, line: String)?) -> DecodedShare {
                            decodeLines(split[part].lines, numberedFrom: firstLines[part], buffer, decoder, file: Int32(fileIndex),
                                        against: reference, featurizer: featurizer)
                        }
                        var shares = parallelMap(parts: parts.count, threads: options.threads) { part in decodeShare(part, against: reference) }
                        summary.lines += split.reduce(0) { $0 + $1.lines.count }
                        func skip(_ error: DataError) throws {
                            guard options.onError == .skip else { throw error }
                            summary.skipped[error.reason, default: 0] += 1
                            if summary.firstSkipped.count < 5 { summary.firstSkipped.append(error) }
                        }
                        for part in shares.indices {
                            // Why a share may be decoded twice: the shares of the first chunk with dense
                            // pairs run in parallel before any dimension is known, so each takes its own
                            // first pair as the reference. That is right unless an earlier share set
                            // another one (of another dimension, or one its mismatch errors should have
                            // named): then it is decoded again against that, so every error names the
                            // file's first pair, as a sequential read would. This happens only in that
                            // one chunk and only when the file has a dimension mismatch (an error), so a
                            // valid file decodes every line once.
                            if reference == nil, let known = builder.denseReference, let own = shares[part].pairs.denseReference,
                               own.dimension != known.dimension || shares[part].pairs.dimensionMismatches > 0
                            {
                                shares[part] = decodeShare(part, against: known)
                            }
                            // Under `skip` a pair refused for its dimension is skipped like any other bad line.
                            for error in shares[part].errors { try skip(error) }
                            builder.append(contentsOf: shares[part].pairs)
                            summary.warnings.merge(shares[part].warnings, uniquingKeysWith: +)
                            for (warning, lines) in shares[part].warningLines {
                                let room = ReadSummary.warningLineLimit - summary.warningLines[warning, default: []].count
                                summary.warningLines[warning, default: []] += lines.prefix(max(0, room)).map { "\(path):\($0)" }
                            }
                        }
                        if let spill {
                            if builder.holdsText {
                                guard case .hashed? = featurizer else {
                                    // Only a dense model's rows are streamed without hashing.
                                    throw UsageError("the model reads dense feature vectors, but \(path) holds text")
                                }
                                if let (hashed, texts) = builder.takeHashedTexts() { try spill(.text(hashed, texts: texts)) }
                            } else {
                                let (chosen, rejected, dimension) = builder.takeDenseRows()
                                if !chosen.isEmpty { try spill(.dense(chosen: chosen, rejected: rejected, dimension: dimension)) }
                            }
                        }
                    }
                }
                try spill?(.endOfBlock)
            }
            if summary.lines == 0 && !isShare {
                throw DataError(file: path, message: "no pairs: the file is empty or holds only blank lines",
                                reason: "no pairs")
            }
            var file = FileShape(path: path, shape: shape, fields: options.fields, forced: options.shape != nil, pairs: builder.count - pairsBefore)
            (file.lines, file.newlines) = (summary.lines - linesBefore, nextLine - 1)
            summary.files.append(file)
        }
        guard builder.count > 0 || isShare else {
            let what = paths.count == 1 ? paths[0] : paths.joined(separator: ", ")
            throw DataError(file: what, message: "no pairs: every line was skipped (\(plural(summary.skippedCount, "bad line", "bad lines")))",
                            reason: "no pairs")
        }
        var dataset = builder.dataset(files: paths)
        if spill != nil { dataset.responses = .dense(dimension: 0, chosen: [], rejected: []) }
        return (dataset, summary)
    }

    /// A line: its byte range in the chunk and its number in the file. Blank lines are left out.
    package struct Line {
        package var range: Range<Int>
        package var number: Int
    }

    /// The non-blank lines of `bytes[range]` (which starts at a line start), numbered from
    /// `firstLine`, and how many newlines the range holds.
    package static func lineRanges(_ bytes: UnsafeRawBufferPointer, in range: Range<Int>, firstLine: Int) -> (lines: [Line], newlines: Int) {
        var lines: [Line] = []
        guard let base = bytes.baseAddress else { return (lines, 0) }
        var newlines = 0
        var start = range.lowerBound
        var number = firstLine
        while start < range.upperBound {
            // memchr: libc's vectorized search, several times faster than a byte loop.
            let end = memchr(base + start, 10, range.upperBound - start).map { UnsafeRawPointer($0) - base } ?? range.upperBound
            var contentEnd = end
            if contentEnd > start && bytes[contentEnd - 1] == 13 { contentEnd -= 1 }  // CRLF
            let blank = bytes[start..<contentEnd].allSatisfy(JSONCursor.isSpace)
            if !blank { lines.append(Line(range: start..<contentEnd, number: number)) }
            number += 1
            if end < range.upperBound { newlines += 1 }
            start = end + 1
        }
        return (lines, newlines)
    }

    /// Splits `bytes` into up to `parts` ranges of about equal size, each starting at a line start.
    package static func partition(_ bytes: UnsafeRawBufferPointer, parts: Int) -> [Range<Int>] {
        guard let base = bytes.baseAddress, parts > 1 else { return [0..<bytes.count] }
        var bounds = [0]
        for part in 1..<parts {
            let nominal = max(bytes.count * part / parts, bounds[bounds.count - 1])
            bounds.append(memchr(base + nominal, 10, bytes.count - nominal).map { UnsafeRawPointer($0) - base + 1 } ?? bytes.count)
        }
        bounds.append(bytes.count)
        return (0..<parts).map { bounds[$0]..<bounds[$0 + 1] }.filter { !$0.isEmpty }
    }

    /// The shape of the first line that holds a recognisable pair.
    private static func detectShape(_ lines: some Sequence<Line>, _ buffer: UnsafeRawBufferPointer, _ path: String,
                                    _ fields: FieldNames) -> InputShape?
    {
        for line in lines {
            if case .object(let object)? = try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: buffer[line.range])),
               let shape = InputShape.detect(object, fields: fields)
            {
                return shape
            }
        }
        return nil
    }

    /// One thread's share of a chunk, decoded: its pairs in columns, ready to join the others', and
    /// the errors of its lines in order (bad lines, and pairs refused for their dimension).
    package struct DecodedShare {
        package var pairs: DatasetBuilder
        package var errors: [DataError] = []
        package var warnings: [String: Int] = [:]
        /// The first lines of each warning (at most `ReadSummary.warningLineLimit`).
        package var warningLines: [String: [Int]] = [:]
    }

    /// Decodes `lines`, whose numbers count from 0 and become `firstLine`, `firstLine + 1`, …, checking
    /// dense pairs against `reference` (or the share's first dense pair, without one).
    private static func decodeLines(_ lines: [Line], numberedFrom firstLine: Int, _ buffer: UnsafeRawBufferPointer,
                                    _ decoder: PairDecoder, file: Int32, against reference: (dimension: Int, line: String)?,
                                    featurizer: Featurizer?) -> DecodedShare
    {
        let scanner = FastLineScanner(decoder: decoder)
        var texts = PairTexts(reserving: decoder.shape.isText ? lines.reduce(0) { $0 + $1.range.count } : 0)
        var share = DecodedShare(pairs: DatasetBuilder(denseReference: reference))
        for relative in lines {
            let line = Line(range: relative.range, number: relative.number + firstLine)
            switch decodeLine(line, buffer, scanner, &texts) {
            case .success(let record):
                // The builder refuses only dense pairs, so text pairs stay in line with `texts`.
                do { try share.pairs.append(record, file: file, path: decoder.file, fields: decoder.fields) } catch {
                    share.errors.append(error)
                    continue
                }
                if let warning = record.warning {
                    share.warnings[warning, default: 0] += 1
                    if share.warningLines[warning, default: []].count < ReadSummary.warningLineLimit {
                        share.warningLines[warning, default: []].append(line.number)
                    }
                }
            case .failure(let error):
                share.errors.append(error)
            }
        }
        let columns = texts.columns
        share.pairs.append(columns)
        if case .hashed(let bits, let includePrompt)? = featurizer, decoder.shape.isText {
            // Hashed here, while the share's texts are fresh in this core's cache.
            share.pairs.append(HashedTexts(prompts: columns.prompts, chosen: columns.chosen, rejected: columns.rejected,
                                           hashBits: bits, includePrompt: includePrompt))
        }
        return share
    }

    /// One line's pair or error. A text pair's texts go to `texts` (the record keeps none).
    private static func decodeLine(_ line: Line, _ buffer: UnsafeRawBufferPointer, _ scanner: FastLineScanner,
                                   _ texts: inout PairTexts) -> Result<PairRecord, DataError>
    {
        let bytes = UnsafeRawBufferPointer(rebasing: buffer[line.range])
        if let outcome = scanner.scan(bytes, number: line.number, texts: &texts) { return outcome }
        let decoder = scanner.decoder
        do {
            let value: JSONValue
            switch Result(catching: { () throws(JSONSyntaxError) in try JSONParser.parse(bytes) }) {
            case .success(let parsed): value = parsed
            case .failure(let error):
                return .failure(DataError(file: decoder.file, line: line.number, column: error.column,
                                          message: "invalid JSON: \(error.message)", reason: "invalid JSON"))
            }
            var record = try decoder.decode(value, line: line.number, bytes: bytes)
            if decoder.shape.isText { texts.take(from: &record) }
            return .success(record)
        } catch let error as DataError {
            return .failure(error)
        } catch {
            preconditionFailure("PairDecoder throws only DataError")
        }
    }
}
