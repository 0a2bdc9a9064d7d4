import XCTest
@testable import UpweightSupport
@testable import UpweightIO
@testable import UpweightData
@testable import UpweightModels
@testable import UpweightTraining

final class MLPTests: XCTestCase {
    let lossOptions = [PairLoss(), PairLoss(labelSmoothing: 0.1), PairLoss(focalGamma: 2), PairLoss(centerRewards: 0.05),
                       PairLoss(labelSmoothing: 0.2, focalGamma: 1.5, centerRewards: 0.01)]

    func objective(_ features: PairFeatures, loss: PairLoss, l2: Double, threads: Int = 2) -> MLPObjective {
        var generator = SplitMix64(seed: 99)
        let weights = (0..<features.count).map { _ in generator.nextUnit() * 2 }
        let margins = (0..<features.count).map { _ in generator.nextUnit() - 0.5 }
        return MLPObjective(features: features, weights: weights, margins: margins, loss: loss, l2: l2, threads: threads)
    }

    /// Every parameter's analytic derivative against a central difference of the objective.
    ///
    /// The parameters and the forward pass are Float32, so the objective carries rounding noise of
    /// ~1e-7 relative; a step of 1e-2 keeps that noise's effect on the difference near 1e-5 while
    /// the truncation error (h²·L‴/6) stays near 1e-5 too. The tolerance, 5e-4 + 2% of the derivative,
    /// is far below what a wrong term (a missing factor, a transposed product) produces. ReLU's kink
    /// may fall inside ±h: ReLU uses h = 1e-3 (noise effect ~1e-4, still within tolerance) so that
    /// fewer pre-activations lie within reach of zero, and skips the coordinates whose difference
    /// changes when h shrinks fourfold (a kink crossed by one step but not the other).
    func checkGradient(_ features: PairFeatures, hidden: [Int], activation: Activation, loss: PairLoss, l2: Double,
                       file: StaticString = #filePath, line: UInt = #line) {
        let objective = objective(features, loss: loss, l2: l2)
        var model = MLPRewardModel(inputDimension: features.dimension, hidden: hidden, activation: activation, seed: 3)
        // Non-zero biases: exercised away from the initial state, and a row whose previous layer is all
        // zero (dead ReLUs) does not sit exactly on a kink.
        for layer in hidden.indices { model.parameters[2 * layer + 1] = model.parameters[2 * layer + 1].indices.map { Float($0 % 3) * 0.1 - 0.05 } }
        var gradient = MLPGradient()
        _ = objective.evaluate(model, gradient: &gradient)
        var scratch = MLPGradient()
        func difference(tensor: Int, index: Int, step: Float) -> Double {
            var plus = model, minus = model
            plus.parameters[tensor][index] += step
            minus.parameters[tensor][index] -= step
            let actualStep = Double(plus.parameters[tensor][index]) - Double(minus.parameters[tensor][index])
            return (objective.evaluate(plus, gradient: &scratch) - objective.evaluate(minus, gradient: &scratch)) / actualStep
        }
        let names = model.tensorNames
        var skipped = 0
        for tensor in model.parameters.indices {
            for index in model.parameters[tensor].indices {
                let step: Float = activation == .relu ? 1e-3 : 1e-2
                let numeric = difference(tensor: tensor, index: index, step: step)
                let tolerance = 5e-4 + 0.02 * abs(numeric)
                if activation == .relu, abs(difference(tensor: tensor, index: index, step: step / 4) - numeric) > tolerance {
                    skipped += 1
                    continue
                }
                XCTAssertEqual(Double(gradient.tensors[tensor][index]), numeric, accuracy: tolerance,
                               "∂L/∂\(names[tensor])[\(index)] \(activation) \(loss)", file: file, line: line)
            }
        }
        XCTAssertLessThan(skipped, model.parameters.joined().count / 20, "too few coordinates checked", file: file, line: line)
        // A reused gradient buffer (zeroed, not reallocated) gives the same gradient.
        _ = objective.evaluate(model, gradient: &scratch)
        XCTAssertEqual(scratch.tensors, gradient.tensors, file: file, line: line)
    }

