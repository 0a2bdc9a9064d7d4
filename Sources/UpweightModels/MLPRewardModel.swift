import UpweightSupport
import UpweightIO
import UpweightData

/// A multilayer perceptron reward model:
///
///     H₀ = x,   H_l = act(H_{l−1}·W_l + b_l)  (l = 1…L),   r(x) = H_L·v
///
/// with no output bias (it cancels in r(chosen) − r(rejected)). Parameters are one flat Float32
/// buffer per tensor, in this order, with these safetensors names and shapes:
///
///     mlp.{l−1}.weight   W_l, [in_l, out_l] row-major: input feature i's weights are row i, contiguous
///                        (the transpose of torch's nn.Linear.weight, which is [out, in])
///     mlp.{l−1}.bias     b_l, [out_l]
///     mlp.output.weight  v,   [out_L]
///
/// Rows of W₁ are contiguous so that a sparse (hashed-text) input reads, and its gradient writes,
/// only the rows of the features a batch contains.
public struct MLPRewardModel: Sendable, Equatable {
    public let inputDimension: Int
    public let hidden: [Int]
    public let activation: Activation
    /// [W₁, b₁, …, W_L, b_L, v]; gradients use the same layout (`MLPGradient`).
    public var parameters: [[Float]]

    /// Random initial parameters, drawn from `seed` (the same seed gives the same bytes):
    /// - `.he`: He-normal weights (relu, gelu: N(0, 2/fan_in)) or Xavier-normal (tanh: N(0, 2/(fan_in + fan_out))),
    ///   v ~ N(0, 1/fan_in) (the output is linear), zero biases;
    /// - `.torch`: `torch.nn.Linear`'s default, every weight and bias ~ U(−1/√fan_in, 1/√fan_in)
    ///   (kaiming_uniform with a = √5), v too.
    public init(inputDimension: Int, hidden: [Int], activation: Activation, initialization: Initialization = .he, seed: UInt64) {
        precondition(inputDimension > 0 && !hidden.isEmpty && hidden.allSatisfy { $0 > 0 }, "an MLP needs positive widths")
        var normals = NormalSampler(seed: seed)
        var uniforms = SplitMix64(seed: seed)
        /// `count` values for a layer with `fanIn` inputs; `deviation` is He/Xavier's standard deviation
        /// (0: zeros, drawing nothing, so that the weights after it come from the same stream as before).
        func draw(_ count: Int, fanIn: Int, deviation: Double) -> [Float] {
            switch initialization {
            case .he where deviation == 0: return [Float](repeating: 0, count: count)
            case .he: return (0..<count).map { _ in Float(deviation * normals.next()) }
            case .torch:
                let bound = 1 / Double(fanIn).squareRoot()
                return (0..<count).map { _ in Float(bound * (2 * uniforms.nextUnit() - 1)) }
            }
        }
        let widths = [inputDimension] + hidden
        var parameters: [[Float]] = []
        for layer in hidden.indices {
            let (fanIn, fanOut) = (Double(widths[layer]), Double(widths[layer + 1]))
            let deviation = activation == .tanh ? (2 / (fanIn + fanOut)).squareRoot() : (2 / fanIn).squareRoot()
            parameters.append(draw(widths[layer] * widths[layer + 1], fanIn: widths[layer], deviation: deviation))
            parameters.append(draw(widths[layer + 1], fanIn: widths[layer], deviation: 0))
        }
        let last = hidden[hidden.count - 1]
        parameters.append(draw(last, fanIn: last, deviation: (1 / Double(last)).squareRoot()))
        self.init(inputDimension: inputDimension, hidden: hidden, activation: activation, parameters: parameters)
    }

    /// How `init(…seed:)` draws the first parameters.
    public enum Initialization: String, CaseIterable, Sendable {
        /// He-normal (Xavier-normal for tanh), zero biases.
        case he
        /// torch.nn.Linear's default: U(±1/√fan_in) for weights and biases.
        case torch
    }

    /// A model from its tensors, in the order of `parameters`.
    public init(inputDimension: Int, hidden: [Int], activation: Activation, parameters: [[Float]]) {
        self.inputDimension = inputDimension
        self.hidden = hidden
        self.activation = activation
        self.parameters = parameters
        precondition(parameters.map(\.count) == tensorShapes.map { $0.reduce(1, *) }, "MLP tensors do not match the widths")
    }

