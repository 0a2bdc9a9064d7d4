#if canImport(Glibc)
import Glibc
#endif

/// The hidden layers' nonlinearity.
public enum Activation: String, CaseIterable, Sendable {
    /// max(0, z).
    case relu
    /// z·Φ(z) with the exact normal CDF Φ(z) = ½(1 + erf(z/√2)): torch's default `nn.GELU()`, not its tanh approximation.
    case gelu
    /// tanh(z).
    case tanh

    /// H = act(Z), elementwise over `count` values.
    package func apply(_ z: UnsafePointer<Float>, into h: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .relu: for i in 0..<count { h[i] = max(z[i], 0) }
        case .gelu: for i in 0..<count { h[i] = z[i] * 0.5 * (1 + erff(z[i] * 0.70710678)) }
        case .tanh: for i in 0..<count { h[i] = tanhf(z[i]) }
        }
    }

    /// dZ = dH ⊙ act′(Z), in place over `gradient` (dH in, dZ out); H = act(Z) saves tanh a call.
    package func backward(_ z: UnsafePointer<Float>, _ h: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .relu:
            for i in 0..<count where z[i] <= 0 { gradient[i] = 0 }
        case .gelu:
            // d/dz z·Φ(z) = Φ(z) + z·φ(z), φ(z) = e^(−z²/2)/√(2π)
            for i in 0..<count {
                let x = z[i]
                let derivative = 0.5 * (1 + erff(x * 0.70710678)) + x * 0.39894228 * expf(-0.5 * x * x)
                gradient[i] *= derivative
            }
        case .tanh:
            for i in 0..<count { gradient[i] *= 1 - h[i] * h[i] }
        }
    }
}