    func test_gradients_match_finite_differences_for_every_layer_activation_and_loss_option_on_dense_input() {
        let features = randomDensePairs(pairs: 30, dimension: 5, seed: 1)
        for activation in Activation.allCases {
            for loss in lossOptions {
                checkGradient(features, hidden: [4, 3], activation: activation, loss: loss, l2: 0.01)
            }
        }
    }

    func test_gradients_match_finite_differences_for_every_layer_activation_and_loss_option_on_sparse_input() {
        let features = randomSparsePairs(pairs: 30, dimension: 25, seed: 2)
        for activation in Activation.allCases {
            for loss in lossOptions {
                checkGradient(features, hidden: [4, 3], activation: activation, loss: loss, l2: 0.01)
            }
        }
        // One hidden layer: W₁'s gradient meets the output directly.
        checkGradient(features, hidden: [6], activation: .gelu, loss: PairLoss(), l2: 0.001)
    }

    func test_evaluating_in_several_passes_gives_the_single_pass_gradient() {
        for features in [randomDensePairs(pairs: 40, dimension: 6, seed: 4),
                         randomSparsePairs(pairs: 40, dimension: 30, seed: 5)] {
            let model = MLPRewardModel(inputDimension: features.dimension, hidden: [5, 4], activation: .tanh, seed: 1)
            var whole = objective(features, loss: PairLoss(focalGamma: 1), l2: 0.01)
            whole.pairsPerPass = 256
            var pieces = whole
            pieces.pairsPerPass = 7
            var one = MLPGradient(), several = MLPGradient()
            let pairs = Array((0..<40).reversed().filter { $0 % 3 != 0 })
            XCTAssertEqual(whole.evaluate(model, pairs: pairs, gradient: &one), pieces.evaluate(model, pairs: pairs, gradient: &several), accuracy: 1e-6)
            for (a, b) in zip(one.tensors.joined(), several.tensors.joined()) { XCTAssertEqual(a, b, accuracy: 1e-6) }
            // No pairs: zero loss, and only the L2 term in the gradient (none here).
            let noL2 = MLPObjective(features: features, weights: whole.weights, margins: whole.margins, loss: whole.loss, l2: 0, threads: 2)
            XCTAssertEqual(noL2.evaluate(model, pairs: [], gradient: &one), 0)
            XCTAssertTrue(one.tensors.joined().allSatisfy { $0 == 0 })
        }
    }

    /// Pairs in the plane whose true reward is x₁·x₂: a saddle, on which every linear reward θ·x
    /// ranks exactly as many pairs right as wrong in expectation.
    func saddlePairs(count: Int, seed: UInt64) -> PairFeatures {
        var generator = SplitMix64(seed: seed)
        var chosen: [Float] = [], rejected: [Float] = []
        for _ in 0..<count {
            let a = (0..<2).map { _ in Float(generator.nextUnit() * 2 - 1) }
            let b = (0..<2).map { _ in Float(generator.nextUnit() * 2 - 1) }
            let aWins = a[0] * a[1] > b[0] * b[1]
            chosen += aWins ? a : b
            rejected += aWins ? b : a
        }
        return PairFeatures(chosen: .dense(DenseRows(dimension: 2, values: chosen)), rejected: .dense(DenseRows(dimension: 2, values: rejected)))
    }

    func accuracy(_ rewards: (FeatureMatrix) -> [Float], on features: PairFeatures) -> Double {
        let (chosen, rejected) = (rewards(features.chosen), rewards(features.rejected))
        return Double(zip(chosen, rejected).filter { $0 > $1 }.count) / Double(features.count)
    }

