import UpweightSupport
import UpweightIO

/// Reading as one of several MPI ranks: each rank reads only its own contiguous run of the files'
/// blocks (`FileBlocks.share`) into a scratch file or a cache entry of its own, then the ranks put
/// together what one process would have read. Every rank ends with every pair's columns (the
/// metadata: 60–80 bytes a pair, for splits, weights and reports), every unit's place, and the
/// rows of its own units only. Since units end at block ends, they are the units one process
/// makes, so sums taken unit by unit and added in unit order keep one process's bits.
extension StreamedPairs {
    /// `read(paths:…)` shared among the ranks of `collective`. A bad line is reported by the rank
    /// that read it, at its line number in the file (the ranks before it say how many lines they
    /// read of each file); checks that need the whole read (an empty file, one dimension, one kind
    /// of pairs, any pairs at all) are made once every rank has read, with the messages one process gives.
    public static func readShare(paths: [String], options: ReadOptions, hashing: Featurizer?, directory: String?,
                                 collective: any Collective, note: (String) -> Void = { _ in }) throws -> (StreamedPairs, ReadSummary) {
        let plan = try collective.agreeing { try FileBlocks.plan(paths, blockBytes: options.blockBytes) }
        let planText = plan.map { "\($0.file):\($0.bytes.map { "\($0.lowerBound)-\($0.upperBound)" } ?? "whole"):\($0.size)" }.joined(separator: ",")
        try collective.requireSame([("training data", planText)])  // files of other sizes
        let blocks = FileBlocks.share(plan, rank: collective.rank, ranks: collective.size)
        let bytes = plan[blocks].reduce(0) { $0 + $1.size }
        note("note: MPI rank \(collective.rank) of \(collective.size) reads blocks \(blocks.lowerBound)..<\(blocks.upperBound) of \(plan.count) (\(bytes) bytes); each rank reads its own")

        var local: (pairs: StreamedPairs, summary: ReadSummary)?
        var failure: Error?
        do { local = try read(paths: paths, options: options, hashing: hashing, directory: directory, share: (plan, blocks), note: note) } catch { failure = error }
        let accounts = collective.allgather(local.map { ShareAccount(pairs: $0.pairs, summary: $0.summary).json.compactText } ?? "")
            .map { try? ShareAccount(text: $0, files: paths.count) }
        // A bad line's number in its file: the lines of the shares before this one come first.
        if var error = failure as? DataError, let line = error.line, let file = paths.firstIndex(of: error.file) {
            error.line = line + accounts[..<collective.rank].reduce(0) { $0 + ($1?.newlines[file] ?? 0) }
            failure = error
        }
        try collective.agree(failure)
        guard let local else { throw PeerFailed() }
        let metadata = collective.allgather(CachedMetadata.encode(local.pairs.metadata))
        var shares: [(account: ShareAccount, metadata: PreferenceDataset)] = []
        for (rank, account) in accounts.enumerated() {
            guard let account, let dataset = try? CachedMetadata.decode(metadata[rank], pairs: account.pairs) else {
                throw IOError("MPI rank \(rank) sent an account of its share of the read that does not decode")
            }
            shares.append((account, dataset))
        }
        let summary = try mergedSummary(shares.map(\.account), paths: paths)
        let (dataset, dimension) = try merged(shares, paths: paths)

        var unitStarts = [0]
        var unitsByRank: [Range<Int>] = []
        for share in shares {
            let first = unitStarts[unitStarts.count - 1]
            unitsByRank.append(unitStarts.count - 1..<unitStarts.count - 1 + share.account.units.count - 1)
            unitStarts += share.account.units.dropFirst().map { first + $0 }
        }
        var layout = Layout.dense
        if dataset.isText, case .hashed(let bits, let includePrompt)? = hashing {
            guard case .hashed(_, _, let units) = local.pairs.layout else { throw IOError("MPI rank \(collective.rank) read dense rows of text pairs") }
            layout = .hashed(hashBits: bits, includePrompt: includePrompt, units: units)
        }
        let pairs = StreamedPairs(metadata: dataset, dimension: dataset.isText ? local.pairs.dimension : dimension, layout: layout,
                                  unitStarts: unitStarts, spill: local.pairs.spill,
                                  shard: Shard(collective: collective, units: unitsByRank[collective.rank], unitsByRank: unitsByRank))
        return (pairs, summary)
    }

