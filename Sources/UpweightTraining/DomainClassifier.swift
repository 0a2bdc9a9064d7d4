import UpweightSupport
import UpweightData
import UpweightModels
import UpweightEvaluation

/// The domain classifier of `--target`: L2-regularized logistic regression telling target items
/// (label 1) from training pairs (label 0) on `DomainFeatures`,
///
///     min_θ (1/n) Σ_i softplus(−y_i · θ·z_i) + (λ/2)‖θ‖²,   y_i = ±1,   λ = 1/n
///
/// (λ = 1/n is scikit-learn's `LogisticRegression` default C = 1; the constant column of z is the
/// intercept). It is the pair objective with the item on one side and nothing on the other:
/// softplus(−(θ·c − θ·r)) with (c, r) = (z, 0) for a target item and (0, z) for a training pair, so
/// `LinearObjective` and `LBFGS` fit it as they fit a reward model.
///
/// Cross-fitted: the items are split into K folds (training pairs grouped as `--group-by` says,
/// so a prompt's pairs share a fold); each fold's logits come from the classifier fit on the other
/// K − 1. Every logit is then out of fold: a pair's own label never pulls its ratio toward the
/// training side (in-sample, a flexible classifier such as one on 2^18 hashed features would
/// memorize the training pairs and call them all "training"), and the pooled logits give an
/// honest held-out AUC.
package struct DomainClassifier {
    package static let folds = 5

    /// Out-of-fold logits s of the training pairs and of the target items, and the AUC they give.
    package struct Outcome {
        package var trainingLogits: [Double]
        package var targetLogits: [Double]
        package var areaUnderROC: Double
        package var folds: Int
    }

    package let features: DomainFeatures
    package let threads: Int

    package init(_ features: DomainFeatures, threads: Int) {
        self.features = features
        self.threads = threads
    }

    /// - Parameters:
    ///   - trainingFolds, targetFolds: each item's fold, 0..<folds.
    package func crossFit(trainingFolds: [Int], targetFolds: [Int], folds: Int) -> Outcome {
        var outcome = Outcome(trainingLogits: [Double](repeating: 0, count: trainingFolds.count),
                              targetLogits: [Double](repeating: 0, count: targetFolds.count), areaUnderROC: .nan, folds: folds)
        for fold in 0..<folds {
            let trainingIn = trainingFolds.indices.filter { trainingFolds[$0] != fold }
            let targetIn = targetFolds.indices.filter { targetFolds[$0] != fold }
            let model = fit(training: trainingIn, target: targetIn)
            let trainingOut = trainingFolds.indices.filter { trainingFolds[$0] == fold }
            let targetOut = targetFolds.indices.filter { targetFolds[$0] == fold }
            for (position, logit) in zip(trainingOut, model.rewards(features.training.rows(trainingOut), threads: threads)) {
                outcome.trainingLogits[position] = Double(logit)
            }
            for (position, logit) in zip(targetOut, model.rewards(features.target.rows(targetOut), threads: threads)) {
                outcome.targetLogits[position] = Double(logit)
            }
        }
        outcome.areaUnderROC = areaUnderROC(positives: outcome.targetLogits, negatives: outcome.trainingLogits)
        return outcome
    }

    /// The classifier fit on the training pairs `training` and target items `target` (positions).
    private func fit(training: [Int], target: [Int]) -> RewardModel {
        let targetRows = features.target.rows(target)
        let trainingRows = features.training.rows(training)
        let sides = PairFeatures(chosen: targetRows.appending(trainingRows.zeros(training.count)),
                                 rejected: targetRows.zeros(target.count).appending(trainingRows))
        let count = sides.count
        let objective = LinearObjective(features: sides, weights: [Double](repeating: 1, count: count),
                                        margins: [Double](repeating: 0, count: count), loss: PairLoss(),
                                        l2: 1 / Double(max(count, 1)), threads: threads)
        let solver = LBFGS(maxIterations: 1000, gradientTolerance: 1e-6)
        let outcome = solver.minimize(from: [Double](repeating: 0, count: sides.dimension)) { theta, gradient in
            objective.evaluate(theta, gradient: &gradient).value
        }
        return .linear(LinearRewardModel(weight: outcome.parameters.map { Float($0) }))
    }
}