    /// [D, H₁, …, H_L].
    package var widths: [Int] { [inputDimension] + hidden }

    public var tensorNames: [String] { Self.names(layers: hidden.count) }

    package static func names(layers: Int) -> [String] {
        (0..<layers).flatMap { ["mlp.\($0).weight", "mlp.\($0).bias"] } + ["mlp.output.weight"]
    }

    public var tensorShapes: [[Int]] { Self.shapes(inputDimension: inputDimension, hidden: hidden) }

    package static func shapes(inputDimension: Int, hidden: [Int]) -> [[Int]] {
        let widths = [inputDimension] + hidden
        return hidden.indices.flatMap { [[widths[$0], widths[$0 + 1]], [widths[$0 + 1]]] } + [[hidden[hidden.count - 1]]]
    }

    public var tensors: [Tensor] {
        zip(tensorNames, zip(tensorShapes, parameters)).map { Tensor(name: $0, shape: $1.0, values: $1.1) }
    }

    /// The reward of every row of `features`, 1024 rows at a time.
    public func rewards(_ features: FeatureMatrix, threads: Int) -> [Float] {
        var rewards: [Float] = []
        rewards.reserveCapacity(features.rowCount)
        for start in stride(from: 0, to: features.rowCount, by: 1024) {
            let batch = features.gatheringRows(start..<min(start + 1024, features.rowCount))
            rewards.append(contentsOf: forward(.matrix(batch), threads: threads).rewards)
        }
        return rewards
    }

    // MARK: - Forward and backward, layer by layer (N rows of a batch)

    /// What the backward pass needs from the forward pass.
    package struct Activations {
        /// Z_l = H_{l−1}·W_l + b_l and H_l = act(Z_l), each (N, H_l), for l = 1…L.
        package var preActivations: [[Float]] = []
        package var outputs: [[Float]] = []
        /// r = H_L·v, (N).
        package var rewards: [Float] = []
    }

    package func forward(_ batch: BatchRows, threads: Int) -> Activations {
        let rowCount = batch.rowCount
        var cache = Activations()
        guard rowCount > 0 else { return cache }
        let widths = widths
        for layer in hidden.indices {
            let (fanIn, fanOut) = (widths[layer], widths[layer + 1])
            // Z = H_{l−1}·W_l: (N, in)·(in, out) → (N, out)
            var z = productBuffer(count: rowCount * fanOut)
            if layer == 0 {
                batch.multiplied(by: parameters[0], columns: fanOut, into: &z, threads: threads)
            } else {
                multiplyMatrices(cache.outputs[layer - 1], parameters[2 * layer], into: &z, m: rowCount, n: fanOut, k: fanIn, threads: threads)
            }
            // + b: (N, out) + (out), then H = act(Z); after the last layer, r = H_L·v: (N, H_L)·(H_L) → (N)
            if layer < hidden.count - 1 {
                cache.outputs.append(activation.applyAddingBias(parameters[2 * layer + 1], to: &z, threads: threads))
            } else {
                let (outputs, rewards) = activation.applyAddingBias(parameters[2 * layer + 1], to: &z,
                                                                    scoringWith: parameters[parameters.count - 1], threads: threads)
                cache.outputs.append(outputs)
                cache.rewards = rewards
            }
            cache.preActivations.append(z)
        }
        return cache
    }

