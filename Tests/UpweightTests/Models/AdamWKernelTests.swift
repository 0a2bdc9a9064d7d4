import XCTest
import CKernels
@testable import UpweightSupport
@testable import UpweightModels
@testable import UpweightTraining

/// The C kernel of the MLP's AdamW step (`upweight_adamw`, through `Float32AdamW`): against the
/// formula in Double, and bit for bit the same on each path this CPU has (AVX-512, AVX2, portable) and as the Swift
/// SIMD rule it replaced, which still serves the linear model's Double θ.
final class AdamWKernelTests: XCTestCase {
    struct State: Equatable { var theta, m, v: [Float] }

    func run(_ state: State, gradient: [Float], step: Int, instructionSet: UpweightInstructionSet = UPWEIGHT_AVX512) -> (State, finite: Bool) {
        upweight_limit_instruction_set(instructionSet)
        defer { upweight_limit_instruction_set(UPWEIGHT_AVX512) }
        var (theta, m, v) = (state.theta, state.m, state.v)
        let rule = Float32AdamW(step: step, rate: 3e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, decay: 0.01)
        let finite = updateLanes(&theta, &m, &v, reading: gradient, threads: 1, rule)
        return (State(theta: theta, m: m, v: v), finite)
    }

    func test_the_kernel_follows_the_formula_and_rounds_alike_on_every_path() {
        var generator = SplitMix64(seed: 91)
        // Counts around the 8- and 16-lane vectors: a lone tail, one short of a vector, one over, several plus a tail.
        for count in [1, 7, 8, 9, 15, 16, 17, 37, 1_000] {
            var state = State(theta: randomValues(count, scale: 1, &generator), m: randomValues(count, scale: 0.1, &generator),
                              v: randomValues(count, scale: 0.1, &generator).map { $0 * $0 })
            var gradient = randomValues(count, scale: 2, &generator)
            // A zero gradient on zero moments (0/ε), and a gradient whose square overflows (v = ∞, step 0).
            (state.m[0], state.v[0], gradient[0]) = (0, 0, 0)
            if count > 1 { gradient[count - 1] = 1e30 }
            for step in [1, 7] {
                let (fast, fastFinite) = run(state, gradient: gradient, step: step)
                XCTAssertTrue(fastFinite)
                for set in instructionSetsOfThisCPU {
                    let (other, otherFinite) = run(state, gradient: gradient, step: step, instructionSet: set)
                    XCTAssertEqual(fast, other, "\(count) values, step \(step): the widest path and path \(set.rawValue)")
                    XCTAssertTrue(otherFinite)
                }
                // The Swift rule of the previous release: the same operations, so the same bits.
                var (theta, m, v) = (state.theta, state.m, state.v)
                updateLanes(&theta, &m, &v, reading: gradient, threads: 1,
                            AdamWRule<SIMD16<Float>>(step: step, rate: 3e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, decay: 0.01))
                XCTAssertEqual(fast, State(theta: theta, m: m, v: v), "\(count) values, step \(step): the Swift rule")
                // The formula in Double, with the constants as Float32 holds them (1 − β₂ is 0.0010000467).
                let (beta1, beta2): (Float, Float) = (0.9, 0.999)
                for i in 0..<count {
                    let g = Double(gradient[i])
                    let m1 = Double(beta1) * Double(state.m[i]) + Double(1 - beta1) * g
                    let v1 = Double(beta2) * Double(state.v[i]) + Double(1 - beta2) * g * g
                    let overflows = v1 > Double(Float.greatestFiniteMagnitude)  // then v is ∞ and m̂/√v̂ is 0
                    let corrected = overflows ? 0 : (m1 / (1 - pow(Double(beta1), Double(step)))) / ((v1 / (1 - pow(Double(beta2), Double(step)))).squareRoot() + Double(Float(1e-8)))
                    let theta1 = Double(state.theta[i]) - Double(Float(3e-3)) * (corrected + Double(Float(0.01)) * Double(state.theta[i]))
                    XCTAssertEqual(Double(fast.m[i]), m1, accuracy: 1e-6 * max(1, abs(m1)), "m[\(i)] of \(count)")
                    if !overflows {
                        XCTAssertEqual(Double(fast.v[i]), v1, accuracy: 1e-6 * max(1e-12, abs(v1)), "v[\(i)] of \(count)")
                    } else {
                        XCTAssertEqual(fast.v[i], .infinity, "v[\(i)] of \(count) overflows Float32")
                    }
                    XCTAssertEqual(Double(fast.theta[i]), theta1, accuracy: 1e-6 * max(1, abs(theta1)), "θ[\(i)] of \(count), step \(step)")
                }
            }
        }
    }

    func test_the_kernel_reports_a_parameter_that_is_not_finite_on_every_path() {
        for count in [1, 8, 9, 16, 37] {
            for position in Set([0, count / 2, count - 1]) {
                for bad: Float in [.nan, .infinity] {
                    var gradient = [Float](repeating: 0.5, count: count)
                    gradient[position] = bad
                    let state = State(theta: [Float](repeating: 1, count: count), m: [Float](repeating: 0, count: count),
                                      v: [Float](repeating: 0, count: count))
                    for set in instructionSetsOfThisCPU {
                        let (after, finite) = run(state, gradient: gradient, step: 1, instructionSet: set)
                        XCTAssertFalse(finite, "\(bad) at \(position) of \(count), path \(set.rawValue)")
                        XCTAssertTrue(after.theta[position].isNaN, "∞/∞ and NaN both make θ NaN")
                        XCTAssertEqual(after.theta.filter(\.isNaN).count, 1, "the other positions are untouched by it")
                    }
                }
            }
        }
    }
}
