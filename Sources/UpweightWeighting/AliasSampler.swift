import UpweightSupport

/// Draws index i with probability w_i / Σw in O(1) per draw (Walker's alias method, in Vose's
/// numerically careful form): each of N equal columns holds one index up to a threshold and an
/// "alias" above it.
package struct AliasSampler {
    private var threshold: [Double]
    private var alias: [Int]

    package init(weights: [Double]) {
        let count = weights.count
        precondition(count > 0, "alias sampler needs at least one weight")
        let total = weights.reduce(0, +)
        precondition(total > 0, "alias sampler needs a positive total weight")
        var scaled = weights.map { $0 * Double(count) / total }
        threshold = [Double](repeating: 1, count: count)
        alias = Array(0..<count)
        var small = scaled.indices.filter { scaled[$0] < 1 }
        var large = scaled.indices.filter { scaled[$0] >= 1 }
        while let light = small.popLast(), let heavy = large.last {
            threshold[light] = scaled[light]
            alias[light] = heavy
            scaled[heavy] -= 1 - scaled[light]
            if scaled[heavy] < 1 {
                large.removeLast()
                small.append(heavy)
            }
        }
        // Leftovers are 1 up to rounding: they keep threshold 1 (always themselves).
    }

    package func draw(using generator: inout SplitMix64) -> Int {
        let column = Int(generator.next() % UInt64(threshold.count))
        return generator.nextUnit() < threshold[column] ? column : alias[column]
    }

    package func draw(_ count: Int, using generator: inout SplitMix64) -> [Int] {
        (0..<count).map { _ in draw(using: &generator) }
    }
}
