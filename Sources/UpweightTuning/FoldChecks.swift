import UpweightSupport
import UpweightData

/// The checks on `--folds`, apart from how folds are formed, so that grouped folds can change what
/// "enough to fill every fold" counts without touching the rest.
extension CrossValidation {
    /// At least two folds: one to train on and one to hold out; at most 1000 (leave-one-out on a
    /// small set), so that candidates × folds runs stay countable.
    public static func checkFoldCount(_ folds: Int) throws {
        guard (2...1000).contains(folds) else { throw UsageError("--folds: expected a whole number from 2 to 1000, got \(folds)") }
    }

    /// Every fold must hold pairs, and pairs of every category (the folds are stratified): a category
    /// with fewer pairs than folds would leave some folds without it, and its accuracy undefined there.
    package static func checkFolds(_ folds: Int, fit dataset: PreferenceDataset) throws {
        func advice(_ count: Int) -> String { count >= 2 ? "use --folds \(count) or fewer" : "at least 2 are needed" }
        func pairs(_ count: Int) -> String { count == 1 ? "1 pair" : "\(count) pairs" }
        if dataset.count < folds {
            throw UsageError("--folds \(folds): the data has only \(pairs(dataset.count)); \(advice(dataset.count))")
        }
        let counts = dataset.categoryCounts
        let names = dataset.categoryNames
        // The smallest category; among equals, the first by name, so the message does not depend on file order.
        guard let smallest = counts.indices.min(by: { (counts[$0], names[$0]) < (counts[$1], names[$1]) }),
              counts[smallest] < folds
        else { return }
        throw UsageError("--folds \(folds): category \"\(names[smallest])\" has only \(pairs(counts[smallest])), "
                         + "fewer than the folds; \(advice(counts[smallest]))")
    }
}
