import Foundation
import XCTest
@testable import UpweightSupport
@testable import UpweightData
@testable import UpweightModels
@testable import UpweightWeighting
@testable import UpweightEvaluation
@testable import UpweightTraining

/// `--target` end to end in the library: the domain classifier against a density ratio known in
/// closed form, and the accuracy gain on planted data where the target region needs another model.
final class TargetDomainTests: XCTestCase {
    /// Dense pairs as JSONL, each side drawn by `side`.
    func denseLines(_ count: Int, dimension: Int, seed: UInt64, side: (inout NormalSampler) -> [Double]) -> String {
        var normal = NormalSampler(seed: seed)
        return (0..<count).map { index in
            let a = side(&normal), b = side(&normal)
            return #"{"id":"\#(index)","chosen_features":\#(a),"rejected_features":\#(b)}"#
        }.joined(separator: "\n") + "\n"
    }

    /// Training means m ~ N(0, ½I) (a, b ~ N(0, I)), target means ~ N(μ, ½I) (a, b ~ N(μ, I)): the
    /// true density ratio of the means is exp(2μ·m − |μ|²) (two Gaussians of covariance ½I). The
    /// classifier's ratios must follow it: log ratios correlate, and their slope along μ is near 2.
    func test_the_classifier_recovers_a_known_density_ratio() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let dimension = 4
        let mu = [0.6, 0.0, 0.0, 0.0]
        let training = TestSupport.write(denseLines(4000, dimension: dimension, seed: 1) { normal in (0..<dimension).map { _ in normal.next() } },
                                         "train.jsonl", in: directory)
        let target = TestSupport.write(denseLines(2000, dimension: dimension, seed: 2) { normal in mu.map { $0 + normal.next() } },
                                       "target.jsonl", in: directory)
        let dataset = try TestSupport.read(paths: [training])
        var configuration = TrainingConfiguration()
        configuration.target = target
        configuration.targetClip = 1
        let sample = try TargetSample.read(target, like: dataset, fields: FieldNames())
        let weights = try TargetWeights(training: dataset, target: sample, configuration: configuration)
        guard case .dense(_, let chosen, let rejected) = dataset.responses else { return XCTFail() }
        let truth = (0..<dataset.count).map { pair in
            let m0 = Double(chosen[pair * dimension] + rejected[pair * dimension]) / 2
            return 2 * mu[0] * m0 - mu[0] * mu[0]
        }
        let estimated = weights.ratio.factors.map { log($0) }
        XCTAssertGreaterThan(correlation(estimated, truth), 0.95)
        // The factors are normalized: log r̂ = log r + constant, so compare slopes in m₀: 2μ₀ = 1.2.
        let m0 = truth.map { ($0 + mu[0] * mu[0]) / (2 * mu[0]) }
        XCTAssertEqual(slope(estimated, over: m0), 2 * mu[0], accuracy: 0.15)
        // AUC of N(0, ½) against N(0.6, ½) along μ: Φ(0.6/√(½+½)) = Φ(0.6) = 0.726; the squares add a
        // little noise, nothing else.
        XCTAssertEqual(weights.areaUnderROC, 0.726, accuracy: 0.03)
        XCTAssertEqual(weights.folds, 5)
        XCTAssertEqual(weights.trainingCount, 4000)
        XCTAssertEqual(weights.targetCount, 2000)
    }

    /// Target items from the training pairs' own distribution: the AUC is near ½, the weights near
    /// 1 (an effective sample size near n), and the run says that the weights change little.
    func test_alike_domains_give_weights_near_one_and_a_note() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let draw: (inout NormalSampler) -> [Double] = { normal in (0..<4).map { _ in normal.next() } }
        let training = TestSupport.write(denseLines(3000, dimension: 4, seed: 5, side: draw), "train.jsonl", in: directory)
        let target = TestSupport.write(denseLines(1000, dimension: 4, seed: 6, side: draw), "target.jsonl", in: directory)
        let dataset = try TestSupport.read(paths: [training])
        var configuration = TrainingConfiguration()
        configuration.target = target
        let weights = try TargetWeights(training: dataset, target: try TargetSample.read(target, like: dataset, fields: FieldNames()),
                                        configuration: configuration)
        XCTAssertEqual(weights.areaUnderROC, 0.5, accuracy: 0.05)
        XCTAssertGreaterThan(weights.effectiveShare, 0.95)
        XCTAssertEqual(weights.notes.count, 3)
        XCTAssertEqual(weights.notes[2], "note: the target items look like the training pairs (AUC \(fixed(weights.areaUnderROC, 3)) < 0.6): the weights stay near 1 and change little")
    }

    func correlation(_ x: [Double], _ y: [Double]) -> Double {
        let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
        let sxy = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let sxx = x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }, syy = y.reduce(0) { $0 + ($1 - my) * ($1 - my) }
        return sxy / (sxx * syy).squareRoot()
    }

    func slope(_ y: [Double], over x: [Double]) -> Double {
        let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
        return zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
    }

    /// The anchor of issue 16 at a smaller size (scripts/target-domain-data draws the same kind):
    /// r(x) = w·x + (u·x)², the target region u·(a+b)/2 > 0.8, of which training keeps 8%.
    struct QuadraticRegion {
        let dimension = 8
        let w: [Double]
        let u: [Double]

        init() {
            w = [1, 0, 0, 0, 0, 0, 0, 0]
            u = [0, 0.6, 0.8, 0, 0, 0, 0, 0]  // ⟂ w, not along an axis
        }

        func reward(_ x: [Double]) -> Double {
            let along = zip(u, x).reduce(0) { $0 + $1.0 * $1.1 }
            return zip(w, x).reduce(0) { $0 + $1.0 * $1.1 } + along * along
        }

        func inRegion(_ a: [Double], _ b: [Double]) -> Bool { zip(u, zip(a, b)).reduce(0) { $0 + $1.0 * ($1.1.0 + $1.1.1) / 2 } > 0.8 }

        /// `count` labelled (or, with `labelled` false, unordered) pairs passing `keep`, as JSONL.
        func lines(_ count: Int, seed: UInt64, labelled: Bool = true, category: String = "default",
                   keep: (_ inRegion: Bool, _ uniform: Double) -> Bool) -> String {
            var normal = NormalSampler(seed: seed)
            var uniform = SplitMix64(seed: seed ^ 0xFFFF)
            var lines: [String] = []
            while lines.count < count {
                let a = (0..<dimension).map { _ in (normal.next() * 1e4).rounded() / 1e4 }
                let b = (0..<dimension).map { _ in (normal.next() * 1e4).rounded() / 1e4 }
                guard keep(inRegion(a, b), uniform.nextUnit()) else { continue }
                let aWins = !labelled || uniform.nextUnit() < 1 / (1 + exp(-(reward(a) - reward(b))))
                let (chosen, rejected) = aWins ? (a, b) : (b, a)
                lines.append(#"{"category":"\#(category)","chosen_features":\#(chosen),"rejected_features":\#(rejected)}"#)
            }
            return lines.joined(separator: "\n") + "\n"
        }
    }

    /// The gain on the target region: uniform vs `--target`, on 1,500 evaluation pairs from the
    /// region, with the paired bootstrap interval of the difference (as `upweight compare`).
    func test_importance_weights_raise_accuracy_on_the_target_region() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let plant = QuadraticRegion()
        let training = TestSupport.write(plant.lines(6000, seed: 11) { inRegion, u in !inRegion || u < 0.08 }, "train.jsonl", in: directory)
        let target = TestSupport.write(plant.lines(1000, seed: 12, labelled: false) { inRegion, _ in inRegion }, "target.jsonl", in: directory)
        let evaluation = TestSupport.write(plant.lines(1500, seed: 13) { inRegion, _ in inRegion }, "eval.jsonl", in: directory)
        let dataset = try TestSupport.read(paths: [training])
        let test = try TestSupport.read(paths: [evaluation])
        var configuration = TrainingConfiguration()
        configuration.reading.threads = 2
        let uniform = try Trainer.train(dataset, configuration: configuration)
        configuration.target = target
        let weighted = try Trainer.train(dataset, configuration: configuration)
        func margins(_ outcome: Trainer.Outcome) throws -> [Double] {
            let rewards = try outcome.trained.rewards(for: test, threads: 2)
            return zip(rewards.chosen, rewards.rejected).map { Double($0) - Double($1) }
        }
        let base = Bootstrap.Scores(margins: try margins(uniform), ties: .half)
        let model = Bootstrap.Scores(margins: try margins(weighted), ties: .half)
        let all = Array(0..<test.count)
        let intervals = Bootstrap(groups: [all], samples: 1000, seed: 0).intervals(model: model, baseline: base)
        // Measured: uniform 0.53, weighted 0.84 (difference interval about ±0.03).
        XCTAssertLessThan(base.accuracy(all), 0.62)
        XCTAssertGreaterThan(model.accuracy(all), 0.75)
        XCTAssertGreaterThan(intervals.differenceOverall.lower, 0.1, "the gain's 95% interval is well above 0")
        // The summary config.json keeps.
        let summary = try XCTUnwrap(weighted.target)
        XCTAssertGreaterThan(summary.areaUnderROC, 0.95)
        XCTAssertTrue(summary.notes.last?.hasPrefix("warning: the target items are far from most training pairs (AUC 0.9") == true, "\(summary.notes)")
        XCTAssertEqual(summary.ratio.clippedPairs, 60, "1% of 6,000 ratios lie above their 0.99 quantile")
        XCTAssertEqual(weighted.trained.provenance["target"], .object(summary.json))
        XCTAssertEqual(weighted.weightSummary.effectiveSampleSize, summary.ratio.effectiveSampleSize, accuracy: 1e-6,
                       "no other weight source: the run's ESS is the target weights'")
    }

    /// Same data, same flags: the same weights and the same model, bit for bit.
    func test_target_weights_are_deterministic() throws {
        let directory = TestSupport.temporaryDirectory(self)
        let plant = QuadraticRegion()
        let training = TestSupport.write(plant.lines(1500, seed: 21) { inRegion, u in !inRegion || u < 0.2 }, "train.jsonl", in: directory)
        let target = TestSupport.write(plant.lines(300, seed: 22, labelled: false) { inRegion, _ in inRegion }, "target.jsonl", in: directory)
        let dataset = try TestSupport.read(paths: [training])
        var configuration = TrainingConfiguration()
        configuration.target = target
        let first = try Trainer.train(dataset, configuration: configuration)
        let second = try Trainer.train(dataset, configuration: configuration)
        XCTAssertEqual(first.target?.ratio, second.target?.ratio)
        guard case .linear(let a) = first.trained.model, case .linear(let b) = second.trained.model else { return XCTFail() }
        XCTAssertEqual(a.weight, b.weight)
    }
}
