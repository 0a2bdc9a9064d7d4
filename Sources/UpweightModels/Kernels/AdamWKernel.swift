import CKernels
import UpweightSupport

/// AdamW's step on Float32 parameters, for `updateLanes`: each run of positions goes to the C kernel
/// `upweight_adamw` (include/CKernels.h has the formula), AVX-512 when the CPU has it. Swift SIMD
/// code compiles for baseline x86-64, where this step took its square roots lane by lane.
package struct Float32AdamW: LaneUpdate {
    package typealias Scalar = Float
    package let constants: UpweightAdamWStep

    /// The constants of step `step` (from 1); the bias corrections are computed in Double, then rounded.
    package init(step: Int, rate: Double, beta1: Float, beta2: Float, epsilon: Float, decay: Double) {
        constants = UpweightAdamWStep(rate: Float(rate), beta1: beta1, beta2: beta2, epsilon: epsilon, decay: Float(decay),
                                      inverseCorrection1: Float(1 / (1 - pow(Double(beta1), Double(step)))),
                                      inverseCorrection2: Float(1 / (1 - pow(Double(beta2), Double(step)))))
    }

    package func update(_ p: Pointers, from start: Int, count: Int) -> Bool {
        withUnsafePointer(to: constants) { upweight_adamw($0, count, p.0 + start, p.1 + start, p.2 + start, p.3 + start) }
    }
}
