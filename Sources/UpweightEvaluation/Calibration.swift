import UpweightSupport

/// Reliability of the model's probabilities, read as P(chosen ≻ rejected) = σ(Δ).
///
/// A pair's confidence is the probability given to the side the model prefers,
/// c = max(σ(Δ), 1 − σ(Δ)) ∈ [0.5, 1]; it is correct when Δ > 0 (½ when Δ = 0, whatever the tie
/// policy: a tie is a coin flip here). Pairs fall into `binCount` equal-width bins over [0.5, 1]
/// (c = 1 goes in the last), and
///
///     ECE = Σ_b (n_b / N) · |accuracy_b − mean confidence_b|
///
/// A calibrated model that says 80% is right 80% of the time, so every bin sits on the diagonal.
public struct Calibration: Sendable, Equatable {
    public struct Bin: Sendable, Equatable {
        public var lower: Double
        public var upper: Double
        public var count: Int
        /// NaN in an empty bin.
        public var meanConfidence: Double
        public var accuracy: Double
    }

    public var bins: [Bin]
    public var expectedError: Double

    public init(margins: [Double], binCount: Int = 10) {
        var counts = [Int](repeating: 0, count: binCount)
        var confidences = [Double](repeating: 0, count: binCount)
        var corrects = [Double](repeating: 0, count: binCount)
        for margin in margins {
            let probability = sigmoid(margin)
            let confidence = max(probability, 1 - probability)
            let bin = binIndex(position: (confidence - 0.5) / 0.5 * Double(binCount), count: binCount)
            counts[bin] += 1
            confidences[bin] += confidence
            corrects[bin] += margin > 0 ? 1 : margin == 0 ? 0.5 : 0
        }
        let width = 0.5 / Double(binCount)
        bins = (0..<binCount).map { (bin: Int) -> Bin in
            let count = Double(counts[bin])
            let lower = 0.5 + Double(bin) * width
            return Bin(lower: lower, upper: lower + width, count: counts[bin],
                       meanConfidence: confidences[bin] / count, accuracy: corrects[bin] / count)
        }
        let total = Double(margins.count)
        expectedError = bins.filter { $0.count > 0 }
            .reduce(0) { $0 + Double($1.count) / total * abs($1.accuracy - $1.meanConfidence) }
        if margins.isEmpty { expectedError = .nan }
    }
}

/// The histogram bin at `position` (in bin widths from the first), clamped to 0..<count. A NaN or
/// infinite position (rewards that overflowed, a zero-width domain) lands in a bin at the edge
/// instead of trapping in `Int(_:)`.
package func binIndex(position: Double, count: Int) -> Int {
    guard !position.isNaN else { return 0 }
    return Int(max(0, min(Double(count - 1), position.rounded(.down))))
}
