#if canImport(Glibc)
import Glibc
#endif

/// Adam with decoupled weight decay (Loshchilov & Hutter 2019), with bias correction:
///
///     m ← β₁m + (1−β₁)g,   v ← β₂v + (1−β₂)g²
///     θ ← θ − η·( m̂ / (√v̂ + ε) + decay·θ ),   m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)
///
/// The L2 term of the objective is already in g; `weightDecay` is the separate, decoupled decay.
public struct AdamW: Sendable {
    public var learningRate: Double
    public var beta1 = 0.9
    public var beta2 = 0.999
    public var epsilon = 1e-8
    public var weightDecay = 0.0
    public private(set) var step = 0
    private var firstMoment: [Double] = []
    private var secondMoment: [Double] = []

    public init(learningRate: Double, weightDecay: Double = 0) {
        self.learningRate = learningRate
        self.weightDecay = weightDecay
    }

    package var firstMomentValues: [Double] { firstMoment }
    package var secondMomentValues: [Double] { secondMoment }

    /// Puts back the state `state` (MinibatchTraining.swift) saved.
    package mutating func restoreState(step: Int, firstMoment: [Double], secondMoment: [Double]) {
        self.step = step
        self.firstMoment = firstMoment
        self.secondMoment = secondMoment
    }

    /// One update of `parameters` from `gradient`, at learning rate `rate` (a schedule may vary it).
    public mutating func update(_ parameters: inout [Double], gradient: [Double], rate: Double? = nil) {
        if firstMoment.isEmpty {
            firstMoment = [Double](repeating: 0, count: parameters.count)
            secondMoment = firstMoment
        }
        step += 1
        let eta = rate ?? learningRate
        let correction1 = 1 - pow(beta1, Double(step))
        let correction2 = 1 - pow(beta2, Double(step))
        for index in parameters.indices {
            let g = gradient[index]
            firstMoment[index] = beta1 * firstMoment[index] + (1 - beta1) * g
            secondMoment[index] = beta2 * secondMoment[index] + (1 - beta2) * g * g
            let mHat = firstMoment[index] / correction1
            let vHat = secondMoment[index] / correction2
            parameters[index] -= eta * (mHat / (vHat.squareRoot() + epsilon) + weightDecay * parameters[index])
        }
    }
}
