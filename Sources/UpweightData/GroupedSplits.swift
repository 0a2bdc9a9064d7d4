import UpweightSupport

/// Splits that keep every group whole and every category's share close to its target, as
/// scikit-learn's `StratifiedGroupKFold` does, by the same greedy rule:
///
///   groups are visited largest first (ties in a seeded random order); each goes to the bin b that
///   minimises  Σ_k ((c_bk + g_k)/n_k − t_b)² − (c_bk/n_k − t_b)²
///
/// over the categories k of its pairs, where c_bk counts bin b's pairs of category k so far, g_k the
/// group's, n_k all of category k's, and t_b is the bin's target share (1/K for K folds; 1 − f and f
/// for a held-out fraction f). Ties go to the bin furthest below its target size. scikit-learn orders
/// groups by the spread of their category distribution instead of their size; size first keeps the
/// big groups, the hard ones to place, from landing last. With one pair per group this is a
/// stratified split; the plain per-category split (`stratifiedHoldout`) is used then instead, so that
/// data without shared prompts splits exactly as before.
package struct GroupedAssignment {
    /// The bin of every pair.
    private(set) var bins: [Int]

    package init(keys: [UInt64], categories: [Int32], categoryCount: Int, targets: [Double], seed: UInt64) {
        // Groups in order of first appearance; a pair without a key is a group of its own.
        var groupOf = [UInt64: Int]()
        var members: [[Int]] = []
        for (pair, key) in keys.enumerated() {
            if key != 0, let group = groupOf[key] {
                members[group].append(pair)
            } else {
                if key != 0 { groupOf[key] = members.count }
                members.append([pair])
            }
        }
        var totals = [Double](repeating: 0, count: categoryCount)
        for category in categories { totals[Int(category)] += 1 }

        var order = Array(members.indices)
        var generator = SplitMix64(seed: seed ^ 0x6B0_5EED)
        order.seededShuffle(using: &generator)
        order = order.enumerated().sorted { a, b in
            members[a.element].count != members[b.element].count ? members[a.element].count > members[b.element].count : a.offset < b.offset
        }.map(\.element)

        let binCount = targets.count
        var counts = [[Double]](repeating: [Double](repeating: 0, count: categoryCount), count: binCount)
        var sizes = [Double](repeating: 0, count: binCount)
        let total = Double(max(keys.count, 1))
        bins = [Int](repeating: 0, count: keys.count)
        for group in order {
            var groupCounts: [Int: Double] = [:]
            for pair in members[group] { groupCounts[Int(categories[pair]), default: 0] += 1 }
            var best = 0
            var bestCost = Double.infinity
            var bestFill = Double.infinity
            for bin in 0..<binCount {
                var cost = 0.0
                for (category, added) in groupCounts {
                    let before = counts[bin][category] / totals[category] - targets[bin]
                    let after = (counts[bin][category] + added) / totals[category] - targets[bin]
                    cost += after * after - before * before
                }
                let fill = sizes[bin] / total - targets[bin]
                if cost < bestCost - 1e-12 || (abs(cost - bestCost) <= 1e-12 && fill < bestFill) {
                    (best, bestCost, bestFill) = (bin, cost, fill)
                }
            }
            for (category, added) in groupCounts { counts[best][category] += added }
            sizes[best] += Double(members[group].count)
            for pair in members[group] { bins[pair] = best }
        }
    }
}

/// A held-out split of `among` (default: every pair) that keeps each group of `keys` on one side.
/// `keys` nil (no pair shares a group): the plain stratified split.
public func groupedHoldout(_ dataset: PreferenceDataset, among: [Int]? = nil, fraction: Double, seed: UInt64,
                           keys: [UInt64]?) -> (train: [Int], heldOut: [Int]) {
    guard let keys else { return stratifiedHoldout(dataset, among: among, fraction: fraction, seed: seed) }
    let pairs = among ?? Array(0..<dataset.count)
    let assignment = GroupedAssignment(keys: pairs.map { keys[$0] }, categories: pairs.map { dataset.categoryIndices[$0] },
                                       categoryCount: dataset.categoryNames.count, targets: [1 - fraction, fraction], seed: seed)
    var split: (train: [Int], heldOut: [Int]) = ([], [])
    for (position, pair) in pairs.enumerated() {
        if assignment.bins[position] == 1 { split.heldOut.append(pair) } else { split.train.append(pair) }
    }
    return split
}

/// The fold of each pair, keeping each group of `keys` in one fold; `keys` nil: stratified folds.
package func groupedFolds(_ dataset: PreferenceDataset, folds: Int, seed: UInt64, keys: [UInt64]?) -> [Int] {
    guard let keys else { return stratifiedFolds(dataset, folds: folds, seed: seed) }
    return GroupedAssignment(keys: keys, categories: dataset.categoryIndices, categoryCount: dataset.categoryNames.count,
                             targets: [Double](repeating: 1 / Double(folds), count: folds), seed: seed).bins
}
