import Foundation
import XCTest
@testable import UpweightSupport
@testable import UpweightData
@testable import UpweightModels
@testable import UpweightWeighting
@testable import UpweightEvaluation
@testable import UpweightTraining

final class WeightingTests: XCTestCase {
    func test_category_schemes_for_counts_90_and_10() {
        func check(_ scheme: CategoryScheme, _ expected: [Double]) {
            let weights = scheme.weights(counts: [90, 10])
            for (got, want) in zip(weights, expected) { XCTAssertEqual(got, want, accuracy: 5e-5, "\(scheme)") }
        }
        check(.none, [1, 1])
        check(.balanced, [0.5556, 5.0])
        check(.sqrt, [0.7454, 2.2361])
        check(.effective(beta: 0.9), [0.7889, 1.2111])
        // The issue quotes 0.2770 / 1.7230; (1−β)/(1−β^n) rescaled to sum 2 gives 0.27680 / 1.72320.
        check(.effective(beta: 0.99), [0.27680, 1.72320])
        XCTAssertEqual(CategoryScheme("effective:0.999"), .effective(beta: 0.999))
        XCTAssertNil(CategoryScheme("effective:1"))
        XCTAssertNil(CategoryScheme("balance"))
    }

    /// A synthetic file whose minority category's reward conflicts with the majority's.
    func conflictingData(text: Bool = false, seed: UInt64 = 3, flip: Double = 0) throws -> (train: PreferenceDataset, test: PreferenceDataset) {
        var specification = SyntheticSpecification()
        specification.pairs = 6000
        specification.dimension = text ? nil : 16
        specification.categories = [("general", 0.8), ("safety", 0.2)]
        specification.categoryStrength = 1.5
        specification.seed = seed
        if flip > 0 { specification.labelFlip = ["safety": flip] }
        let path = TestSupport.write(specification.generate().jsonl, "synth.jsonl", in: TestSupport.temporaryDirectory(self))
        let dataset = try TestSupport.read(paths: [path])
        return (dataset.subset((0..<dataset.count).filter { dataset.splits[$0] == "train" }),
                dataset.subset((0..<dataset.count).filter { dataset.splits[$0] == "test" }))
    }

    func heldOutAccuracy(_ configuration: TrainingConfiguration, _ data: (train: PreferenceDataset, test: PreferenceDataset)) throws -> [String: Double] {
        let trained = try Trainer.train(data.train, configuration: configuration).trained
        let rewards = try trained.rewards(for: data.test, threads: 2)
        let report = EvaluationReport(dataset: data.test, chosenRewards: rewards.chosen, rejectedRewards: rewards.rejected)
        return Dictionary(uniqueKeysWithValues: report.categories.map { ($0.name, $0.metrics.accuracy) })
    }

    func test_a_scheme_gives_the_same_model_as_the_same_weights_passed_explicitly() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let original = try Data(contentsOf: URL(fileURLWithPath: TestSupport.fixture("linear-dense/train.jsonl")))
        let lines = String(decoding: original, as: UTF8.self).split(separator: "\n").map(String.init)
        var plain = try TestSupport.read(paths: [TestSupport.fixture("linear-dense/train.jsonl")])
        let balanced = CategoryScheme.balanced.weights(counts: plain.categoryCounts)
        // Rewrite every line's weight field as weight × s_k.
        var rewritten: [String] = []
        for (index, line) in lines.enumerated() {
            var object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            object["weight"] = plain.exampleWeights[index] * balanced[Int(plain.categoryIndices[index])]
            rewritten.append(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
        }
        let explicit = try TestSupport.read(paths: [TestSupport.write(rewritten.joined(separator: "\n"), "w.jsonl", in: directory)])
        var schemeConfiguration = TrainingConfiguration()
        schemeConfiguration.l2 = 0.01
        schemeConfiguration.tolerance = 1e-10
        schemeConfiguration.weighting.scheme = .balanced
        var explicitConfiguration = schemeConfiguration
        explicitConfiguration.weighting.scheme = .none
        let a = try Trainer.train(plain, configuration: schemeConfiguration).trained.model
        let b = try Trainer.train(explicit, configuration: explicitConfiguration).trained.model
        guard case .linear(let first) = a, case .linear(let second) = b else { return XCTFail() }
        XCTAssertLessThan(relativeDistance(first.weight.map(Double.init), second.weight.map(Double.init)), 1e-6)
        plain.exampleWeights = plain.exampleWeights.map { _ in 1 }
    }

