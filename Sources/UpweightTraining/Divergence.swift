import UpweightSupport
import UpweightIO

/// The one test of whether training has gone off the rails, and the one message saying so. A
/// diverged run is exit 70 and writes nothing: an all-zero model with objective 3e20 must not be
/// saved as if it had learned something.
///
/// Diverged means: the loss or a parameter is not finite; or the loss has grown past 100× its
/// initial value (a first step that cannot decrease it is fine, growth by two orders of magnitude
/// is not); or every reward is the same while the initial model's were not (an MLP whose units
/// all died).
package struct Divergence {
    package let optimizer: OptimizerKind
    package let learningRate: Double
    package let l2: Double
    /// How far the loss may grow over its initial value.
    package static let growthLimit = 100.0

    package init(_ configuration: TrainingConfiguration) {
        optimizer = configuration.resolvedOptimizer
        learningRate = configuration.learningRate
        l2 = configuration.l2
    }

    /// Throws when `loss` or the parameters are not finite, or `loss` exceeds 100× `initialLoss`.
    package func check(loss: Double, initialLoss: Double?, parametersFinite: Bool, at place: String) throws {
        guard loss.isFinite, parametersFinite else { throw diverged(at: place, "the loss or a parameter is not finite") }
        if let initialLoss, initialLoss > 0, loss > Self.growthLimit * initialLoss {
            // Float precision is plenty here: "1.0238887e+25", not 16 digits.
            throw diverged(at: place, "the training loss \(Float(loss)) is more than \(Int(Self.growthLimit))× the initial \(Float(initialLoss))")
        }
    }

    /// Throws when every reward of `final` is the same while those of `initial` were not.
    package func checkRewards(initial: [Float], final: [Float], at place: String) throws {
        func constant(_ rewards: [Float]) -> Bool { rewards.allSatisfy { $0 == rewards.first } }
        if constant(final), !constant(initial) {
            throw diverged(at: place, "every reward is \(final.first.map { "\($0)" } ?? "the same") while the initial model's differed (its units died)")
        }
    }

    /// The message names the optimizer's own knob: AdamW's learning rate; L-BFGS has none, so the
    /// curvature (--l2) and the features' scale are what to change.
    package func diverged(at place: String, _ what: String) -> TrainingError {
        switch optimizer {
        case .adamw:
            return TrainingError("training diverged at \(place): \(what). The learning rate (\(JSONValue.format(learningRate))) is probably too high: try --learning-rate \(JSONValue.format(learningRate / 10)), or raise --l2")
        case .lbfgs:
            return TrainingError("training diverged at \(place): \(what). L-BFGS has no learning rate: raise --l2 (now \(JSONValue.format(l2))), or standardize the features (--standardize) or scale them down")
        }
    }
}
