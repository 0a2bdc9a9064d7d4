#if canImport(Glibc)
import Glibc
#endif

/// The one place that knows every stage: weights → features → objective → optimizer → model.
public enum Trainer {
    public struct Outcome: Sendable {
        public var trained: TrainedModel
        public var weightSummary: WeightSummary
        public var objective: Double
        public var description: String
    }

    /// Trains on `dataset` as `configuration` says. `log` receives one line per epoch or iteration batch.
    public static func train(_ dataset: PreferenceDataset, configuration: TrainingConfiguration,
                             log: (String) -> Void = { _ in }) throws -> Outcome
    {
        let weights = try configuration.weighting.weights(for: dataset)
        let summary = WeightSummary(dataset: dataset, weights: weights)
        let featurizer = Featurizer.fit(dataset, hashBits: configuration.hashBits,
                                        includePrompt: configuration.includePrompt, standardize: configuration.standardize)
        let threads = configuration.reading.threads
        let features = try featurizer.features(of: dataset, threads: threads)
        let objective = LinearObjective(features: features, weights: weights, margins: dataset.margins,
                                        loss: PairLoss(), l2: configuration.l2, threads: threads)
        var theta = [Double](repeating: 0, count: features.dimension)
        var value: Double
        var result = JSONObject()
        switch configuration.resolvedOptimizer {
        case .lbfgs:
            let solver = LBFGS(maxIterations: configuration.maxIterations, gradientTolerance: configuration.tolerance)
            let outcome = solver.minimize(from: theta, objective: { objective.evaluate($0, gradient: &$1) }) { iteration, loss, gradientNorm in
                if iteration % 10 == 0 { log("iteration \(iteration): objective \(loss), gradient norm \(gradientNorm)") }
            }
            theta = outcome.parameters
            value = outcome.value
            result["iterations"] = JSONValue(outcome.iterations)
            result["evaluations"] = JSONValue(outcome.evaluations)
            result["gradient_norm"] = .number(outcome.gradientNorm)
            result["stop_reason"] = .string(outcome.stopReason)
        case .adamw:
            var optimizer = AdamW(learningRate: configuration.learningRate, weightDecay: configuration.weightDecay)
            var generator = SplitMix64(seed: configuration.seed)
            var order = Array(0..<dataset.count)
            var gradient: [Double] = []
            for epoch in 1...configuration.epochs {
                order.seededShuffle(using: &generator)
                var epochLoss = 0.0
                var batches = 0
                for start in stride(from: 0, to: order.count, by: configuration.batchSize) {
                    let batch = Array(order[start..<min(start + configuration.batchSize, order.count)])
                    epochLoss += objective.evaluate(theta, pairs: batch, gradient: &gradient)
                    batches += 1
                    optimizer.update(&theta, gradient: gradient)
                    try checkFinite(theta, epoch: epoch, step: optimizer.step, rate: configuration.learningRate)
                }
                log("epoch \(epoch): mean batch objective \(epochLoss / Double(max(batches, 1)))")
            }
            value = objective.evaluate(theta, gradient: &gradient)
            result["steps"] = JSONValue(optimizer.step)
        }
        guard value.isFinite, theta.allSatisfy(\.isFinite) else {
            throw TrainingError("training diverged: the objective or a parameter is not finite; lower the learning rate or raise --l2")
        }
        result["objective"] = .number(value)

        var provenance = JSONObject()
        provenance["training"] = .object(configuration.json)
        provenance["weights"] = .object(summary.json)
        provenance["data"] = ["pairs": JSONValue(dataset.count), "fingerprint": .string(fingerprint(of: dataset))]
        provenance["result"] = .object(result)
        let model = RewardModel.linear(LinearRewardModel(weight: theta.map { Float($0) }))
        let trained = TrainedModel(featurizer: featurizer, model: model, reading: configuration.reading, provenance: provenance)
        return Outcome(trained: trained, weightSummary: summary, objective: value,
                       description: "objective \(value)")
    }

    static func checkFinite(_ parameters: [Double], epoch: Int, step: Int, rate: Double) throws {
        guard parameters.allSatisfy(\.isFinite) else {
            throw TrainingError("training diverged at epoch \(epoch), step \(step): a parameter is not finite. The learning rate (\(rate)) is probably too high: try --learning-rate \(rate / 10)")
        }
    }
}