    func test_clip_then_normalize_and_the_weight_summary() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let lines = [0.5, 1, 2, 10].enumerated().map { #"{"prompt":"p","chosen":"a\#($0.offset)","rejected":"b","weight":\#($0.element),"category":"\#($0.offset < 2 ? "x" : "y")"}"# }
        let dataset = try TestSupport.read(paths: [TestSupport.write(lines.joined(separator: "\n"), "w.jsonl", in: directory)])
        var weighting = WeightingConfiguration()
        weighting.clip = 1...4
        // clip → [1, 1, 2, 4], mean 2 → [0.5, 0.5, 1, 2]
        let weights = try weighting.weights(for: dataset)
        XCTAssertEqual(weights, [0.5, 0.5, 1, 2])
        let summary = WeightSummary(dataset: dataset, weights: weights)
        XCTAssertEqual(summary.effectiveSampleSize, 16 / 5.5, accuracy: 1e-12)  // (Σw)² / Σw² = 16 / 5.5
        XCTAssertEqual(summary.topOnePercentShare, 0.5, accuracy: 1e-12)       // the heaviest pair: 2 of 4
        XCTAssertEqual(summary.categories.map(\.shareBefore), [1.5 / 13.5, 12 / 13.5])
        XCTAssertEqual(summary.categories.map(\.shareAfter), [0.25, 0.75])
    }

    /// E[sample-mode gradient] = loss-mode gradient: drawing pairs ∝ w and weighting them 1 gives
    /// Σ_i (w_i/Σw)·∇ℓ_i in expectation. Averaged over R resamples of N draws, the standard error is
    /// about ‖σ‖/√(R·N) ≈ 0.3% of the gradient here; the tolerance (2%) is several standard errors.
    func test_sample_mode_gradient_converges_to_loss_mode_gradient() throws {
        let data = try conflictingData()
        let dataset = data.train.subset(Array(0..<500))
        var weighting = WeightingConfiguration()
        weighting.upweight = ["safety": 5]
        let weights = try weighting.weights(for: dataset)
        let features = try Featurizer.fit(dataset, hashBits: 10, includePrompt: false, standardize: false).features(of: dataset, threads: 1)
        let theta = (0..<features.dimension).map { Double($0 % 5) * 0.1 - 0.2 }
        let lossMode = LinearObjective(features: features, weights: weights, margins: dataset.margins, loss: PairLoss(), l2: 0, threads: 1)
        var expected: [Double] = []
        _ = lossMode.evaluate(theta, gradient: &expected)
        let sampleMode = LinearObjective(features: features, weights: [Double](repeating: 1, count: weights.count),
                                         margins: dataset.margins, loss: PairLoss(), l2: 0, threads: 1)
        let sampler = AliasSampler(weights: weights)
        var generator = SplitMix64(seed: 7)
        var average = [Double](repeating: 0, count: theta.count)
        let resamples = 400
        for _ in 0..<resamples {
            var gradient: [Double] = []
            _ = sampleMode.evaluate(theta, pairs: sampler.draw(dataset.count, using: &generator), gradient: &gradient)
            for index in average.indices { average[index] += gradient[index] / Double(resamples) }
        }
        XCTAssertLessThan(relativeDistance(average, expected), 0.02)
    }

    func test_alias_sampler_draws_in_proportion_to_weights() {
        let sampler = AliasSampler(weights: [1, 0, 3, 6])
        var generator = SplitMix64(seed: 1)
        var counts = [0, 0, 0, 0]
        for index in sampler.draw(100_000, using: &generator) { counts[index] += 1 }
        XCTAssertEqual(counts[1], 0)
        // Binomial standard deviation at p = 0.6, n = 1e5 is 0.0015; allow 4 of them.
        for (index, share) in [0.1, 0.0, 0.3, 0.6].enumerated() {
            XCTAssertEqual(Double(counts[index]) / 100_000, share, accuracy: 0.006)
        }
    }

    func test_upweighting_a_conflicting_minority_raises_its_held_out_accuracy() throws {
        let data = try conflictingData()
        var configuration = TrainingConfiguration()
        configuration.l2 = 0.001
        let uniform = try heldOutAccuracy(configuration, data)
        configuration.weighting.upweight = ["safety": 4]
        let upweighted = try heldOutAccuracy(configuration, data)
        XCTAssertGreaterThan(upweighted["safety"]!, uniform["safety"]! + 0.03, "upweighting helps the target")
        XCTAssertLessThan(upweighted["general"]!, uniform["general"]!, "and costs the majority: the categories conflict")
    }

    func test_sample_mode_upweighting_acts_like_loss_mode() throws {
        let data = try conflictingData()
        var configuration = TrainingConfiguration()
        configuration.l2 = 0.001
        configuration.weighting.upweight = ["safety": 4]
        let loss = try heldOutAccuracy(configuration, data)
        configuration.weightMode = .sample
        let sample = try heldOutAccuracy(configuration, data)
        XCTAssertEqual(sample["safety"]!, loss["safety"]!, accuracy: 0.04)
        XCTAssertEqual(sample["general"]!, loss["general"]!, accuracy: 0.04)
    }

