import UpweightIO

/// Range checks for command-line numbers that are not config keys (`eval --bootstrap`, `synth --n`,
/// `tune --folds`), worded as config values are: `--n: expected a whole number ≥ 1, got -5`.
public enum FlagRange {
    public static func check(_ value: Int, flag: String, in range: ClosedRange<Int>) throws {
        _ = try ConfigValue(value: JSONValue(value), name: flag).integer(in: range)
    }

    public static func check(_ value: Double, flag: String, atLeast lower: Double = -.infinity, above: Double? = nil,
                             below upper: Double = .infinity) throws {
        _ = try ConfigValue(value: .number(value), name: flag).number(atLeast: lower, above: above, below: upper)
    }
}
