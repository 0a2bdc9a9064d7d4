/// Conversions from numbers that came from outside (JSON, flags, file headers) to integers and
/// sizes. Swift's `Int(x)` traps on NaN, infinities and values beyond Int.max, and `a * b` traps on
/// overflow; a damaged file must get a message instead, so every such conversion goes through here
// (whole numbers from JSON: UpweightIO's JSONWholeNumber.swift).

/// The product of `factors`, or nil when it overflows Int (or a factor is negative).
public func checkedProduct(_ factors: [Int]) -> Int? {
    var product = 1
    for factor in factors {
        guard factor >= 0 else { return nil }
        let (result, overflow) = product.multipliedReportingOverflow(by: factor)
        if overflow { return nil }
        product = result
    }
    return product
}

/// The sum of `terms`, or nil when it overflows Int.
public func checkedSum(_ terms: [Int]) -> Int? {
    var sum = 0
    for term in terms {
        let (result, overflow) = sum.addingReportingOverflow(term)
        if overflow { return nil }
        sum = result
    }
    return sum
}

extension DataError {
    /// A model directory or checkpoint file that is damaged or was not written by Upweight: these
    /// are untrusted input, refused with exit 65 like a bad data line.
    package static func invalidModel(_ file: String, _ message: String) -> DataError {
        DataError(file: file, message: message, reason: "invalid model file")
    }
}
