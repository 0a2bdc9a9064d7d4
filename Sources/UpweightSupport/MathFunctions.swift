/// log(1 + eˣ) without overflow: max(x, 0) + log1p(e^−|x|).
@inline(__always)
public func softplus(_ x: Double) -> Double { max(x, 0) + log1p(exp(-abs(x))) }

/// 1 / (1 + e^−x), stable for large |x|.
@inline(__always)
public func sigmoid(_ x: Double) -> Double {
    if x >= 0 { return 1 / (1 + exp(-x)) }
    let e = exp(x)
    return e / (1 + e)
}

/// Σ aᵢbᵢ.
package func dot(_ a: [Double], _ b: [Double]) -> Double {
    var total = 0.0
    for index in a.indices { total += a[index] * b[index] }
    return total
}

package func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }

/// The arithmetic mean; NaN for no values (written as null in JSON).
package func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
