import UpweightSupport

/// Percentile bootstrap intervals for accuracy, stratified by category, and the paired bootstrap
/// of the accuracy difference against a baseline.
///
/// One replicate draws, inside every category k, n_k of its pairs with replacement (so category sizes
/// stay as observed, as they do in the evaluation set), and computes from that one resample each
/// category's accuracy, the overall accuracy (all drawn pairs) and the macro accuracy (the mean of
/// the categories'). With a baseline, both models are scored on the same drawn pairs, which pairs
/// the comparison: the spread of the difference is not inflated by the variance the two share.
/// The interval is the 2.5th and 97.5th percentiles of the replicates (linear interpolation between
/// order statistics, numpy's default). Draws come from `SplitMix64(seed:)`: same seed, same interval.
package struct Bootstrap {
    /// Per pair: the accuracy credit (0, ½ or 1) and whether it counts (0 for an excluded tie).
    package struct Scores {
        package var credits: [Double]
        package var counted: [Double]

        /// Per pair of margins Δ: the accuracy credit under `ties` and whether the pair counts.
        package init(margins: [Double], ties: TiePolicy) {
            let credits = margins.map { ties.credit($0) }
            self.credits = credits.map { $0 ?? 0 }
            counted = credits.map { $0 == nil ? 0 : 1 }
        }

        /// Σ credit / Σ counted over `pairs`.
        package func accuracy(_ pairs: [Int]) -> Double {
            pairs.reduce(0) { $0 + credits[$1] } / pairs.reduce(0) { $0 + counted[$1] }
        }
    }

    package struct Intervals {
        package var categories: [Interval]
        package var overall: Interval
        package var macro: Interval
        /// With a baseline: the baseline's own intervals and those of model − baseline.
        package var baselineCategories: [Interval] = []
        package var baselineOverall: Interval = .unknown
        package var differenceCategories: [Interval] = []
        package var differenceOverall: Interval = .unknown
    }

    /// Pair indices per category.
    package var groups: [[Int]]
    package var samples: Int
    package var seed: UInt64

    package func intervals(model: Scores, baseline: Scores?) -> Intervals {
        let sides = [model] + (baseline.map { [$0] } ?? [])
        let replicates = self.replicates(sides)
        func interval(_ values: [Double]) -> Interval { Bootstrap.percentileInterval(values) }
        let modelIntervals = replicates[0].map(interval)
        var result = Intervals(categories: Array(modelIntervals[..<groups.count]), overall: modelIntervals[groups.count],
                               macro: modelIntervals[groups.count + 1])
        if sides.count == 2 {
            let baselineIntervals = replicates[1].map(interval)
            result.baselineCategories = Array(baselineIntervals[..<groups.count])
            result.baselineOverall = baselineIntervals[groups.count]
            let differences = zip(replicates[0], replicates[1]).map { zip($0, $1).map { $0 - $1 } }.map(interval)
            result.differenceCategories = Array(differences[..<groups.count])
            result.differenceOverall = differences[groups.count]
        }
        return result
    }

    /// replicates[side][statistic][replicate], every side scored on the same draws; the statistics are
    /// each group's accuracy, then overall (all drawn pairs), macro (the mean of the groups') and the
    /// minimum over groups. A resample in which a group has only excluded ties has no accuracy there.
    package func replicates(_ sides: [Scores]) -> [[[Double]]] {
        var replicates = [[[Double]]](repeating: [[Double]](repeating: [], count: groups.count + 3), count: sides.count)
        var generator = SplitMix64(seed: seed)
        var credits = [Double](repeating: 0, count: sides.count)
        var counted = credits
        for _ in 0..<samples {
            var totalCredits = [Double](repeating: 0, count: sides.count), totalCounted = totalCredits
            var groupAccuracies = [[Double]](repeating: [], count: sides.count)
            for group in groups {
                for side in sides.indices { credits[side] = 0; counted[side] = 0 }
                for _ in 0..<group.count {
                    let pair = group[Int(generator.next() % UInt64(group.count))]
                    for side in sides.indices {
                        credits[side] += sides[side].credits[pair]
                        counted[side] += sides[side].counted[pair]
                    }
                }
                for side in sides.indices {
                    groupAccuracies[side].append(credits[side] / counted[side])
                    totalCredits[side] += credits[side]
                    totalCounted[side] += counted[side]
                }
            }
            for side in sides.indices {
                for (group, accuracy) in groupAccuracies[side].enumerated() { replicates[side][group].append(accuracy) }
                let present = groupAccuracies[side].filter { !$0.isNaN }
                replicates[side][groups.count].append(totalCredits[side] / totalCounted[side])
                replicates[side][groups.count + 1].append(mean(present))
                replicates[side][groups.count + 2].append(present.min() ?? .nan)
            }
        }
        return replicates
    }

    /// The 2.5th and 97.5th percentiles of `values`, NaNs left out.
    package static func percentileInterval(_ values: [Double]) -> Interval {
        let sorted = values.filter { !$0.isNaN }.sorted()
        guard !sorted.isEmpty else { return .unknown }
        return Interval(lower: percentile(sorted, 0.025), upper: percentile(sorted, 0.975))
    }

    /// The q-quantile of sorted values, interpolating linearly at position q·(n − 1).
    package static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let below = Int(position.rounded(.down))
        let above = min(below + 1, sorted.count - 1)
        return sorted[below] + (position - Double(below)) * (sorted[above] - sorted[below])
    }
}
