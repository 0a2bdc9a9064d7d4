/// The area under the ROC curve of `scores` for telling `positives` from `negatives`: the
/// probability that a random positive scores above a random negative, a tie counting ½ (the
/// Mann–Whitney U statistic over n₊·n₋). 0.5: the scores cannot tell them apart; 1: always.
/// Computed from ranks, O(n log n): tied scores share their average rank.
public func areaUnderROC(positives: [Double], negatives: [Double]) -> Double {
    guard !positives.isEmpty, !negatives.isEmpty else { return .nan }
    let scored = (positives.map { ($0, true) } + negatives.map { ($0, false) }).sorted { $0.0 < $1.0 }
    var positiveRankSum = 0.0
    var start = 0
    while start < scored.count {
        var end = start
        while end + 1 < scored.count && scored[end + 1].0 == scored[start].0 { end += 1 }
        let averageRank = Double(start + end) / 2 + 1  // ranks from 1
        for index in start...end where scored[index].1 { positiveRankSum += averageRank }
        start = end + 1
    }
    let n = Double(positives.count)
    return (positiveRankSum - n * (n + 1) / 2) / (n * Double(negatives.count))
}
