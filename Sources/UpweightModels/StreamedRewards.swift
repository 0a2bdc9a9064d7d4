import UpweightSupport
import UpweightData

extension TrainedModel {
    /// The rewards of both sides of every pair of `pairs` (rows streamed from disk, unit by unit),
    /// as `rewards(for:threads:)` gives them in memory: the featurizer's standardization, the
    /// model's own kernels, and a reward that is not finite an error at its pair's line.
    public func rewards(for pairs: StreamedPairs, threads: Int) throws -> (chosen: [Float], rejected: [Float]) {
        try rewards(for: pairs, selected: nil, threads: threads)
    }

    /// As above, for the pairs at `selected` (ascending; every pair when nil), in that order: the
    /// other pairs' rows are read but not scored.
    public func rewards(for pairs: StreamedPairs, selected: [Int]?, threads: Int) throws -> (chosen: [Float], rejected: [Float]) {
        guard case .dense(let dimension, let standardization) = featurizer else {
            throw UsageError("the model reads text, but the data holds dense feature vectors")
        }
        guard dimension == pairs.dimension else {
            throw pairs.metadata.error(atPair: 0, field: "chosen_features", reason: "dimension mismatch",
                                       message: "expected \(plural(dimension, "number", "numbers")) as the model was trained on, got \(pairs.dimension)")
        }
        var isSelected: [Bool]?
        if let selected {
            isSelected = [Bool](repeating: false, count: pairs.count)
            for pair in selected { isSelected![pair] = true }
        }
        var chosen: [Float] = []
        var rejected: [Float] = []
        chosen.reserveCapacity(selected?.count ?? pairs.count)
        rejected.reserveCapacity(selected?.count ?? pairs.count)
        try pairs.forEachUnitInOrder(threads: threads) { unit, rows -> ([Float], [Float]) in
            var rows = rows
            if let isSelected {
                let range = pairs.pairs(ofUnit: unit)
                rows = range.filter { isSelected[$0] }.flatMap { pair in
                    let start = 2 * (pair - range.lowerBound) * dimension
                    return rows[start..<start + 2 * dimension]
                }
                if rows.isEmpty { return ([], []) }
            }
            let sides = pairs.sides(of: rows, standardizedBy: standardization)
            return (model.rewards(.dense(sides.chosen), threads: 1), model.rewards(.dense(sides.rejected), threads: 1))
        } combine: {
            chosen += $0.0
            rejected += $0.1
        }
        if let selected {
            try pairs.metadata.subset(selected).checkFinite(chosen: chosen, rejected: rejected)
        } else {
            try pairs.metadata.checkFinite(chosen: chosen, rejected: rejected)
        }
        return (chosen, rejected)
    }
}
