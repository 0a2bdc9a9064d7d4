import UpweightSupport
import UpweightIO

/// RewardBench-style sections: groups of categories with a weight each, read from a JSON file
/// `{"SECTION": {"categories": ["NAME", ...], "weight": w}}` (weight defaults to 1). Sections keep
/// the file's order.
///
///     accuracy(section) = Σ_k n_k · accuracy_k / Σ_k n_k      over the section's categories k
///     sections_overall  = Σ_s w_s · accuracy(s) / Σ_s w_s
public struct Sections: Sendable, Equatable {
    public struct Section: Sendable, Equatable {
        public var name: String
        public var categories: [String]
        public var weight: Double
    }

    public var sections: [Section]
    /// Where the sections came from, for messages.
    public var file: String

    public init(sections: [Section], file: String) {
        self.sections = sections
        self.file = file
    }

    /// Reads a sections file; malformed content is a `UsageError` naming the file and the section.
    public static func load(_ path: String) throws -> Sections {
        try Sections(json: try Files.readJSONObject(path), file: path)
    }

    /// Every key a section may hold.
    package static let sectionKeys = ["categories", "weight"]

    public init(json: JSONObject, file: String) throws {
        self.file = file
        sections = try json.members.map { name, value in
            let malformed = UsageError("\(file): section \"\(name)\" needs {\"categories\": [names of categories], \"weight\": number}")
            guard case .object(let body) = value else { throw malformed }
            // A misspelt "weight" would otherwise leave the section silently at weight 1.
            for key in body.keys where !Self.sectionKeys.contains(key) {
                let suggestion = closestMatch(to: key, in: Self.sectionKeys).map { " (did you mean \"\($0)\"?)" } ?? ""
                throw UsageError("\(file): section \"\(name)\": unknown key \"\(key)\"\(suggestion)")
            }
            guard case .array(let names)? = body["categories"] else { throw malformed }
            let categories = names.compactMap(\.stringValue)
            guard categories.count == names.count, !categories.isEmpty else { throw malformed }
            let weight = body["weight"]?.numberValue ?? (body["weight"] == nil ? 1 : .nan)
            guard weight.isFinite, weight >= 0 else {
                throw UsageError("\(file): section \"\(name)\": weight must be a finite number ≥ 0")
            }
            return Section(name: name, categories: categories, weight: weight)
        }
        guard !sections.isEmpty, sections.contains(where: { $0.weight > 0 }) else {
            throw UsageError("\(file): expected at least one section with a weight > 0")
        }
    }

    /// Throws a `UsageError` naming every category of the file that the data does not have.
    public func validate(categories present: [String]) throws {
        let known = Set(present)
        var unknown: [String] = []
        for name in sections.flatMap(\.categories) where !known.contains(name) && !unknown.contains(name) { unknown.append(name) }
        guard unknown.isEmpty else {
            let names = unknown.map { "\"\($0)\"" }.joined(separator: ", ")
            let have = present.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            throw UsageError("\(file): unknown \(unknown.count == 1 ? "category" : "categories") \(names) (the data has \(have))")
        }
    }
}

extension EvaluationReport {
    /// One section's result.
    public struct SectionResult: Sendable, Equatable {
        public var name: String
        public var accuracy: Double
        public var pairs: Int
        public var weight: Double
    }

    /// The sections' accuracies from the categories' and their weighted mean.
    package static func score(_ sections: Sections, categories: [(name: String, metrics: Metrics)])
        -> (sections: [SectionResult], overall: Double)
    {
        let byName = Dictionary(categories.map { ($0.name, $0.metrics) }, uniquingKeysWith: { first, _ in first })
        let results = sections.sections.map { section in
            let members = section.categories.compactMap { byName[$0] }
            let pairs = members.reduce(0) { $0 + $1.pairs }
            let accuracy = members.reduce(0) { $0 + Double($1.pairs) * $1.accuracy } / Double(pairs)
            return SectionResult(name: section.name, accuracy: accuracy, pairs: pairs, weight: section.weight)
        }
        let totalWeight = results.reduce(0) { $0 + $1.weight }
        return (results, results.reduce(0) { $0 + $1.weight * $1.accuracy } / totalWeight)
    }
}