    func test_a_small_mlp_learns_a_preference_no_linear_model_can() {
        let train = saddlePairs(count: 2000, seed: 1)
        let test = saddlePairs(count: 1000, seed: 2)
        let objective = MLPObjective(features: train, weights: Array(repeating: 1, count: train.count),
                                     margins: Array(repeating: 0, count: train.count), loss: PairLoss(), l2: 0, threads: 2)
        var model = MLPRewardModel(inputDimension: 2, hidden: [16, 16], activation: .gelu, seed: 7)
        var optimizer = TensorAdamW(weightDecay: 0.01)
        let epochs = 40, batchSize = 64
        let schedule = LearningRateSchedule(peak: 0.01, warmupSteps: 20, totalSteps: epochs * ((train.count + batchSize - 1) / batchSize), decay: .cosine)
        var generator = SplitMix64(seed: 11)
        var order = Array(0..<train.count)
        var gradient = MLPGradient()
        for _ in 0..<epochs {
            order.seededShuffle(using: &generator)
            for start in stride(from: 0, to: order.count, by: batchSize) {
                _ = objective.evaluate(model, pairs: Array(order[start..<min(start + batchSize, order.count)]), gradient: &gradient)
                optimizer.update(&model, gradient: gradient, rate: schedule.rate(atStep: optimizer.step + 1))
            }
        }
        let mlpAccuracy = accuracy({ model.rewards($0, threads: 2) }, on: test)
        XCTAssertGreaterThan(mlpAccuracy, 0.9)

        // The best linear model, for contrast (L-BFGS on the convex linear objective).
        let linear = LinearObjective(features: train, weights: Array(repeating: 1, count: train.count),
                                     margins: Array(repeating: 0, count: train.count), loss: PairLoss(), l2: 1e-4, threads: 2)
        let theta = LBFGS().minimize(from: [0, 0], objective: { linear.evaluate($0, gradient: &$1).value }).parameters
        let linearAccuracy = accuracy({ LinearRewardModel(weight: theta.map(Float.init)).rewards($0, threads: 2) }, on: test)
        XCTAssertLessThan(linearAccuracy, 0.6)
    }

    func test_sparse_training_updates_only_the_rows_its_batches_touch() {
        let features = randomSparsePairs(pairs: 20, dimension: 200, seed: 6)
        let objective = objective(features, loss: PairLoss(), l2: 0.01)
        let before = MLPRewardModel(inputDimension: 200, hidden: [8], activation: .relu, seed: 2)
        var model = before
        var optimizer = TensorAdamW(weightDecay: 0.1)
        var gradient = MLPGradient()
        _ = objective.evaluate(model, pairs: Array(0..<10), gradient: &gradient)
        optimizer.update(&model, gradient: gradient, rate: 0.01)
        guard case .sparse(let chosen) = features.chosen, case .sparse(let rejected) = features.rejected else { return XCTFail() }
        var touched = Set<Int>()
        for rows in [chosen, rejected] { touched.formUnion(rows.indices[0..<rows.rowStarts[10]].map(Int.init)) }
        XCTAssertEqual(Set(gradient.firstLayerRows!.map(Int.init)), touched)
        for row in 0..<200 {
            let slice = (row * 8)..<((row + 1) * 8)
            if touched.contains(row) {
                XCTAssertNotEqual(Array(model.parameters[0][slice]), Array(before.parameters[0][slice]), "row \(row)")
            } else {
                XCTAssertEqual(Array(model.parameters[0][slice]), Array(before.parameters[0][slice]), "row \(row)")
            }
        }
    }

    func test_float_adamw_matches_the_double_adamw() {
        var generator = SplitMix64(seed: 4)
        var single = [(0..<37).map { _ in Float(generator.nextUnit() - 0.5) }]
        var double = single[0].map(Double.init)
        var floatOptimizer = TensorAdamW(weightDecay: 0.1)
        var doubleOptimizer = AdamW(learningRate: 0.05, weightDecay: 0.1)
        for _ in 0..<20 {
            let gradient = (0..<37).map { _ in generator.nextUnit() - 0.5 }
            floatOptimizer.update(&single, gradients: [gradient.map(Float.init)], rate: 0.05)
            doubleOptimizer.update(&double, gradient: gradient)
        }
        for (a, b) in zip(single[0], double) { XCTAssertEqual(Double(a), b, accuracy: 1e-5) }

        // A tensor large enough to be split across threads, whole and by rows: the same bits.
        let large = (0..<70_000).map { _ in Float(generator.nextUnit() - 0.5) }
        let gradient = (0..<70_000).map { _ in Float(generator.nextUnit() - 0.5) }
        let rows = (0..<70).map { Int32($0 * 3 % 70) }  // distinct, out of order
        var results: [[UInt32]] = []
        for threads in [1, 2] {
            var optimizer = TensorAdamW(weightDecay: 0.01, threads: threads)
            var tensors = [large, large]
            for _ in 0..<3 {
                optimizer.update(&tensors, gradients: [gradient, gradient], rate: 0.01, sparseTensor: (index: 1, rows: rows, rowWidth: 1000))
            }
            results.append(tensors.joined().map(\.bitPattern))
        }
        XCTAssertTrue(results[0] == results[1], "the update depends on the thread count")
    }

