import UpweightSupport

/// Finite input must not turn into NaN or infinity inside the model: Float32 overflows at 3.4e38,
/// so a dense vector of 3e38 gives an infinite reward, and the report then has nothing to say.
/// These checks point at the line that causes it instead.
extension PreferenceDataset {
    /// The largest vector length ‖x‖ a dense row may have: its square, and so θ·x for moderate θ,
    /// stays finite in Float32.
    public static let largestFeatureNorm = Double(Float.greatestFiniteMagnitude).squareRoot()

    /// Throws at the first dense row whose length exceeds `largestFeatureNorm` (every chosen row first).
    public func checkFeatureMagnitudes() throws {
        guard case .dense(let dimension, let chosen, let rejected) = responses, dimension > 0 else { return }
        for (side, rows) in [chosen, rejected].enumerated() {
            if let (pair, length) = Self.firstOversizedRow(rows[...], dimension: dimension) {
                throw featureMagnitudeError(atPair: pair, side: side, length: length)
            }
        }
    }

    /// The first row of `rows` longer than `largestFeatureNorm`, and its length, if any.
    package static func firstOversizedRow(_ rows: ArraySlice<Float>, dimension: Int) -> (row: Int, length: Double)? {
        var row = 0
        for start in stride(from: rows.startIndex, to: rows.endIndex, by: dimension) {
            var squares = 0.0
            for column in start..<start + dimension { squares += Double(rows[column]) * Double(rows[column]) }
            if !(squares.squareRoot() <= largestFeatureNorm) { return (row, squares.squareRoot()) }
            row += 1
        }
        return nil
    }

    /// The error for pair `pair`'s chosen (side 0) or rejected (side 1) vector of length `length`.
    package func featureMagnitudeError(atPair pair: Int, side: Int, length: Double) -> Error {
        error(atPair: pair, field: side == 0 ? "chosen_features" : "rejected_features", reason: "features too large",
              message: "a vector of length \(Float(length)) is too large to compute with in Float32 (at most 1.8e19); scale the features down")
    }

    /// The largest margin |m| training accepts: far beyond any reward difference that means
    /// something, and small enough that no sum of losses or squared gradients overflows.
    public static let largestMargin = 1e6

    /// Throws at the first pair whose margin (read from `field`) exceeds `largestMargin`.
    public func checkMargins(field: String) throws {
        guard let pair = margins.firstIndex(where: { !(abs($0) <= Self.largestMargin) }) else { return }
        throw error(atPair: pair, field: field, reason: "margin too large",
                    message: "a margin of \(margins[pair]) is beyond ±1e6 (margins are reward differences); scale the margins down")
    }

    /// Throws at the first pair whose reward is NaN or infinite.
    public func checkFinite(chosen: [Float], rejected: [Float]) throws {
        guard let pair = chosen.indices.first(where: { !chosen[$0].isFinite || !rejected[$0].isFinite }) else { return }
        throw error(atPair: pair, field: nil, reason: "reward not finite",
                    message: "the model's reward for this pair is not finite (chosen \(chosen[pair]), rejected \(rejected[pair])): its features are too large for this model; scale them down")
    }

    /// A `DataError` at the line `pair` was read from.
    package func error(atPair pair: Int, field: String?, reason: String, message: String) -> DataError {
        let source = sources.indices.contains(pair) ? sources[pair] : nil
        let file = source.flatMap { files.indices.contains(Int($0.file)) ? files[Int($0.file)] : nil } ?? "data"
        return DataError(file: file, line: source.map { Int($0.line) }, column: 1, message: message, field: field, reason: reason)
    }
}
