import XCTest
@testable import UpweightSupport
@testable import UpweightData
@testable import UpweightTraining

/// Analytic gradients against central finite differences, for every loss option, dense and sparse.
final class GradientTests: XCTestCase {
    func checkGradient(_ features: PairFeatures, loss: PairLoss, l2: Double, file: StaticString = #filePath, line: UInt = #line) {
        let pairs = features.count
        var generator = SplitMix64(seed: 99)
        let weights = (0..<pairs).map { _ in generator.nextUnit() * 2 }
        let margins = (0..<pairs).map { _ in generator.nextUnit() - 0.5 }
        let objective = LinearObjective(features: features, weights: weights, margins: margins, loss: loss, l2: l2, threads: 2)
        let theta = (0..<features.dimension).map { _ in generator.nextUnit() * 2 - 1 }
        var gradient: [Double] = []
        _ = objective.evaluate(theta, gradient: &gradient)
        var ignored: [Double] = []
        let step = 1e-5
        for index in theta.indices {
            var plus = theta, minus = theta
            plus[index] += step
            minus[index] -= step
            let numeric = (objective.evaluate(plus, gradient: &ignored).value - objective.evaluate(minus, gradient: &ignored).value) / (2 * step)
            XCTAssertEqual(gradient[index], numeric, accuracy: 1e-7 + 1e-6 * abs(numeric), "∂L/∂θ[\(index)]", file: file, line: line)
        }
    }

    func test_linear_gradients_match_finite_differences_for_every_loss_option() {
        let options = [PairLoss(), PairLoss(labelSmoothing: 0.1), PairLoss(focalGamma: 2), PairLoss(centerRewards: 0.05),
                       PairLoss(labelSmoothing: 0.2, focalGamma: 1.5, centerRewards: 0.01)]
        for loss in options {
            checkGradient(randomDensePairs(pairs: 50, dimension: 11, seed: 1), loss: loss, l2: 0.01)
            checkGradient(randomSparsePairs(pairs: 60, dimension: 30, seed: 2), loss: loss, l2: 0.001)
        }
    }

    func test_plain_options_are_exactly_the_plain_loss() {
        let plain = PairLoss()
        for delta in stride(from: -30.0, through: 30, by: 0.7) {
            let value = plain.evaluate(chosen: delta, rejected: 0, margin: 0)
            XCTAssertEqual(value.loss, softplus(-delta))
            XCTAssertEqual(value.dChosen, -sigmoid(-delta))
            XCTAssertEqual(value.dRejected, sigmoid(-delta))
        }
    }

    func test_softplus_and_sigmoid_are_stable_at_extremes() {
        XCTAssertEqual(softplus(1000), 1000)
        XCTAssertEqual(softplus(-1000), 0)
        XCTAssertEqual(softplus(0), 0.6931471805599453, accuracy: 1e-15)
        XCTAssertEqual(sigmoid(-1000), 0)
        XCTAssertEqual(sigmoid(1000), 1)
    }
}
