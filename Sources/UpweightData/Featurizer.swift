import UpweightSupport

/// How responses become feature vectors. Stored in the model's `config.json`, so that `eval` and
/// `score` featurize new data exactly as training did.
public enum Featurizer: Sendable, Equatable {
    /// Signed hashing of word 1- and 2-grams, as scikit-learn's HashingVectorizer (TextHasher.swift).
    /// With `includePrompt`, the prompt's text is hashed into each side's row too.
    case hashed(hashBits: Int, includePrompt: Bool)
    /// Precomputed vectors, optionally z-scored with statistics of the training data.
    case dense(dimension: Int, standardization: Standardization?)

    public var dimension: Int {
        switch self {
        case .hashed(let bits, _): return 1 << bits
        case .dense(let dimension, _): return dimension
        }
    }

    /// The featurizer for `dataset` under the user's choices; standardization statistics come from it.
    public static func fit(_ dataset: PreferenceDataset, hashBits: Int, includePrompt: Bool, standardize: Bool) -> Featurizer {
        switch dataset.responses {
        case .text: return .hashed(hashBits: hashBits, includePrompt: includePrompt)
        case .dense(let dimension, let chosen, let rejected):
            return .dense(dimension: dimension,
                          standardization: standardize ? Standardization(fitting: [chosen, rejected], dimension: dimension) : nil)
        }
    }

    /// The features of every pair of `dataset`. Throws when the data does not fit the featurizer
    /// (text data for a dense model, or vectors of another dimension).
    public func features(of dataset: PreferenceDataset, threads: Int) throws -> PairFeatures {
        switch (self, dataset.responses) {
        case (.hashed(let bits, let includePrompt), .text(let prompts, let chosen, let rejected)):
            if let hashed = dataset.hashedTexts, hashed.hashBits == bits, hashed.includePrompt == includePrompt {
                return PairFeatures(chosen: .sparse(hashed.chosen), rejected: .sparse(hashed.rejected))  // hashed as read
            }
            let hasher = TextHasher(hashBits: bits)
            func rows(_ texts: TextColumn) -> SparseRows {
                let parts = parallelMap(parts: threads, threads: threads) { part in
                    HashedTexts.rows(of: texts, prompts: includePrompt ? prompts : nil, in: contiguousRanges(count: texts.count, parts: threads).dropFirst(part).first ?? 0..<0,
                                     hasher: hasher)
                }
                var all = SparseRows(dimension: 1 << bits)
                for part in parts { all.append(contentsOf: part) }
                return all
            }
            return PairFeatures(chosen: .sparse(rows(chosen)), rejected: .sparse(rows(rejected)))
        case (.dense(let dimension, let standardization), .dense(let dataDimension, let chosen, let rejected)):
            guard dimension == dataDimension else {
                // Bad data rather than bad usage: point at the first pair, as the reader would.
                throw dataset.error(atPair: 0, field: "chosen_features", reason: "dimension mismatch",
                                    message: "expected \(plural(dimension, "number", "numbers")) as the model was trained on, got \(dataDimension)")
            }
            let apply = { (values: [Float]) in standardization?.apply(to: values) ?? values }
            return PairFeatures(chosen: .dense(DenseRows(dimension: dimension, values: apply(chosen))),
                                rejected: .dense(DenseRows(dimension: dimension, values: apply(rejected))))
        case (.hashed, .dense):
            throw UsageError("the model reads text, but the data holds dense feature vectors")
        case (.dense, .text):
            throw UsageError("the model reads dense feature vectors, but the data holds text")
        }
    }
}

/// z-scoring with training statistics: x' = (x − mean) / std, over both sides of every training pair.
/// A constant feature (std 0) is only centered.
public struct Standardization: Sendable, Equatable {
    public var mean: [Float]
    public var standardDeviation: [Float]

    public init(mean: [Float], standardDeviation: [Float]) {
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    package init(fitting matrices: [[Float]], dimension: Int) {
        var moments = Moments(dimension: dimension)
        for matrix in matrices {
            for start in stride(from: 0, to: matrix.count, by: dimension) { moments.add(matrix[start..<start + dimension]) }
        }
        self = moments.standardization
    }

    /// Σx and Σx² per column over rows added one at a time (a streamed pass adds them block by block).
    package struct Moments {
        private var sum: [Double]
        private var sumOfSquares: [Double]
        private var rows = 0

        package init(dimension: Int) {
            sum = [Double](repeating: 0, count: dimension)
            sumOfSquares = sum
        }

        /// The sums part way, to be continued by another MPI rank (`orderedFold`): Σx, Σx², rows.
        package var state: [Double] { sum + sumOfSquares + [Double(rows)] }

        package init(state: [Double]) {
            let dimension = (state.count - 1) / 2
            sum = Array(state[..<dimension])
            sumOfSquares = Array(state[dimension..<2 * dimension])
            rows = Int(state[2 * dimension])
        }

        package mutating func add(_ row: ArraySlice<Float>) {
            for (column, value) in zip(sum.indices, row) {
                let value = Double(value)
                sum[column] += value
                sumOfSquares[column] += value * value
            }
            rows += 1
        }

        /// mean = Σx/n, std = √(Σx²/n − mean²) (1 where that is 0: a constant column is only centered).
        package var standardization: Standardization {
            let count = Double(max(rows, 1))
            return Standardization(mean: sum.map { Float($0 / count) }, standardDeviation: sum.indices.map { column in
                let average = sum[column] / count
                let variance = max(0, sumOfSquares[column] / count - average * average)
                return variance > 0 ? Float(variance.squareRoot()) : 1
            })
        }
    }

    package func apply(to values: [Float]) -> [Float] {
        let dimension = mean.count
        var result = values
        for start in stride(from: 0, to: result.count, by: dimension) {
            for column in 0..<dimension {
                result[start + column] = (result[start + column] - mean[column]) / standardDeviation[column]
            }
        }
        return result
    }
}
