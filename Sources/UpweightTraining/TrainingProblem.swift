import UpweightSupport
import UpweightIO
import UpweightData
import UpweightModels
import UpweightWeighting

/// What a fit is given, whatever the model: the training pairs (features, categories, margins),
/// each pair's weight, the held-out pairs and the configuration. `LinearFit` and `MLPFit` take
/// one; boosting fits the same problem again with each round's weights.
package struct TrainingProblem {
    package let features: PairFeatures
    /// Each pair's weight, mean 1: the weighting's, or a boosting round's.
    package var weights: [Double]
    package let categories: [Int32]
    package let categoryNames: [String]
    package let margins: [Double]
    /// The held-out pairs each epoch (or L-BFGS round) is scored on; nil: none.
    package let heldOut: HeldOutEvaluator?
    package let configuration: TrainingConfiguration

    package init(features: PairFeatures, weights: [Double], categories: [Int32], categoryNames: [String], margins: [Double],
                 heldOut: HeldOutEvaluator?, configuration: TrainingConfiguration) {
        self.features = features
        self.weights = weights
        self.categories = categories
        self.categoryNames = categoryNames
        self.margins = margins
        self.heldOut = heldOut
        self.configuration = configuration
    }

    package var threads: Int { configuration.reading.threads }

    /// Sample mode: pairs are drawn ∝ w, and then count 1 each (`objectiveWeights`). Loss mode: nil.
    package func sampler() -> AliasSampler? {
        configuration.weightMode == .sample ? AliasSampler(weights: weights) : nil
    }

    /// Sample mode under L-BFGS: one resample of N pairs drawn ∝ w with the seed, fixed for the fit.
    package func sampleOnce(_ sampler: AliasSampler) -> [Int] {
        var generator = SplitMix64(seed: configuration.seed)
        return sampler.draw(weights.count, using: &generator)
    }

    /// The same resample as how often each pair was drawn: weights m_i under which the objective
    ///
    ///     Σ_i m_i·ℓ_i / Σ_i m_i  =  (1/N) Σ_{draws j} ℓ_{i_j}
    ///
    /// is the resample's, so a fit that cannot hold the draws' rows (streamed L-BFGS) finds its optimum.
    /// Nil in loss mode.
    package func sampleMultiplicities() -> [Double]? {
        guard let sampler = sampler() else { return nil }
        var counts = [Double](repeating: 0, count: weights.count)
        for pair in sampleOnce(sampler) { counts[pair] += 1 }
        return counts
    }

    /// The weights the objective applies while training: w in loss mode, ones in sample mode.
    package var objectiveWeights: [Double] {
        configuration.weightMode == .sample ? [Double](repeating: 1, count: weights.count) : weights
    }

    /// Group DRO over the categories; nil when `--group-dro` is off.
    package func groupDRO() -> GroupDRO? {
        GroupDRO(stepSize: configuration.groupDRO, adjustment: configuration.groupDROAdjustment,
                 categories: categories, categoryCount: categoryNames.count)
    }

    /// `{"category": value, …}` in category order: group DRO's weights in the log and in config.json.
    package func byCategory(_ values: [Double]) -> JSONValue {
        .object(JSONObject(categoryNames.indices.map { (categoryNames[$0], .number(values[$0])) }))
    }
}

/// What one fit produced: the model, its objective on the training pairs, optimizer details, and
/// the training log.
package struct FitResult {
    package var model: RewardModel
    package var objective: Double
    /// The L2 term inside `objective` (the rest is the weighted loss).
    package var l2Term: Double
    package var details: JSONObject
    package var log: [JSONObject]
}
