import UpweightSupport

/// The hidden layers' nonlinearity.
public enum Activation: String, CaseIterable, Sendable {
    /// max(0, z).
    case relu
    /// z·Φ(z) with the exact normal CDF Φ(z) = ½(1 + erf(z/√2)): torch's default `nn.GELU()`, not its tanh approximation.
    case gelu
    /// tanh(z).
    case tanh

    /// H = act(Z), elementwise.
    package func apply(_ z: [Float]) -> [Float] {
        switch self {
        case .relu: return mapElements(z) { max($0, 0) }
        case .gelu: return mapElements(z) { $0 * 0.5 * (1 + erff($0 * 0.70710678)) }
        case .tanh: return mapElements(z) { tanhf($0) }
        }
    }

    /// dZ = dH ⊙ act′(Z), in place over `gradient` (dH in, dZ out); H = act(Z) saves tanh a call.
    package func backward(_ z: [Float], _ h: [Float], gradient: inout [Float]) {
        switch self {
        case .relu:
            updateElements(&gradient, with: z) { g, z in z <= 0 ? 0 : g }
        case .gelu:
            // d/dz z·Φ(z) = Φ(z) + z·φ(z), φ(z) = e^(−z²/2)/√(2π)
            updateElements(&gradient, with: z) { g, x in g * (0.5 * (1 + erff(x * 0.70710678)) + x * 0.39894228 * expf(-0.5 * x * x)) }
        case .tanh:
            updateElements(&gradient, with: h) { g, h in g * (1 - h * h) }
        }
    }
}