    func test_group_dro_raises_the_worst_category_with_both_optimizers() throws {
        let data = try conflictingData()
        var configuration = TrainingConfiguration()
        configuration.l2 = 0.001
        let uniform = try heldOutAccuracy(configuration, data)
        configuration.groupDRO = 1
        let robust = try heldOutAccuracy(configuration, data)
        XCTAssertGreaterThan(robust.values.min()!, uniform.values.min()! + 0.03)
        // With AdamW, η acts once per minibatch step: it must be small (Sagawa et al. use 0.01), or q
        // swings from one category to the other.
        configuration.optimizer = .adamw
        configuration.learningRate = 0.01
        configuration.epochs = 20
        configuration.groupDRO = 0.01
        let stochastic = try heldOutAccuracy(configuration, data)
        configuration.groupDRO = 0
        let stochasticUniform = try heldOutAccuracy(configuration, data)
        XCTAssertGreaterThan(stochastic.values.min()!, stochasticUniform.values.min()! + 0.02)
    }

    func test_group_dro_update_is_exponentiated_gradient() {
        var dro = GroupDRO(stepSize: 0.5, adjustment: 1, counts: [100, 25])
        XCTAssertEqual(dro.groupWeights, [0.5, 0.5])
        dro.update(categoryLosses: [0.4, 0.6])
        // q ∝ 0.5·exp(0.5·(0.4 + 1/10)), 0.5·exp(0.5·(0.6 + 1/5))
        let a = exp(0.5 * 0.5), b = exp(0.5 * 0.8)
        XCTAssertEqual(dro.groupWeights[0], a / (a + b), accuracy: 1e-12)
        XCTAssertEqual(dro.groupWeights[1], b / (a + b), accuracy: 1e-12)
        XCTAssertEqual(dro.categoryScale(weightByCategory: [50, 10]), [dro.groupWeights[0] / 50, dro.groupWeights[1] / 10])
    }

    func test_boosting_reweights_the_pairs_it_got_wrong() throws {
        var received: [[Double]] = []
        let rounds = try Boosting.run(rounds: 2, weights: [1, 1, 1, 1], progress: { _ in }) { weights in
            received.append(weights)
            return (.linear(LinearRewardModel(weight: [1])), [1, 1, -1, 1])
        }
        // ε = ¼, α = ½ ln 3; the wrong pair's weight becomes ½ of the total (AdaBoost's property).
        XCTAssertEqual(rounds[0].error, 0.25)
        XCTAssertEqual(rounds[0].alpha, 0.5 * log(3.0), accuracy: 1e-12)
        XCTAssertEqual(received[1][0], 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(received[1][2], 2.0, accuracy: 1e-12)
        let single = try Boosting.run(rounds: 1, weights: [1, 2], progress: { _ in }) { _ in (.linear(LinearRewardModel(weight: [3])), [1, -1]) }
        XCTAssertEqual(single.count, 1)
        XCTAssertEqual(single[0].alpha, 1)
    }

    func test_boosted_model_round_trips() throws {
        let data = try conflictingData()
        var configuration = TrainingConfiguration()
        configuration.l2 = 0.001
        configuration.boostRounds = 3
        let trained = try Trainer.train(data.train, configuration: configuration).trained
        guard case .boosted(let boosted) = trained.model else { return XCTFail("expected a boosted model") }
        XCTAssertEqual(boosted.coefficients.reduce(0, +), 1, accuracy: 1e-6)
        let directory = TestSupport.temporaryDirectory(self) + "/boosted"
        try ModelDirectory.save(trained, to: directory)
        let loaded = try ModelDirectory.load(directory)
        XCTAssertEqual(loaded.model, trained.model)
    }

    /// R(x) = Σ_t c_t·r_t(x), against numbers worked by hand: members θ₁ = (1, 0) and θ₂ = (0, 2) with
    /// c = (¼, ¾) score the row (1, 1) ¼·1 + ¾·2 = 1.75 and the row (2, −1) ¼·2 + ¾·(−2) = −1.
    func test_boosted_rewards_are_the_coefficient_weighted_sum_of_the_members() {
        let boosted = RewardModel.boosted(BoostedRewardModel(members: [.linear(LinearRewardModel(weight: [1, 0])),
                                                                       .linear(LinearRewardModel(weight: [0, 2]))],
                                                             coefficients: [0.25, 0.75]))
        XCTAssertEqual(boosted.rewards(.dense(DenseRows(dimension: 2, values: [1, 1, 2, -1])), threads: 1), [1.75, -1])
    }

    func test_synthetic_data_is_deterministic_and_reports_bayes_accuracy() {
        var specification = SyntheticSpecification()
        specification.pairs = 500
        specification.seed = 11
        let first = specification.generate()
        XCTAssertEqual(first.jsonl, specification.generate().jsonl)
        XCTAssertGreaterThan(first.bayesAccuracy, 0.5)
        XCTAssertLessThan(first.bayesAccuracy, 1)
        specification.labelFlip = ["general": 0.5, "safety": 0.5, "math": 0.5]
        XCTAssertEqual(specification.generate().bayesAccuracy, 0.5, accuracy: 1e-12, "labels flipped half the time carry no signal")
    }
}