    /// The ranks' summaries as one read's, in rank order (which is reading order): counts added,
    /// each file's shape from the first rank that saw one, line numbers moved past the shares before.
    private static func mergedSummary(_ accounts: [ShareAccount], paths: [String]) throws -> ReadSummary {
        var summary = ReadSummary()
        var linesBefore = [Int](repeating: 0, count: paths.count)
        for account in accounts {
            let local = account.summary
            func shifted(_ line: Int?, file: String) -> Int? {
                guard let line, let index = paths.firstIndex(of: file) else { return line }
                return line + linesBefore[index]
            }
            summary.lines += local.lines
            summary.skipped.merge(local.skipped, uniquingKeysWith: +)
            summary.warnings.merge(local.warnings, uniquingKeysWith: +)
            for error in local.firstSkipped where summary.firstSkipped.count < 5 {
                var error = error
                error.line = shifted(error.line, file: error.file)
                summary.firstSkipped.append(error)
            }
            for (warning, places) in local.warningLines {
                for place in places where summary.warningLines[warning, default: []].count < ReadSummary.warningLineLimit {
                    // FILE:LINE
                    guard let colon = place.lastIndex(of: ":"), let line = Int(place[place.index(after: colon)...]) else { continue }
                    let file = String(place[..<colon])
                    summary.warningLines[warning, default: []].append("\(file):\(shifted(line, file: file) ?? line)")
                }
            }
            for (index, file) in local.files.enumerated() {
                if summary.files.count <= index { summary.files.append(file) } else {
                    var total = summary.files[index]
                    if total.shape == nil { (total.shape, total.layout) = (file.shape, file.layout) }
                    if let mine = file.shape, let first = total.shape, mine != first {
                        throw DataError(file: paths[index], line: linesBefore[index] + 1,
                                        message: "holds \(mine.rawValue) pairs from this line on, \(first.rawValue) pairs before it",
                                        reason: "mixed shapes")
                    }
                    (total.pairs, total.lines, total.newlines) = (total.pairs + file.pairs, total.lines + file.lines, total.newlines + file.newlines)
                    summary.files[index] = total
                }
                linesBefore[index] += file.newlines
            }
        }
        // What one process checks as it goes, now that every share is in.
        var lines = 0
        var firstShape: (isText: Bool, file: String)?
        for (index, file) in summary.files.enumerated() {
            lines += file.lines
            if lines == 0 { throw DataError(file: paths[index], message: "no pairs: the file is empty or holds only blank lines", reason: "no pairs") }
            guard let shape = file.shape else { continue }
            if let firstShape, firstShape.isText != shape.isText {
                throw DataError(file: paths[index], message: "has \(shape.isText ? "text" : "dense") pairs, but \(firstShape.file) has \(firstShape.isText ? "text" : "dense") pairs",
                                reason: "mixed shapes")
            }
            firstShape = firstShape ?? (shape.isText, paths[index])
        }
        return summary
    }

