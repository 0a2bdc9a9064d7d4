import ArgumentParser
import Upweight

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write synthetic pairs with a planted Bradley-Terry reward; print the Bayes-optimal accuracy per category.")

    @Option(help: "Number of pairs.") var n = 10_000
    @Option(help: "Dense feature dimension (default 32).") var dim: Int?
    @Flag(help: "Text pairs (pseudo-words) instead of dense vectors.") var text = false
    @Option(help: "Categories and their shares, NAME:SHARE,... (default general:0.7,safety:0.2,math:0.1).") var categories: String?
    @Option(help: "How much the categories' true rewards disagree.") var categoryStrength = 0.5
    @Option(help: "Dense: weight of a quadratic term no linear model can fit.") var nonlinear = 0.0
    @Option(help: "Bradley-Terry temperature: P(a ≻ b) = σ((r(a) − r(b))/noise).") var noise = 1.0
    @Option(help: "Label flip rate: RATE for every category, or NAME:RATE,...") var labelFlip: String?
    @Option(help: "Fraction of pairs marked \"split\": \"test\".") var testFraction = 0.2
    @Option(help: "Random seed.") var seed = 0
    @Option(help: "Output JSONL file (written atomically).") var out: String

    func validate() throws {
        guard n > 0 else { throw ValidationError("--n must be positive") }
        if let dim, dim < 1 { throw ValidationError("--dim must be positive") }
        if text && dim != nil { throw ValidationError("--text and --dim exclude each other") }
        guard noise > 0 else { throw ValidationError("--noise must be > 0") }
        guard (0..<1).contains(testFraction) else { throw ValidationError("--test-fraction must be in [0, 1)") }
    }

    func run() throws {
        try reportingErrors {
            try OutputPath.checkFile(out, flag: "--out")
            var specification = SyntheticSpecification()
            specification.pairs = n
            specification.dimension = text ? nil : (dim ?? 32)
            if let categories { specification.categories = try parseShares(categories, flag: "--categories") }
            specification.categoryStrength = categoryStrength
            specification.nonlinear = nonlinear
            specification.noise = noise
            specification.testFraction = testFraction
            specification.seed = UInt64(seed)
            if let labelFlip {
                if let rate = Double(labelFlip) {
                    for category in specification.categories { specification.labelFlip[category.name] = rate }
                } else {
                    for (name, rate) in try parseShares(labelFlip, flag: "--label-flip") { specification.labelFlip[name] = rate }
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
            guard pieces.count == 2, let value = Double(pieces[1]), value >= 0 else {
                throw UsageError("\(flag) expects NAME:NUMBER,..., got \"\(part)\"")
            }
            return (String(pieces[0]), value)
        }
    }
}