    func test_learning_rate_schedules_warm_up_then_decay_to_zero_at_the_last_step() {
        let linear = LearningRateSchedule(peak: 1, warmupSteps: 4, totalSteps: 14, decay: .linear)
        XCTAssertEqual((1...4).map { linear.rate(atStep: $0) }, [0.25, 0.5, 0.75, 1])
        XCTAssertEqual(linear.rate(atStep: 9), 0.5, accuracy: 1e-12)
        XCTAssertEqual(linear.rate(atStep: 14), 0)
        let cosine = LearningRateSchedule(peak: 2, warmupSteps: 0, totalSteps: 10, decay: .cosine)
        XCTAssertEqual(cosine.rate(atStep: 5), 1, accuracy: 1e-12)
        XCTAssertEqual(cosine.rate(atStep: 10), 0, accuracy: 1e-12)
        XCTAssertEqual(LearningRateSchedule(peak: 3, warmupSteps: 2, totalSteps: 10).rate(atStep: 9), 3)
    }

    func test_same_seed_gives_the_same_bytes_whatever_the_thread_count() {
        let features = randomDensePairs(pairs: 300, dimension: 40, seed: 9)
        func train(threads: Int) -> [UInt32] {
            let objective = objective(features, loss: PairLoss(), l2: 0.001, threads: threads)
            var model = MLPRewardModel(inputDimension: 40, hidden: [96, 64], activation: .gelu, seed: 12)
            var optimizer = TensorAdamW()
            var gradient = MLPGradient()
            for step in 0..<6 {
                _ = objective.evaluate(model, pairs: Array((step * 50)..<((step + 1) * 50)), gradient: &gradient)
                optimizer.update(&model, gradient: gradient, rate: 0.01)
            }
            return model.parameters.joined().map(\.bitPattern)
        }
        XCTAssertEqual(MLPRewardModel(inputDimension: 9, hidden: [4], activation: .tanh, seed: 1),
                       MLPRewardModel(inputDimension: 9, hidden: [4], activation: .tanh, seed: 1))
        XCTAssertNotEqual(MLPRewardModel(inputDimension: 9, hidden: [4], activation: .tanh, seed: 1),
                          MLPRewardModel(inputDimension: 9, hidden: [4], activation: .tanh, seed: 2))
        let once = train(threads: 2)
        XCTAssertEqual(once, train(threads: 2))
        XCTAssertEqual(once, train(threads: 1))
    }

