/// "+0.012" / "-0.030": a difference always shows its sign.
public func signed(_ value: Double) -> String { (value > 0 ? "+" : "") + fixed(value, 3) }

/// Three significant decimals, or "<0.001".
package func pValueText(_ value: Double) -> String { value < 0.001 ? "<0.001" : fixed(value, 3) }

/// `value` with `digits` decimals, rounded half away from zero ("0.750").
public func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    // Beyond 2^53 a Double has no decimals left to show, and Int64 would trap: print it as Swift does ("1e+16").
    guard scaled < 0x1p53 else { return "\(value)" }
    let whole = Int64(scaled / scale)
    var fraction = String(Int64(scaled) - whole * Int64(scale))
    fraction = String(repeating: "0", count: max(0, digits - fraction.count)) + fraction
    let sign = value < 0 && scaled != 0 ? "-" : ""
    return digits == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
}

/// "1.23 s" since `start`.
package func seconds(since start: ContinuousClock.Instant) -> String { "\(fixed(elapsedSeconds(since: start), 2)) s" }

/// Seconds since `start`, as a number (the training log's `seconds`).
package func elapsedSeconds(since start: ContinuousClock.Instant) -> Double { (ContinuousClock.now - start).inSeconds }

extension Duration {
    /// The duration in seconds, as a number.
    package var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}

/// "2026-11-30T06:16:11Z": ISO 8601 in UTC, to the second.
package func iso8601UTC(_ secondsSince1970: Int) -> String {
    var seconds = time_t(secondsSince1970)
    var parts = tm()
    guard gmtime_r(&seconds, &parts) != nil else { return "unknown date" }
    func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
}
