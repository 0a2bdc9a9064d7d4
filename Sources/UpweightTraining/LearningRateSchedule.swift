import UpweightSupport

/// The learning rate at each step: a linear warmup from 0, then constant, or a linear or cosine
/// decay that reaches 0 at the last step.
///
///     t ≤ W:  η·t/W                                  (steps t = 1…T; W warmup steps)
///     t > W:  η·f(p),  p = (t − W)/(T − W)           f = 1 (constant), 1 − p (linear), ½(1 + cos πp) (cosine)
public struct LearningRateSchedule: Sendable, Equatable {
    public enum Decay: String, CaseIterable, Sendable { case constant, linear, cosine }

    public var peak: Double
    public var warmupSteps: Int
    public var totalSteps: Int
    public var decay: Decay

    public init(peak: Double, warmupSteps: Int = 0, totalSteps: Int, decay: Decay = .constant) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.decay = decay
    }

    /// The rate of step `step` (1-based: the first update is step 1).
    public func rate(atStep step: Int) -> Double {
        if step <= warmupSteps { return peak * Double(step) / Double(warmupSteps) }
        let span = totalSteps - warmupSteps
        guard span > 0 else { return peak }
        let progress = min(1, Double(step - warmupSteps) / Double(span))
        switch decay {
        case .constant: return peak
        case .linear: return peak * (1 - progress)
        case .cosine: return peak * 0.5 * (1 + cos(Double.pi * progress))
        }
    }
}
