import UpweightSupport
import UpweightIO
import UpweightData
import UpweightTraining

/// A whole `synth` run: check every number before anything is generated (the output is built in
/// memory), generate the pairs, write them atomically, and return the summary: the Bayes-optimal
/// accuracy overall and per category, as JSON. The CLI calls this and prints.
public struct SynthesisRun {
    public var out: String
    public var pairs = 10_000
    /// Dense feature dimension (nil: 32, unless `text`).
    public var dimension: Int?
    /// Text pairs (pseudo-words) instead of dense vectors.
    public var text = false
    /// `NAME:SHARE,...` (nil: `SyntheticSpecification`'s categories).
    public var categories: String?
    public var categoryStrength = 0.5
    public var nonlinear = 0.0
    public var noise = 1.0
    /// `RATE` for every category, or `NAME:RATE,...`.
    public var labelFlip: String?
    public var testFraction = 0.2
    public var seed: UInt64 = 0

    public init(out: String) { self.out = out }

    /// Every number in range before anything is generated.
    private func checkNumbers() throws {
        try FlagRange.check(pairs, flag: "--n", in: 1...10_000_000)
        if let dimension {
            try FlagRange.check(dimension, flag: "--dim", in: 1...65_536)
            guard pairs * dimension <= 100_000_000 else {
                throw UsageError("--n × --dim: expected at most 100000000 numbers per side, got \(pairs) × \(dimension)")
            }
        }
        try FlagRange.check(categoryStrength, flag: "--category-strength", atLeast: 0)
        try FlagRange.check(nonlinear, flag: "--nonlinear", atLeast: 0)
        try FlagRange.check(noise, flag: "--noise", above: 0)
        try FlagRange.check(testFraction, flag: "--test-fraction", atLeast: 0, below: 1)
    }

    /// Generates and writes the pairs; returns the summary (pretty JSON).
    public func run() throws -> String {
        try checkNumbers()
        try OutputPath.checkFile(out, flag: "--out")
        var specification = SyntheticSpecification()
        specification.pairs = pairs
        specification.dimension = text ? nil : (dimension ?? 32)
        if let categories {
            specification.categories = try Self.parseShares(categories, flag: "--categories")
            guard specification.categories.contains(where: { $0.share > 0 }) else {
                throw UsageError("--categories: expected at least one share > 0, got \"\(categories)\"")
            }
        }
        specification.categoryStrength = categoryStrength
        specification.nonlinear = nonlinear
        specification.noise = noise
        specification.testFraction = testFraction
        specification.seed = seed
        if let labelFlip {
            if let rate = Double(labelFlip) {
                try FlagRange.check(rate, flag: "--label-flip", atLeast: 0, below: 1)
                for category in specification.categories { specification.labelFlip[category.name] = rate }
            } else {
                for (name, rate) in try Self.parseShares(labelFlip, flag: "--label-flip") {
                    try FlagRange.check(rate, flag: "--label-flip (category \"\(name)\")", atLeast: 0, below: 1)
                    specification.labelFlip[name] = rate
                }
            }
        }
        let data = specification.generate()
        try Files.writeAtomically(data.jsonl, to: out)
        var categories = JSONObject()
        for entry in data.bayesAccuracyByCategory {
            categories[entry.name] = ["pairs": JSONValue(entry.pairs), "bayes_accuracy": .number(entry.accuracy)]
        }
        return JSONValue.object(JSONObject([("out", .string(out)), ("pairs", JSONValue(pairs)),
                                            ("bayes_accuracy", .number(data.bayesAccuracy)),
                                            ("categories", .object(categories))])).prettyText
    }

    private static func parseShares(_ text: String, flag: String) throws -> [(name: String, share: Double)] {
        try text.split(separator: ",").map { part in
            let pieces = part.split(separator: ":")
            guard pieces.count == 2, let value = Double(pieces[1]), value >= 0, value.isFinite else {
                throw UsageError("\(flag) expects NAME:NUMBER,..., got \"\(part)\"")
            }
            return (String(pieces[0]), value)
        }
    }
}