    /// The ranks' columns joined in rank order: categories numbered in order of first appearance,
    /// source lines moved past the shares before; and the dense pairs' one dimension.
    private static func merged(_ shares: [(account: ShareAccount, metadata: PreferenceDataset)], paths: [String]) throws -> (PreferenceDataset, Int) {
        var dataset = PreferenceDataset(responses: .dense(dimension: 0, chosen: [], rejected: []), ids: [], categoryNames: [], categoryIndices: [],
                                        exampleWeights: [], margins: [], splits: [], sources: [], files: paths, hashedTexts: nil)
        var categories: [String: Int32] = [:]
        var linesBefore = [Int](repeating: 0, count: paths.count)
        var dimension: (value: Int, rank: Int)?
        let keepsGroups = shares.contains { !$0.metadata.groupFieldKeys.isEmpty }
        var digests: TextDigests?
        for (rank, (account, part)) in shares.enumerated() {
            if account.pairs > 0 && !account.isText {
                if let dimension, dimension.value != account.dimension {
                    let file = Int(part.sources[0].file)
                    throw DataError(file: paths[file], line: Int(part.sources[0].line) + linesBefore[file],
                                    message: "has \(plural(account.dimension, "number", "numbers")) per vector, the pairs before it (read by MPI rank \(dimension.rank)) \(dimension.value)",
                                    field: "chosen_features", reason: "dimension mismatch")
                }
                dimension = dimension ?? (account.dimension, rank)
            }
            let remap = part.categoryNames.map { name -> Int32 in
                if let index = categories[name] { return index }
                categories[name] = Int32(dataset.categoryNames.count)
                dataset.categoryNames.append(name)
                return Int32(dataset.categoryNames.count - 1)
            }
            dataset.categoryIndices += part.categoryIndices.map { remap[Int($0)] }
            dataset.ids += part.ids
            dataset.exampleWeights += part.exampleWeights
            dataset.margins += part.margins
            dataset.splits += part.splits
            if keepsGroups { dataset.groupFieldKeys += part.groupFieldKeys.isEmpty ? [UInt64](repeating: 0, count: part.count) : part.groupFieldKeys }
            dataset.sources += part.sources.map { SourceLocation(file: $0.file, line: Int32(clamping: Int($0.line) + linesBefore[Int($0.file)])) }
            if let text = part.textDigests {
                var joined = digests ?? TextDigests()
                joined.promptKeys += text.promptKeys
                joined.chosenKeys += text.chosenKeys
                joined.rejectedKeys += text.rejectedKeys
                joined.lengthOrder += text.lengthOrder
                digests = joined
            }
            for index in paths.indices { linesBefore[index] += account.newlines[index] }
        }
        guard dataset.count > 0 else {
            let skipped = shares.reduce(0) { $0 + $1.account.summary.skippedCount }
            throw DataError(file: paths.count == 1 ? paths[0] : paths.joined(separator: ", "),
                            message: "no pairs: every line was skipped (\(plural(skipped, "bad line", "bad lines")))", reason: "no pairs")
        }
        dataset.textDigests = digests
        if digests != nil && digests!.promptKeys.count != dataset.count { throw IOError("MPI ranks read text pairs and dense pairs") }
        return (dataset, dimension?.value ?? 0)
    }
}

/// What a rank tells the others of its share of a read, besides its columns: its pairs, units and
/// summary (each file's lines among it).
struct ShareAccount {
    var pairs: Int
    var dimension: Int
    var isText: Bool
    /// Its units' starts, from 0 to `pairs`.
    var units: [Int]
    var summary: ReadSummary
    var newlines: [Int] { summary.files.map(\.newlines) }

    init(pairs: StreamedPairs, summary: ReadSummary) {
        self.pairs = pairs.count
        dimension = pairs.dimension
        isText = pairs.metadata.isText
        units = pairs.unitStarts
        self.summary = summary
    }

    var json: JSONValue {
        .object(JSONObject([("pairs", JSONValue(pairs)), ("dimension", JSONValue(dimension)), ("text", .bool(isText)),
                            ("units", .array(units.map { JSONValue($0) })), ("summary", summary.cacheJSON)]))
    }

    /// The account another rank sent, checked as untrusted.
    init(text: String, files: Int) throws {
        guard case .object(let object) = try JSONParser.parse(Array(text.utf8)),
              let pairs = object["pairs"]?.wholeNumber(in: 0...(1 << 50)), let dimension = object["dimension"]?.wholeNumber(in: 0...(1 << 30)),
              case .bool(let isText)? = object["text"], case .array(let units)? = object["units"],
              let summary = ReadSummary(cacheJSON: object["summary"]), summary.files.count == files
        else { throw IOError("an account of a share that does not decode") }
        self.pairs = pairs
        self.dimension = dimension
        self.isText = isText
        self.units = units.compactMap { $0.wholeNumber(in: 0...pairs) }
        self.summary = summary
        guard self.units.count == units.count, StreamedPairs.validUnitStarts(self.units, pairs: pairs) || (pairs == 0 && self.units == [0]) else {
            throw IOError("an account of a share whose units do not cover its pairs")
        }
    }
}
