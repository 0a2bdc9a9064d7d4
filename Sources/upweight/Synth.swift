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
    @Option(parsing: .unconditional, help: "Random seed.") var seed = Seed(0)
    @Option(help: "Output JSONL file (written atomically).") var out: String

    func validate() throws {
        if text && dim != nil { throw ValidationError("--text and --dim exclude each other") }
    }

    func run() throws {
        try reportingErrors {
            var synthesis = SynthesisRun(out: out)
            synthesis.pairs = n
            synthesis.dimension = dim
            synthesis.text = text
            synthesis.categories = categories
            synthesis.categoryStrength = categoryStrength
            synthesis.nonlinear = nonlinear
            synthesis.noise = noise
            synthesis.labelFlip = labelFlip
            synthesis.testFraction = testFraction
            synthesis.seed = try seed.value()
            print(try synthesis.run(), terminator: "")
        }
    }
}
