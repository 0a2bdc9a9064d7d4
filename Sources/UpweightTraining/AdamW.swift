import UpweightSupport
import UpweightModels

/// Adam with decoupled weight decay (Loshchilov & Hutter 2019), with bias correction:
///
///     m ← β₁m + (1−β₁)g,   v ← β₂v + (1−β₂)g²
///     θ ← θ − η·( m̂ / (√v̂ + ε) + decay·θ ),   m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)
///
/// `AdamWRule` is the rule for `AdamW` (a linear model's θ in Double, 8 lanes at a time). `TensorAdamW`
/// (an MLP's Float32 tensors) uses `Float32AdamW`, the same formula in a C kernel with AVX-512.
struct AdamWRule<Vector: SIMD>: VectorLaneUpdate where Vector.Scalar: BinaryFloatingPoint {
    let rate, beta1, beta2, epsilon, decay: Vector.Scalar
    /// 1/(1−β₁ᵗ) and 1/(1−β₂ᵗ), computed in Double.
    let inverseCorrection1, inverseCorrection2: Vector.Scalar

    init(step: Int, rate: Double, beta1: Vector.Scalar, beta2: Vector.Scalar, epsilon: Vector.Scalar, decay: Double) {
        (self.rate, self.beta1, self.beta2, self.epsilon, self.decay) = (Vector.Scalar(rate), beta1, beta2, epsilon, Vector.Scalar(decay))
        inverseCorrection1 = Vector.Scalar(1 / (1 - pow(Double(beta1), Double(step))))
        inverseCorrection2 = Vector.Scalar(1 / (1 - pow(Double(beta2), Double(step))))
    }

    /// θ, m and v from g, as above.
    @inline(__always)
    func update(_ theta: inout Vector, _ m: inout Vector, _ v: inout Vector, reading g: Vector) {
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        theta -= rate * ((m * inverseCorrection1) / ((v * inverseCorrection2).squareRoot() + epsilon) + decay * theta)
    }
}

/// AdamW over one vector of Double parameters (the linear model's θ). The L2 term of the objective is
/// already in g; `weightDecay` is the separate, decoupled decay.
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
        let rule = AdamWRule<SIMD8<Double>>(step: step, rate: rate ?? learningRate, beta1: beta1, beta2: beta2,
                                            epsilon: epsilon, decay: weightDecay)
        updateLanes(&parameters, &firstMoment, &secondMoment, reading: gradient, threads: 1, rule)
    }
}

/// AdamW for Float32 tensors, one pair of moment buffers per tensor. A tensor may be updated in a
/// subset of its rows only (the rows of W₁ a sparse batch touched): the other rows keep their values
/// and moments, as torch.optim.SparseAdam does ("lazy" Adam). A full update of a 2^18-row embedding
/// would cost more than the whole forward and backward pass.
public struct TensorAdamW: Sendable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Double
    /// Threads for the update of large tensors; the result does not depend on it.
    public var threads: Int
    public private(set) var step = 0
    /// Whether every parameter the last step wrote is finite (checked as it was written); true
    /// before the first step and after a restore, whose values were checked as they were read.
    public private(set) var lastStepWasFinite = true
    private var firstMoments: [[Float]] = []
    private var secondMoments: [[Float]] = []

    package var firstMomentValues: [[Float]] { firstMoments }
    package var secondMomentValues: [[Float]] { secondMoments }

    /// Puts back what a checkpoint saved (MinibatchTraining.swift).
    package mutating func restoreState(step: Int, firstMoments: [[Float]], secondMoments: [[Float]]) {
        self.step = step
        lastStepWasFinite = true
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
        let rule = Float32AdamW(step: step, rate: rate, beta1: beta1, beta2: beta2, epsilon: epsilon, decay: weightDecay)
        var finite = true
        for tensor in tensors.indices {
            let rows = sparseTensor.flatMap { $0.index == tensor ? (list: $0.rows, width: $0.rowWidth) : nil }
            finite = updateLanes(&tensors[tensor], &firstMoments[tensor], &secondMoments[tensor], reading: gradients[tensor],
                                 rows: rows, threads: threads, rule) && finite
        }
        lastStepWasFinite = finite
    }

    /// One step of `model` from `gradient` (from MLPObjective): on sparse input only the listed rows of W₁.
    public mutating func update(_ model: inout MLPRewardModel, gradient: MLPGradient, rate: Double) {
        // Rows in ascending order: the update then walks W₁ and its moments forward, which the
        // hardware prefetches (in order of first appearance, every row was a jump). Rows are
        // independent, so the order changes no bit.
        let sparse = gradient.firstLayerRows.map { (index: 0, rows: radixSorted($0), rowWidth: model.hidden[0]) }
        update(&model.parameters, gradients: gradient.tensors, rate: rate, sparseTensor: sparse)
    }
}