    /// Adds (or, unless `accumulating`, writes) ∂/∂θ of Σ_n dr[n]·r(x_n) into `gradient`, given the
    /// forward pass over `batch` and dr = ∂loss/∂r (N).
    package func backward(_ cache: Activations, batch: BatchRows, rewardGradient: [Float],
                  into gradient: inout MLPGradient, accumulating: Bool, threads: Int)
    {
        let rowCount = batch.rowCount
        let widths = widths
        let layers = hidden.count
        let sparseRows = batch.sparseRows
        gradient.prepare(for: self, sparseInput: sparseRows != nil, accumulating: accumulating, threads: threads)
        if let sparseRows { gradient.listRows(of: sparseRows) }
        guard rowCount > 0 else {
            // No rows: a zero gradient (a dense dW₁ is otherwise left for its GEMM to overwrite).
            if !accumulating { setToZero(&gradient.tensors[0]) }
            return
        }
        // dv = H_Lᵀ·dr: (H_L, N)·(N) → (H_L)
        addTransposedProduct(of: cache.outputs[layers - 1], rewardGradient, into: &gradient.tensors[2 * layers])
        // dZ_L = dH_L ⊙ act′(Z_L), dH_L = dr ⊗ v: (N) ⊗ (H_L) → (N, H_L), in one pass
        var dZ = activation.backward(fromRewardGradient: rewardGradient, outputWeights: parameters[2 * layers],
                                     cache.preActivations[layers - 1], cache.outputs[layers - 1], threads: threads)
        for layer in stride(from: layers - 1, through: 0, by: -1) {
            let (fanIn, fanOut) = (widths[layer], widths[layer + 1])
            // db = Σ_n dZ[n]: (N, out) → (out)
            addColumnSums(of: dZ, into: &gradient.tensors[2 * layer + 1])
            // dW = H_{l−1}ᵀ·dZ: (in, N)·(N, out) → (in, out)
            if layer == 0 {
                batch.transposedMultiplied(by: dZ, columns: fanOut, into: &gradient.tensors[0], accumulating: accumulating, threads: threads)
            } else {
                multiplyMatrices(cache.outputs[layer - 1], transposingA: true, dZ, into: &gradient.tensors[2 * layer],
                                 m: fanIn, n: fanOut, k: rowCount, accumulating: accumulating, threads: threads)
            }
            // dH_{l−1} = dZ·W_lᵀ: (N, out)·(out, in) → (N, in), then dZ_{l−1} = dH_{l−1} ⊙ act′(Z_{l−1}) in its buffer
            if layer > 0 {
                var dH = productBuffer(count: rowCount * fanIn)
                multiplyMatrices(dZ, parameters[2 * layer], transposingB: true, into: &dH, m: rowCount, n: fanIn, k: fanOut, threads: threads)
                activation.backward(cache.preActivations[layer - 1], cache.outputs[layer - 1], gradient: &dH, threads: threads)
                dZ = dH
            }
        }
    }
}

/// Gradients of an `MLPRewardModel`'s parameters, tensor by tensor in the model's layout.
public struct MLPGradient: Sendable {
    /// [dW₁, db₁, …, dW_L, db_L, dv].
    public package(set) var tensors: [[Float]] = []
    /// On sparse input, the rows of dW₁ that may be non-zero, each once, in order of first appearance;
    /// every other row is zero. nil on dense input: every row.
    public package(set) var firstLayerRows: [Int32]?
    /// Whether row i of dW₁ is in `firstLayerRows`.
    private var rowIsListed: [Bool] = []

    public init() {}

    /// Sizes the tensors for `model` and zeroes them (unless `accumulating`). A sparse dW₁ is zeroed
    /// only in the rows the previous batch touched, and the rows this batch will touch are listed.
    package mutating func prepare(for model: MLPRewardModel, sparseInput: Bool, accumulating: Bool, threads: Int = 1) {
        let sizes = model.parameters.map(\.count)
        if tensors.map(\.count) != sizes {
            tensors = sizes.map { [Float](repeating: 0, count: $0) }
            firstLayerRows = nil
            rowIsListed = []
        } else if !accumulating {
            for index in 1..<tensors.count { setToZero(&tensors[index]) }
            if let rows = firstLayerRows {
                setRowsToZero(&tensors[0], rows: rows, width: model.hidden[0], threads: threads)
                for row in rows { rowIsListed[Int(row)] = false }
                firstLayerRows = []
            }
            // A dense dW₁ is overwritten by its GEMM.
        }
        if !sparseInput {
            firstLayerRows = nil
        } else if firstLayerRows == nil {
            // From dense to sparse: every row may be non-zero.
            setToZero(&tensors[0])
            rowIsListed = [Bool](repeating: false, count: model.inputDimension)
            firstLayerRows = []
        }
    }

    /// Lists the rows of dW₁ that `batch`'s non-zeros name.
    package mutating func listRows(of batch: SparseRows) {
        for index in batch.indices where !rowIsListed[Int(index)] {
            rowIsListed[Int(index)] = true
            firstLayerRows!.append(index)
        }
    }
}
