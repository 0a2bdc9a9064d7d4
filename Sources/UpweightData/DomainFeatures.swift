import UpweightSupport

/// What the domain classifier of `--target` sees of a training pair and of a target item, on the
/// training data's own featurizer:
///
/// - text: the prompt, hashed as responses are (TextHasher: word 1- and 2-grams, L2-normalized);
/// - dense: the pair's mean m = (a + b)/2 and its squares m², z-scored with the statistics of
///   training pairs and target items together, so that one L2 strength suits every column, and
///   the squares let a linear classifier see a region (|m_j| large) and not only a side.
///
/// Every row ends with a constant 1, the classifier's intercept.
public struct DomainFeatures: Sendable {
    public var training: FeatureMatrix
    public var target: FeatureMatrix
    /// For people and config.json: "hashed prompt text, 2^18 features" or "dense pair mean and squares, 2·16 features".
    public var description: String

    public init(training dataset: PreferenceDataset, target: TargetSample, hashBits: Int) throws {
        switch (dataset.responses, target.items) {
        case (.text(let prompts, _, _), .prompts(let targetPrompts)):
            let hasher = TextHasher(hashBits: hashBits)
            training = .sparse(Self.hashedRows(prompts.indices.lazy.map { prompts[$0] }, hasher: hasher))
            self.target = .sparse(Self.hashedRows(targetPrompts, hasher: hasher))
            description = "hashed prompt text, 2^\(hashBits) features"
        case (.dense(let dimension, let chosen, let rejected), .dense(let targetDimension, let means)):
            guard dimension == targetDimension else {
                throw DataError(file: target.path, message: "target items have \(plural(targetDimension, "number", "numbers")), the training data \(dimension)",
                                reason: "dimension mismatch")
            }
            let trainingMeans = zip(chosen, rejected).map { $0 / 2 + $1 / 2 }
            let columns = 2 * dimension
            let trainingRows = Self.meanAndSquares(trainingMeans, dimension: dimension)
            let targetRows = Self.meanAndSquares(means, dimension: dimension)
            let scaling = Standardization(fitting: [trainingRows, targetRows], dimension: columns)
            training = .dense(Self.withIntercept(scaling.apply(to: trainingRows), columns: columns))
            self.target = .dense(Self.withIntercept(scaling.apply(to: targetRows), columns: columns))
            description = "dense pair mean and squares, 2·\(dimension) features"
        case (.text, .dense), (.dense, .prompts):
            throw UsageError("\(target.path): the target items and the training data differ in shape (text and dense)")
        }
    }

    /// Each text hashed, with a last column of 1.
    private static func hashedRows(_ texts: some Sequence<String>, hasher: TextHasher) -> SparseRows {
        var rows = SparseRows(dimension: hasher.featureCount + 1)
        let intercept = Int32(hasher.featureCount)
        for text in texts {
            _ = hasher.appendRow(of: text, indices: &rows.indices, values: &rows.values)
            rows.indices.append(intercept)
            rows.values.append(1)
            rows.rowStarts.append(rows.indices.count)
        }
        return rows
    }

    /// Rows [m, m²] of 2·dimension columns.
    private static func meanAndSquares(_ means: [Float], dimension: Int) -> [Float] {
        var rows: [Float] = []
        rows.reserveCapacity(2 * means.count)
        for start in stride(from: 0, to: means.count, by: dimension) {
            let mean = means[start..<start + dimension]
            rows.append(contentsOf: mean)
            // Finite: every mean is at most `largestFeatureNorm` = √(largest Float) long.
            rows.append(contentsOf: mean.map { $0 * $0 })
        }
        return rows
    }

    private static func withIntercept(_ values: [Float], columns: Int) -> DenseRows {
        var rows: [Float] = []
        rows.reserveCapacity(values.count / columns * (columns + 1))
        for start in stride(from: 0, to: values.count, by: columns) {
            rows.append(contentsOf: values[start..<start + columns])
            rows.append(1)
        }
        return DenseRows(dimension: columns + 1, values: rows)
    }
}
