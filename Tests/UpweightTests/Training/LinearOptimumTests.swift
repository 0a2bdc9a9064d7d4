import Foundation
import XCTest
@testable import UpweightData
@testable import UpweightWeighting
@testable import UpweightEvaluation
@testable import UpweightTraining

/// The linear optimum equals scikit-learn's (fixtures computed with sklearn 1.9.1 and polished with SciPy).
final class LinearOptimumTests: XCTestCase {
    struct Reference {
        var theta: [Double]
        var objective: Double
        var lambda: Double
        var upweight: [String: Double]
        var firstWeights: [Double]?
    }

    func reference(_ folder: String) throws -> Reference {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestSupport.fixture("\(folder)/reference.json")))
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return Reference(theta: object["theta"] as! [Double], objective: object["objective_value"] as! Double,
                         lambda: object["lambda"] as! Double, upweight: object["upweight"] as! [String: Double],
                         firstWeights: object["first_normalized_weights"] as? [Double])
    }

    func train(_ folder: String, hashBits: Int = 18, threads: Int = 2) throws -> (Trainer.Outcome, Reference, PreferenceDataset) {
        let expected = try reference(folder)
        var configuration = TrainingConfiguration()
        configuration.l2 = expected.lambda
        configuration.weighting.upweight = expected.upweight
        configuration.hashBits = hashBits
        configuration.tolerance = 1e-10
        configuration.reading.threads = threads
        let dataset = try TestSupport.read(paths: [TestSupport.fixture("\(folder)/train.jsonl")]) { $0.threads = threads }
        return (try Trainer.train(dataset, configuration: configuration), expected, dataset)
    }

    func assertMatches(_ outcome: Trainer.Outcome, _ expected: Reference, file: StaticString = #filePath, line: UInt = #line) {
        guard case .linear(let model) = outcome.trained.model else { return XCTFail("expected a linear model", file: file, line: line) }
        let theta = model.weight.map(Double.init)
        XCTAssertLessThan(relativeDistance(theta, expected.theta), 1e-4, "θ", file: file, line: line)
        XCTAssertLessThan(abs(outcome.objective - expected.objective) / expected.objective, 1e-6, "objective", file: file, line: line)
    }

    func test_dense_optimum_with_upweighted_category_equals_sklearn() throws {
        let (outcome, expected, dataset) = try train("linear-dense")
        assertMatches(outcome, expected)
        let weights = try TrainingConfiguration().weighting.with(upweight: expected.upweight).weights(for: dataset)
        for (index, reference) in expected.firstWeights!.enumerated() {
            XCTAssertEqual(weights[index], reference, accuracy: 1e-12)
        }
    }

    func test_dense_optimum_with_margins_equals_scipy() throws {
        let (outcome, expected, _) = try train("linear-dense-margin")
        assertMatches(outcome, expected)
    }

    func test_hashed_text_optimum_equals_sklearn() throws {
        let (outcome, expected, _) = try train("linear-text", hashBits: 12)
        assertMatches(outcome, expected)
    }

    func test_one_thread_and_two_threads_reach_the_same_optimum() throws {
        let (one, expected, _) = try train("linear-dense", threads: 1)
        let (two, _, _) = try train("linear-dense", threads: 2)
        assertMatches(one, expected)
        guard case .linear(let a) = one.trained.model, case .linear(let b) = two.trained.model else { return XCTFail() }
        XCTAssertLessThan(relativeDistance(a.weight.map(Double.init), b.weight.map(Double.init)), 1e-6)
    }

    func test_adamw_approaches_the_same_optimum() throws {
        let expected = try reference("linear-dense")
        var configuration = TrainingConfiguration()
        configuration.l2 = expected.lambda
        configuration.weighting.upweight = expected.upweight
        configuration.optimizer = .adamw
        configuration.learningRate = 0.01
        configuration.epochs = 30
        configuration.batchSize = 100
        let dataset = try TestSupport.read(paths: [TestSupport.fixture("linear-dense/train.jsonl")])
        let outcome = try Trainer.train(dataset, configuration: configuration)
        // Minibatch noise keeps AdamW near, not at, the optimum.
        XCTAssertLessThan(abs(outcome.objective - expected.objective) / expected.objective, 1e-3)
    }
}

extension WeightingConfiguration {
    func with(upweight: [String: Double]) -> WeightingConfiguration {
        var copy = self
        copy.upweight = upweight
        return copy
    }
}
