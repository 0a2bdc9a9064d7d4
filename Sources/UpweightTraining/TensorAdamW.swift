#if canImport(Glibc)
import Glibc
#endif
import UpweightSupport
import UpweightModels

/// AdamW (see `AdamW`) for Float32 tensors, one moment buffer per tensor:
///
///     m ← β₁m + (1−β₁)g,   v ← β₂v + (1−β₂)g²
///     θ ← θ − η·( m̂ / (√v̂ + ε) + decay·θ ),   m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)
///
/// A tensor may be updated in a subset of its rows only (the rows of W₁ a sparse batch touched): the
/// other rows keep their values and moments, as torch.optim.SparseAdam does ("lazy" Adam). A full
/// update of a 2^18-row embedding would cost more than the whole forward and backward pass.
public struct TensorAdamW: Sendable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Double
    /// Threads for the update of large tensors; the result does not depend on it.
    public var threads: Int
    public private(set) var step = 0
    private var firstMoments: [[Float]] = []
    private var secondMoments: [[Float]] = []

    package var firstMomentValues: [[Float]] { firstMoments }
    package var secondMomentValues: [[Float]] { secondMoments }

    /// Puts back what a checkpoint saved (MinibatchTraining.swift).
    package mutating func restoreState(step: Int, firstMoments: [[Float]], secondMoments: [[Float]]) {
        self.step = step
        self.firstMoments = step == 0 ? [] : firstMoments
        self.secondMoments = step == 0 ? [] : secondMoments
    }

    public init(weightDecay: Double = 0, threads: Int = 1) {
        self.weightDecay = weightDecay
        self.threads = threads
    }

    /// One step over every tensor at learning rate `rate`; tensor `sparseTensor` (if given) only in
    /// `rows`, each `rowWidth` values long. The rows must be distinct (MLPGradient lists each once):
    /// threads update disjoint rows.
    public mutating func update(_ tensors: inout [[Float]], gradients: [[Float]], rate: Double,
                                sparseTensor: (index: Int, rows: [Int32], rowWidth: Int)? = nil)
    {
        precondition(gradients.map(\.count) == tensors.map(\.count), "gradients do not match the parameters")
        if firstMoments.map(\.count) != tensors.map(\.count) {
            firstMoments = tensors.map { [Float](repeating: 0, count: $0.count) }
            secondMoments = firstMoments
        }
        step += 1
        let rule = Rule(rate: Float(rate), beta1: beta1, beta2: beta2, epsilon: epsilon, decay: Float(weightDecay),
                        inverseCorrection1: Float(1 / (1 - pow(Double(beta1), Double(step)))),
                        inverseCorrection2: Float(1 / (1 - pow(Double(beta2), Double(step)))))
        for tensor in tensors.indices {
            tensors[tensor].withUnsafeMutableBufferPointer { theta in
                gradients[tensor].withUnsafeBufferPointer { g in
                    firstMoments[tensor].withUnsafeMutableBufferPointer { m in
                        secondMoments[tensor].withUnsafeMutableBufferPointer { v in
                            let shared = UncheckedSendable((theta.baseAddress!, g.baseAddress!, m.baseAddress!, v.baseAddress!))
                            // Elementwise (and listed rows are distinct), so splitting across threads changes
                            // no bit; worth it for large tensors: the update is bound by memory.
                            if let sparseTensor, sparseTensor.index == tensor {
                                let (rows, width) = (sparseTensor.rows, sparseTensor.rowWidth)
                                let parts = rows.count * width >= 1 << 16 ? threads : 1
                                _ = parallelMap(parts: parts, threads: parts) { part in
                                    for row in rows[contiguousRanges(count: rows.count, parts: parts)[part]] {
                                        rule.apply(shared.value, from: Int(row) * width, count: width)
                                    }
                                }
                            } else {
                                let parts = theta.count >= 1 << 16 ? threads : 1
                                _ = parallelMap(parts: parts, threads: parts) { part in
                                    let range = contiguousRanges(count: theta.count, parts: parts)[part]
                                    rule.apply(shared.value, from: range.lowerBound, count: range.count)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The update with this step's constants, over a contiguous run of values.
    private struct Rule {
        let rate, beta1, beta2, epsilon, decay, inverseCorrection1, inverseCorrection2: Float

        @inline(__always)
        func apply(_ p: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>),
                   from start: Int, count: Int)
        {
            let (theta, g, m, v) = (p.0 + start, p.1 + start, p.2 + start, p.3 + start)
            var index = 0
            // 16 lanes at a time, then the tail; the same arithmetic either way.
            while index + 16 <= count {
                let gradient = UnsafeRawPointer(g + index).loadUnaligned(as: SIMD16<Float>.self)
                let first = beta1 * UnsafeRawPointer(m + index).loadUnaligned(as: SIMD16<Float>.self) + (1 - beta1) * gradient
                let second = beta2 * UnsafeRawPointer(v + index).loadUnaligned(as: SIMD16<Float>.self) + (1 - beta2) * gradient * gradient
                var value = UnsafeRawPointer(theta + index).loadUnaligned(as: SIMD16<Float>.self)
                value -= rate * ((first * inverseCorrection1) / ((second * inverseCorrection2).squareRoot() + epsilon) + decay * value)
                UnsafeMutableRawPointer(m + index).storeBytes(of: first, as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(v + index).storeBytes(of: second, as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(theta + index).storeBytes(of: value, as: SIMD16<Float>.self)
                index += 16
            }
            while index < count {
                let gradient = g[index]
                m[index] = beta1 * m[index] + (1 - beta1) * gradient
                v[index] = beta2 * v[index] + (1 - beta2) * gradient * gradient
                theta[index] -= rate * ((m[index] * inverseCorrection1) / ((v[index] * inverseCorrection2).squareRoot() + epsilon) + decay * theta[index])
                index += 1
            }
        }
    }
}

extension TensorAdamW {
    /// One step of `model` from `gradient` (from MLPObjective): on sparse input only the listed rows of W₁.
    public mutating func update(_ model: inout MLPRewardModel, gradient: MLPGradient, rate: Double) {
        let sparse = gradient.firstLayerRows.map { (index: 0, rows: $0, rowWidth: model.hidden[0]) }
        update(&model.parameters, gradients: gradient.tensors, rate: rate, sparseTensor: sparse)
    }
}

/// The learning rate at each step: a linear warmup from 0, then constant, or a linear or cosine
/// decay that reaches 0 at the last step.
///
///     t ≤ W:  η·t/W                                  (steps t = 1…T; W warmup steps)
///     t > W:  η·f(p),  p = (t − W)/(T − W)           f = 1 (constant), 1 − p (linear), ½(1 + cos πp) (cosine)
public struct LearningRateSchedule: Sendable, Equatable {
    public enum Decay: String, CaseIterable, Sendable { case constant, linear, cosine }

    public var peak: Double
    public var warmupSteps: Int
    public var totalSteps: Int
    public var decay: Decay

    public init(peak: Double, warmupSteps: Int = 0, totalSteps: Int, decay: Decay = .constant) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.decay = decay
    }

    /// The rate of step `step` (1-based: the first update is step 1).
    public func rate(atStep step: Int) -> Double {
        if step <= warmupSteps { return peak * Double(step) / Double(warmupSteps) }
        let span = totalSteps - warmupSteps
        guard span > 0 else { return peak }
        let progress = min(1, Double(step - warmupSteps) / Double(span))
        switch decay {
        case .constant: return peak
        case .linear: return peak * (1 - progress)
        case .cosine: return peak * 0.5 * (1 + cos(Double.pi * progress))
        }
    }
}
