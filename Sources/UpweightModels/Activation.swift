import UpweightSupport

/// The hidden layers' nonlinearity.
public enum Activation: String, CaseIterable, Sendable {
    /// max(0, z).
    case relu
    /// z·Φ(z) with the exact normal CDF Φ(z) = ½(1 + erf(z/√2)): torch's default `nn.GELU()`, not its tanh approximation.
    case gelu
    /// tanh(z).
    case tanh

    /// Z += b on every row, then H = act(Z), in one pass over Z: (N, b.count). From 64 rows on,
    /// `threads` threads take blocks of rows; no element's arithmetic depends on the split.
    package func applyAddingBias(_ bias: [Float], to z: inout [Float], threads: Int) -> [Float] {
        addBiasThenMap(bias, to: &z, threads: threads, applying).result
    }

    /// `applyAddingBias`, and the output layer's rewards r = H·v (N) in the same pass over each row.
    package func applyAddingBias(_ bias: [Float], to z: inout [Float], scoringWith v: [Float], threads: Int)
        -> (outputs: [Float], rewards: [Float])
    {
        let (outputs, rewards) = addBiasThenMap(bias, to: &z, scoring: v, threads: threads, applying)
        return (outputs, rewards)
    }

    /// One row of Z += b, H = act(Z); one loop per activation, each with its function inlined.
    @inline(__always)
    private func applying(_ z: UnsafeMutablePointer<Float>, _ h: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, _ width: Int) {
        switch self {
        case .relu: addBiasThenMap(row: z, into: h, bias: bias, width: width) { max($0, 0) }
        case .gelu: addBiasThenMap(row: z, into: h, bias: bias, width: width) { $0 * 0.5 * (1 + erff($0 * 0.70710678)) }
        case .tanh: addBiasThenMap(row: z, into: h, bias: bias, width: width) { tanhf($0) }
        }
    }

    /// dZ = dH ⊙ act′(Z), in place over `gradient` (dH in, dZ out); H = act(Z) saves tanh a call.
    package func backward(_ z: [Float], _ h: [Float], gradient: inout [Float], threads: Int) {
        updateElements(&gradient, with: derivativeOperand(z, h), threads: threads) { g, x, count in
            multiplyByDerivative(g, at: x, count: count)
        }
    }

    /// dZ = (dr ⊗ v) ⊙ act′(Z) for the last hidden layer (N, v.count): its upstream gradient
    /// dH[n, c] = dr[n]·v[c] is formed row by row and multiplied by act′ while in cache. From 64 rows
    /// on, `threads` threads take blocks of rows; each element is `backward`'s on dr ⊗ v, bit for bit.
    package func backward(fromRewardGradient dr: [Float], outputWeights v: [Float], _ z: [Float], _ h: [Float], threads: Int) -> [Float] {
        precondition(z.count == dr.count * v.count && h.count == z.count, "the layer is not (rewards, output weights)")
        return outerProduct(dr, v, thenUpdatingWith: derivativeOperand(z, h), threads: threads) { g, x, count in
            multiplyByDerivative(g, at: x, count: count)
        }
    }

    /// What act′ is computed from: H for tanh (1 − h²), else Z.
    private func derivativeOperand(_ z: [Float], _ h: [Float]) -> [Float] { self == .tanh ? h : z }

    /// g[i] *= act′ at x[i], for i in 0..<count; one loop per activation, each with its function inlined.
    @inline(__always)
    private func multiplyByDerivative(_ g: UnsafeMutablePointer<Float>, at x: UnsafePointer<Float>, count: Int) {
        switch self {
        case .relu:
            updateElements(g, with: x, count: count) { g, z in z <= 0 ? 0 : g }
        case .gelu:
            // d/dz z·Φ(z) = Φ(z) + z·φ(z), φ(z) = e^(−z²/2)/√(2π)
            updateElements(g, with: x, count: count) { g, x in g * (0.5 * (1 + erff(x * 0.70710678)) + x * 0.39894228 * expf(-0.5 * x * x)) }
        case .tanh:
            updateElements(g, with: x, count: count) { g, h in g * (1 - h * h) }
        }
    }
}
