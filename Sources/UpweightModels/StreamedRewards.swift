import UpweightSupport
import UpweightData

extension TrainedModel {
    /// The rewards of both sides of every pair of `pairs` (rows streamed from disk, unit by unit: dense,
    /// or text hashed as the model hashes), as `rewards(for:threads:)` gives them in memory: the featurizer's standardization, the
    /// model's own kernels, and a reward that is not finite an error at its pair's line.
    public func rewards(for pairs: StreamedPairs, threads: Int) throws -> (chosen: [Float], rejected: [Float]) {
        try rewards(for: pairs, selected: nil, threads: threads)
    }

    /// As above, for the pairs at `selected` (ascending; every pair when nil) among those of `units`
    /// (every unit when nil: an MPI rank scores its own share), in that order: the other pairs' rows
    /// of those units are read but not scored. Pairs read in shares (`StreamedPairs.shard`) are
    /// scored by the ranks holding their rows, and the rewards gathered, bit for bit, on every rank.
    public func rewards(for pairs: StreamedPairs, selected: [Int]?, units: Range<Int>? = nil,
                        threads: Int) throws -> (chosen: [Float], rejected: [Float]) {
        var standardization: Standardization?
        switch (featurizer, pairs.hashing) {
        case (.dense(let dimension, let scaling), nil):
            guard dimension == pairs.dimension else {
                throw pairs.metadata.error(atPair: 0, field: "chosen_features", reason: "dimension mismatch",
                                           message: "expected \(plural(dimension, "number", "numbers")) as the model was trained on, got \(pairs.dimension)")
            }
            standardization = scaling
        case (.hashed, let hashing?):
            // Rows hashed otherwise would be other features: the callers hash with the model's settings.
            guard hashing == featurizer else { throw UsageError("the data was hashed with settings other than the model's") }
        case (.hashed, nil):
            throw UsageError("the model reads text, but the data holds dense feature vectors")
        case (.dense, _?):
            throw UsageError("the model reads dense feature vectors, but the data holds text")
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
        func score() throws {
            try pairs.forEachUnitInOrder(units: units, threads: threads) { unit, rows -> ([Float], [Float]) in
                var rows = rows
                if let isSelected {
                    let range = pairs.pairs(ofUnit: unit)
                    let kept = range.filter { isSelected[$0] }.flatMap { [2 * ($0 - range.lowerBound), 2 * ($0 - range.lowerBound) + 1] }
                    if kept.isEmpty { return ([], []) }
                    rows = rows.rows(kept)
                }
                let sides = pairs.sides(of: rows, standardizedBy: standardization)
                return (model.rewards(sides.chosen, threads: 1), model.rewards(sides.rejected, threads: 1))
            } combine: {
                chosen += $0.0
                rejected += $0.1
            }
        }
        if let shard = pairs.shard, units == nil {
            var failure: Error?
            do { try score() } catch { failure = error }
            try shard.collective.agree(failure)
            (chosen, rejected) = (shard.collective.allgather(chosen), shard.collective.allgather(rejected))
        } else {
            try score()
        }
        guard let units, units != 0..<pairs.unitCount else {
            try (selected.map { pairs.metadata.subset($0) } ?? pairs.metadata).checkFinite(chosen: chosen, rejected: rejected)
            return (chosen, rejected)
        }
        let covered = units.isEmpty ? 0..<0 : pairs.pairs(ofUnit: units.lowerBound).lowerBound..<pairs.pairs(ofUnit: units.upperBound - 1).upperBound
        try pairs.metadata.subset(selected?.filter { covered.contains($0) } ?? Array(covered)).checkFinite(chosen: chosen, rejected: rejected)
        return (chosen, rejected)
    }
}
