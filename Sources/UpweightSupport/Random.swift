/// SplitMix64 (Steele et al. 2014): a tiny, fast, seeded generator; the same seed gives the same stream on every machine.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A uniform Double in [0, 1) from the top 53 bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }
}

extension Array {
    /// Fisher–Yates with an explicit generator, independent of the standard library's shuffle algorithm.
    package mutating func seededShuffle(using generator: inout SplitMix64) {
        guard count > 1 else { return }
        for index in stride(from: count - 1, to: 0, by: -1) {
            let other = Int(generator.next() % UInt64(index + 1))
            swapAt(index, other)
        }
    }
}

/// Two independent standard normal values from two uniforms, u₁ ∈ (0, 1] and u₂ ∈ [0, 1):
/// r = √(−2 ln u₁), θ = 2π u₂, (r cos θ, r sin θ) (Box & Muller 1958).
@inline(__always)
package func boxMuller(_ u1: Double, _ u2: Double) -> (Double, Double) {
    let radius = (-2 * log(u1)).squareRoot()
    let angle = 2 * Double.pi * u2
    return (radius * cos(angle), radius * sin(angle))
}

/// Standard normal samples from SplitMix64 by the Box–Muller transform (both values of each draw used).
package struct NormalSampler {
    private var generator: SplitMix64
    private var spare: Double?

    package init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    package mutating func next() -> Double {
        if let spare {
            self.spare = nil
            return spare
        }
        let (value, spare) = boxMuller(1 - generator.nextUnit(), generator.nextUnit())  // 1 − u ∈ (0, 1]: no log(0)
        self.spare = spare
        return value
    }
}
