/// Whole numbers from JSON, checked: `Int(x)` traps on NaN, ±inf and values beyond Int.max.
extension JSONValue {
    /// The value as a whole number within `range`; nil for a fraction, NaN, ±inf, 1e300, a value
    /// outside `range` or a value that is not a number.
    public func wholeNumber(in range: ClosedRange<Int>) -> Int? {
        let whole: Int?
        switch self {
        case .integer(let value): whole = Int(exactly: value)
        case .number(let value): whole = Int(exactly: value)
        default: whole = nil
        }
        guard let whole, range.contains(whole) else { return nil }
        return whole
    }
}