    func test_initializations_draw_from_their_distributions() {
        // Per tensor: the bound every value stays within, and the standard deviation expected.
        func check(_ model: MLPRewardModel, bounds: [Double], deviations: [Double], file: StaticString = #filePath, line: UInt = #line) {
            for (index, tensor) in model.parameters.enumerated() {
                let values = tensor.map(Double.init)
                let mean = values.reduce(0, +) / Double(values.count)
                let deviation = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot()
                XCTAssertLessThanOrEqual(values.map(abs).max()!, bounds[index], "\(model.tensorNames[index])", file: file, line: line)
                // 5 standard errors of a standard deviation estimated from n values: σ·5/√(2n).
                XCTAssertEqual(deviation, deviations[index], accuracy: deviations[index] * 5 / (2 * Double(values.count)).squareRoot() + 1e-12,
                               "\(model.tensorNames[index])", file: file, line: line)
            }
        }
        let (d, h) = (400.0, 300.0)
        let torch = MLPRewardModel(inputDimension: 400, hidden: [300], activation: .relu, initialization: .torch, seed: 5)
        // U(−b, b) has standard deviation b/√3.
        let (b1, b2) = (1 / d.squareRoot(), 1 / h.squareRoot())
        check(torch, bounds: [b1, b1, b2], deviations: [b1 / 3.squareRoot(), b1 / 3.squareRoot(), b2 / 3.squareRoot()])
        let he = MLPRewardModel(inputDimension: 400, hidden: [300], activation: .relu, initialization: .he, seed: 5)
        check(he, bounds: [.infinity, 0, .infinity], deviations: [(2 / d).squareRoot(), 0, (1 / h).squareRoot()])
        // He biases are +0 and draw nothing: v continues the normal stream right after W₁.
        XCTAssertTrue(he.parameters[1].allSatisfy { $0.bitPattern == 0 })
        var normals = NormalSampler(seed: 5)
        for _ in 0..<(400 * 300) { _ = normals.next() }
        XCTAssertEqual(he.parameters[2], (0..<300).map { _ in Float((1 / h).squareRoot() * normals.next()) })
        let xavier = MLPRewardModel(inputDimension: 400, hidden: [300], activation: .tanh, seed: 5)
        check(xavier, bounds: [.infinity, 0, .infinity], deviations: [(2 / (d + h)).squareRoot(), 0, (1 / h).squareRoot()])
        XCTAssertEqual(torch, MLPRewardModel(inputDimension: 400, hidden: [300], activation: .relu, initialization: .torch, seed: 5))
    }

    func test_model_directory_round_trips_an_mlp() throws {
        let mlp = MLPRewardModel(inputDimension: 6, hidden: [5, 3], activation: .gelu, seed: 4)
        let trained = TrainedModel(featurizer: .dense(dimension: 6, standardization: nil), model: .mlp(mlp),
                                   reading: ReadOptions(), provenance: JSONObject())
        let directory = TestSupport.temporaryDirectory(self) + "/model"
        try ModelDirectory.save(trained, to: directory)
        let loaded = try ModelDirectory.load(directory)
        XCTAssertEqual(loaded.model, .mlp(mlp))
        let rows = randomDensePairs(pairs: 10, dimension: 6, seed: 1).chosen
        XCTAssertEqual(loaded.model.rewards(rows, threads: 2), mlp.rewards(rows, threads: 2))
        XCTAssertEqual(mlp.tensors.map(\.name), ["mlp.0.weight", "mlp.0.bias", "mlp.1.weight", "mlp.1.bias", "mlp.output.weight"])
        XCTAssertEqual(mlp.tensors.map(\.shape), [[6, 5], [5], [5, 3], [3], [3]])

        // A tensor of the wrong shape is an error that names it.
        var tensors = mlp.tensors
        tensors[2] = Tensor(name: "mlp.1.weight", shape: [3, 5], values: tensors[2].values)
        XCTAssertThrowsError(try RewardModel(architecture: RewardModel.mlp(mlp).architecture, tensors: tensors, file: "m")) {
            XCTAssertTrue("\($0)".contains("mlp.1.weight"), "\($0)")
        }
    }

    func test_rewards_are_the_forward_pass_by_hand() {
        // r(x) = v·tanh(W₁ᵀx + b₁) for one hidden layer of two units.
        let model = MLPRewardModel(inputDimension: 3, hidden: [2], activation: .tanh,
                                   parameters: [[1, 0, 0, 2, -1, 0.5], [0.1, -0.2], [3, -1]])
        let x: [Float] = [0.5, -1, 2]
        let hidden = [tanh(0.5 * 1 + -1 * 0 + 2 * -1 + 0.1), tanh(0.5 * 0 + -1 * 2 + 2 * 0.5 - 0.2)]
        let expected = 3 * hidden[0] - hidden[1]
        XCTAssertEqual(model.rewards(.dense(DenseRows(dimension: 3, values: x)), threads: 1)[0], Float(expected), accuracy: 1e-6)
    }
}
