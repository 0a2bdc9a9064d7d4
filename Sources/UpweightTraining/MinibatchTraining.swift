import UpweightSupport
import UpweightIO
import UpweightData
import UpweightModels

/// A model trained by minibatches: the loss and gradient of a batch, the optimizer's step, and the
/// state a checkpoint needs to resume exactly (parameters and optimizer moments, bit for bit).
package protocol MinibatchTrainable {
    /// The weighted batch loss (pair i counts w_i·scale[k_i] when a category scale is given); its
    /// gradient is kept for `optimizerStep`.
    mutating func lossAndGradient(batch: [Int], categoryScale: [Double]?) -> LinearObjective.Value
    /// Updates the parameters from the last gradient at learning rate `rate`.
    mutating func optimizerStep(rate: Double)
    /// Σ_{i∈k} w_i over `pairs`, per category (group DRO normalizes by it).
    func weightByCategory(pairs: [Int]) -> [Double]
    /// False once a parameter is NaN or infinite.
    var isFinite: Bool { get }
    /// The model as it stands (what a checkpoint saves as model.safetensors).
    var rewardModel: RewardModel { get }
    /// Everything needed to continue: parameters and optimizer state, exactly.
    var state: [Tensor64] { get }
    mutating func restore(_ state: [Tensor64]) throws
    /// Makes `batch` the pairs the objective evaluates (positions 0..<batch.count): a streamed batch,
    /// copied into memory. The loss, L2 strength and categories stay as they were.
    mutating func load(_ batch: PairBatch)
}

/// A minibatch copied into memory: its rows and, per pair, the weight, margin and category.
package struct PairBatch {
    package var features: PairFeatures
    package var weights: [Double]
    package var margins: [Double]
    package var categories: [Int32]
    /// MPI ranks that each hold the rows of their own pairs: how many of the batch's pairs each
    /// rank holds, the batch being ordered by rank (each rank's share one run; `ShardedTrainable`).
    package var shares: [Int]? = nil
}

/// The linear model under AdamW. θ is kept in Double while training, as with L-BFGS.
package struct LinearTrainable: MinibatchTrainable {
    package var objective: LinearObjective
    package var theta: [Double]
    package var optimizer: AdamW
    /// The last batch's ∇L, for `optimizerStep`.
    var gradient: [Double] = []

    package mutating func lossAndGradient(batch: [Int], categoryScale: [Double]?) -> LinearObjective.Value {
        objective.evaluate(theta, pairs: batch, categoryScale: categoryScale, gradient: &gradient)
    }

    package mutating func optimizerStep(rate: Double) { optimizer.update(&theta, gradient: gradient, rate: rate) }

    package func weightByCategory(pairs: [Int]) -> [Double] { objective.weightByCategory(pairs: pairs) }

    package var isFinite: Bool { theta.allSatisfy(\.isFinite) }

    package var rewardModel: RewardModel { .linear(LinearRewardModel(weight: theta.map { Float($0) })) }

    package var state: [Tensor64] {
        [Tensor64(name: "theta", values: theta)] + optimizer.state
    }

    package mutating func restore(_ state: [Tensor64]) throws {
        guard let saved = state.first(where: { $0.name == "theta" }), saved.values.count == theta.count else {
            throw UsageError("the checkpoint does not hold this model's parameters (theta of \(plural(theta.count, "value", "values")))")
        }
        theta = saved.values
        try optimizer.restore(state, count: theta.count)
    }

    package mutating func load(_ batch: PairBatch) {
        objective = LinearObjective(features: batch.features, weights: batch.weights, margins: batch.margins, categories: batch.categories,
                                    categoryCount: objective.categoryCount, loss: objective.loss, l2: objective.l2, threads: objective.threads)
    }
}

extension AdamW {
    /// The step count and moments, for checkpoints.
    package var state: [Tensor64] {
        [Tensor64(name: "adam.step", values: [Double(step)]), Tensor64(name: "adam.m", values: firstMomentValues),
         Tensor64(name: "adam.v", values: secondMomentValues)]
    }

    package mutating func restore(_ state: [Tensor64], count: Int) throws {
        guard let first = state.first(where: { $0.name == "adam.m" }), let second = state.first(where: { $0.name == "adam.v" }),
              first.values.count == count, second.values.count == count
        else { throw UsageError("the checkpoint has no optimizer state for \(count) parameters (adam.m, adam.v)") }
        guard second.values.allSatisfy({ $0 >= 0 }) else { throw UsageError("the checkpoint's adam.v holds a negative value") }
        restoreState(step: try savedStepCount(state), firstMoment: first.values, secondMoment: second.values)
    }
}

