/// Sums of weights that finite input never overflows. Two pairs of weight 1e308 sum to infinity,
/// yet each holds half the weight: every ratio of sums (shares, means, (Σw)²/Σw², a normalization)
/// is the same for w / max|w|, whose sums are at most the number of terms.
extension Array where Element == Double {
    /// The values and the scale they were divided by: unchanged (scale 1) when even Σw² is finite,
    /// so that ordinary weights give the same bits as before; else divided by max|w|.
    package var scaledForSums: (values: [Double], scale: Double) {
        guard !reduce(0, { $0 + $1 * $1 }).isFinite, let largest = lazy.map(abs).max(), largest > 0, largest.isFinite else { return (self, 1) }
        return (map { $0 / largest }, largest)
    }
}
