import UpweightSupport

/// The model against a baseline model on the same pairs, per category and overall.
public struct Comparison: Sendable, Equatable {
    /// accuracy(model) − accuracy(baseline), both under the report's tie policy.
    public var accuracyDelta: Double
    /// Paired percentile bootstrap 95% interval of the difference (see `Bootstrap`).
    public var interval: Interval
    /// Exact two-sided McNemar test (see `mcNemarPValue`).
    public var pValue: Double
    /// The baseline's own accuracy and bootstrap interval (for the HTML report's bars).
    public var baselineAccuracy: Double
    public var baselineInterval: Interval

    /// True when the interval excludes 0: the table marks these with `*`.
    public var isSignificant: Bool { interval.excludes(0) }
}

/// Exact two-sided McNemar test: under "neither model is better", each of the n = b + c discordant
/// pairs (b: only the model is right, c: only the baseline is right) is the model's with probability
/// ½, so b ~ Binomial(n, ½) and
///
///     p = min(1, 2 · P(X ≤ min(b, c))) = min(1, 2 · Σ_{i ≤ min(b,c)} C(n, i) / 2ⁿ)
///
/// (scipy's `binomtest(b, n, 0.5).pvalue`). "Right" means Δ > 0: a tie counts as wrong here, since
/// McNemar needs each pair to be right or wrong; p = 1 when there are no discordant pairs.
public func mcNemarPValue(modelOnly b: Int, baselineOnly c: Int) -> Double {
    let n = b + c
    guard n > 0 else { return 1 }
    // Terms in log space: C(n, i) / 2ⁿ underflows for n beyond about 1000.
    let logHalfPower = Double(n) * log(0.5)
    func logChoose(_ i: Int) -> Double { lgamma(Double(n + 1)) - lgamma(Double(i + 1)) - lgamma(Double(n - i + 1)) }
    var tail = 0.0
    for i in 0...min(b, c) { tail += exp(logChoose(i) + logHalfPower) }
    return min(1, 2 * tail)
}

/// The discordant counts (b, c) of two models' margins on the same pairs; a tie counts as wrong.
package func discordantCounts(model: [Double], baseline: [Double]) -> (modelOnly: Int, baselineOnly: Int) {
    var modelOnly = 0, baselineOnly = 0
    for (ours, theirs) in zip(model, baseline) where (ours > 0) != (theirs > 0) {
        if ours > 0 { modelOnly += 1 } else { baselineOnly += 1 }
    }
    return (modelOnly, baselineOnly)
}
