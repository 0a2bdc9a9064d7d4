import ArgumentParser
import Upweight

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write synthetic pairs with a planted Bradley-Terry reward; print the Bayes-optimal accuracy per category.")

    @Option(parsing: .unconditional, help: "Number of pairs.") var n = 10_000
    @Option(parsing: .unconditional, help: "Dense feature dimension (default 32).") var dim: Int?
    @Flag(help: "Text pairs (pseudo-words) instead of dense vectors.") var text = false
    @Option(help: "Categories and their shares, NAME:SHARE,... (default general:0.7,safety:0.2,math:0.1).") var categories: String?
    @Option(parsing: .unconditional, help: "How much the categories' true rewards disagree.") var categoryStrength = 0.5
    @Option(parsing: .unconditional, help: "Dense: weight of a quadratic term no linear model can fit.") var nonlinear = 0.0
    @Option(parsing: .unconditional, help: "Bradley-Terry temperature: P(a ≻ b) = σ((r(a) − r(b))/noise).") var noise = 1.0
    @Option(parsing: .unconditional, help: "Label flip rate: RATE for every category, or NAME:RATE,...") var labelFlip: String?
    @Option(parsing: .unconditional, help: "Fraction of pairs marked \"split\": \"test\".") var testFraction = 0.2
    @Option(parsing: .unconditional, help: "Random seed.") var seed = 0
    @Option(help: "Output JSONL file (written atomically).") var out: String

    func validate() throws {
        if text && dim != nil { throw ValidationError("--text and --dim exclude each other") }
    }

    /// Every number in range before anything is generated: synth builds its output in memory.
    private func checkNumbers() throws {
        try FlagRange.check(n, flag: "--n", in: 1...10_000_000)
        if let dim {
            try FlagRange.check(dim, flag: "--dim", in: 1...65_536)
            guard n * dim <= 100_000_000 else {
                throw UsageError("--n × --dim: expected at most 100000000 numbers per side, got \(n) × \(dim)")
            }
        }
        try FlagRange.check(categoryStrength, flag: "--category-strength", atLeast: 0)
        try FlagRange.check(nonlinear, flag: "--nonlinear", atLeast: 0)
        try FlagRange.check(noise, flag: "--noise", above: 0)
        try FlagRange.check(testFraction, flag: "--test-fraction", atLeast: 0, below: 1)
        try FlagRange.check(seed, flag: "--seed", in: 0...Int.max)
    }

    func run() throws {
        try reportingErrors {
            try checkNumbers()
            try OutputPath.checkFile(out, flag: "--out")
            var specification = SyntheticSpecification()
            specification.pairs = n
            specification.dimension = text ? nil : (dim ?? 32)
            if let categories {
                specification.categories = try parseShares(categories, flag: "--categories")
                guard specification.categories.contains(where: { $0.share > 0 }) else {
                    throw UsageError("--categories: expected at least one share > 0, got \"\(categories)\"")
                }
            }
            specification.categoryStrength = categoryStrength
            specification.nonlinear = nonlinear
            specification.noise = noise
            specification.testFraction = testFraction
            specification.seed = UInt64(seed)
            if let labelFlip {
                if let rate = Double(labelFlip) {
                    try FlagRange.check(rate, flag: "--label-flip", atLeast: 0, below: 1)
                    for category in specification.categories { specification.labelFlip[category.name] = rate }
                } else {
                    for (name, rate) in try parseShares(labelFlip, flag: "--label-flip") {
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
            print(JSONValue.object(JSONObject([("out", .string(out)), ("pairs", JSONValue(n)),
                                               ("bayes_accuracy", .number(data.bayesAccuracy)),
                                               ("categories", .object(categories))])).prettyText, terminator: "")
        }
    }

    private func parseShares(_ text: String, flag: String) throws -> [(name: String, share: Double)] {
        try text.split(separator: ",").map { part in
            let pieces = part.split(separator: ":")
            guard pieces.count == 2, let value = Double(pieces[1]), value >= 0, value.isFinite else {
                throw UsageError("\(flag) expects NAME:NUMBER,..., got \"\(part)\"")
            }
            return (String(pieces[0]), value)
        }
    }
}