/// The MLP under Float32 AdamW (TensorAdamW), with a learning-rate schedule.
package struct MLPTrainable: MinibatchTrainable {
    package var objective: MLPObjective
    package var model: MLPRewardModel
    package var optimizer: TensorAdamW
    /// The last batch's ∇L, for `optimizerStep`.
    var gradient = MLPGradient()
    /// A rank's share of the batch's gradient, before the ranks add theirs (ShardSums.swift).
    var shareGradient = MLPGradient()

    package mutating func lossAndGradient(batch: [Int], categoryScale: [Double]?) -> LinearObjective.Value {
        objective.evaluate(model, pairs: batch, categoryScale: categoryScale, gradient: &gradient)
    }

    package mutating func optimizerStep(rate: Double) { optimizer.update(&model, gradient: gradient, rate: rate) }

    package func weightByCategory(pairs: [Int]) -> [Double] { objective.weightByCategory(pairs: pairs) }

    /// Every step checks what it changed, as it writes it (TensorAdamW): on sparse input only the
    /// rows of W₁ the last batch updated (the others are as the step that last changed them left
    /// them, and it checked them). The parameters change nowhere else: the first ones are drawn
    /// finite, and a checkpoint's are checked as they are read.
    package var isFinite: Bool { optimizer.lastStepWasFinite }

    package var rewardModel: RewardModel { .mlp(model) }

    // Float32 values are stored as Float64 (exactly), next to the optimizer's moments.
    package var state: [Tensor64] {
        model.parameters.enumerated().map { Tensor64(name: "parameter.\($0.offset)", values: $0.element.map(Double.init)) } + optimizer.state
    }

    package mutating func restore(_ state: [Tensor64]) throws {
        for index in model.parameters.indices {
            guard let saved = state.first(where: { $0.name == "parameter.\(index)" }), saved.values.count == model.parameters[index].count else {
                throw UsageError("the checkpoint does not hold this model's parameter tensor \(index)")
            }
            let values = saved.values.map { Float($0) }
            guard values.allSatisfy(\.isFinite) else { throw UsageError("the checkpoint's parameter tensor \(index) does not fit in Float32") }
            model.parameters[index] = values
        }
        try optimizer.restore(state, shapes: model.parameters.map(\.count))
    }

    package mutating func load(_ batch: PairBatch) {
        var loaded = MLPObjective(features: batch.features, weights: batch.weights, margins: batch.margins, loss: objective.loss,
                                  l2: objective.l2, threads: objective.threads, categories: batch.categories,
                                  categoryCount: objective.categoryCount)
        loaded.pairsPerPass = objective.pairsPerPass
        objective = loaded
    }
}

extension TensorAdamW {
    package var state: [Tensor64] {
        [Tensor64(name: "adam.step", values: [Double(step)])]
            + firstMomentValues.enumerated().map { Tensor64(name: "adam.m.\($0.offset)", values: $0.element.map(Double.init)) }
            + secondMomentValues.enumerated().map { Tensor64(name: "adam.v.\($0.offset)", values: $0.element.map(Double.init)) }
    }

    package mutating func restore(_ state: [Tensor64], shapes: [Int]) throws {
        let step = try savedStepCount(state)
        func moments(_ prefix: String) throws -> [[Float]] {
            try shapes.indices.map { index in
                guard let saved = state.first(where: { $0.name == "\(prefix).\(index)" }), saved.values.count == shapes[index] else {
                    if step == 0 { return [Float](repeating: 0, count: shapes[index]) }
                    throw UsageError("the checkpoint has no optimizer moment \(prefix).\(index)")
                }
                let values = saved.values.map { Float($0) }
                guard values.allSatisfy({ $0.isFinite && (prefix == "adam.m" || $0 >= 0) }) else {
                    throw UsageError("the checkpoint's optimizer moment \(prefix).\(index) holds a value out of range")
                }
                return values
            }
        }
        restoreState(step: step, firstMoments: try moments("adam.m"), secondMoments: try moments("adam.v"))
    }
}

/// The optimizer's step count in a checkpoint (`adam.step`): a whole number ≥ 0, never converted unchecked.
package func savedStepCount(_ state: [Tensor64]) throws -> Int {
    guard let saved = state.first(where: { $0.name == "adam.step" })?.values, saved.count == 1 else {
        throw UsageError("the checkpoint has no optimizer step count (adam.step)")
    }
    guard let step = Int(exactly: saved[0]), (0...Int(Int32.max)).contains(step) else {
        throw UsageError("the checkpoint's optimizer step count (adam.step) is \(saved[0]), not a whole number from 0 to \(Int32.max)")
    }
    return step
}
