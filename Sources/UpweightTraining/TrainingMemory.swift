import UpweightSupport
import UpweightIO
import UpweightModels

/// What training holds besides the data it has read: parameters, gradients and optimizer state,
/// a standardized copy of dense features, an MLP's activations. All of it is known before the
/// first step, so a run that cannot fit (`--hidden 65536 --hash-bits 28`: 70 TB) is refused in
/// seconds with the numbers, instead of trapping in an allocation. Sizes are computed with
/// overflow checks: a product that does not fit in an Int is "too large" too.
package enum TrainingMemory {
    /// Bytes per parameter: L-BFGS keeps θ, the gradient, a trial point and 2 × 10 history vectors
    /// in Double (~200 B); AdamW on a linear model θ, gradient and two moments in Double; the MLP
    /// its Float32 parameters, gradient and two moments, plus the Double state a checkpoint copies.
    package static func bytesPerParameter(_ configuration: TrainingConfiguration) -> Int {
        switch (configuration.model, configuration.resolvedOptimizer) {
        case (.linear, .lbfgs): return 8 * (4 + 2 * 10)
        case (.linear, .adamw): return 8 * 5
        case (.mlp, _): return 4 * 4 + (configuration.checkpointEvery == nil ? 0 : 8 * 3)
        }
    }

    /// The parameter count of the configured model on `inputDimension` features; nil on overflow.
    package static func parameterCount(_ configuration: TrainingConfiguration, inputDimension: Int) -> Int? {
        guard configuration.model == .mlp else { return inputDimension }
        let sizes = MLPRewardModel.shapes(inputDimension: inputDimension, hidden: configuration.hidden).map(checkedProduct)
        guard sizes.allSatisfy({ $0 != nil }) else { return nil }
        return checkedSum(sizes.map { $0! })
    }

    /// Bytes training needs beyond the data; nil when the count overflows an Int.
    package static func bytes(_ configuration: TrainingConfiguration, inputDimension: Int, pairs: Int, denseFeatures: Bool) -> Int? {
        guard let parameters = parameterCount(configuration, inputDimension: inputDimension),
              let state = checkedProduct([parameters, bytesPerParameter(configuration), configuration.boostRounds > 1 ? 2 : 1])
        else { return nil }
        // --standardize makes a z-scored copy of both sides' Float32 rows.
        let standardized = denseFeatures && configuration.standardize ? checkedProduct([pairs, 2, inputDimension, 4]) : 0
        // The MLP's forward and backward pass keep a few Float32 activations per hidden unit and pair of a batch.
        let activations = configuration.model == .mlp ? checkedProduct([configuration.batchSize, 2, configuration.hidden.reduce(0, +), 4 * 3]) : 0
        guard let standardized, let activations else { return nil }
        return checkedSum([state, standardized, activations])
    }

    /// Throws when training `configuration` on `dataset`'s features would exceed the memory budget.
    package static func check(_ configuration: TrainingConfiguration, inputDimension: Int, pairs: Int, denseFeatures: Bool) throws {
        let parameters = parameterCount(configuration, inputDimension: inputDimension)
        let what = "training a model of \(parameters.map(String.init) ?? "more than \(Int.max)") parameters on \(inputDimension) features"
        let advice = "use a smaller model (--hidden, --hash-bits)"
        // MemAvailable and the hard limits are measured now, after reading; --max-memory also counts what is held already.
        let held = configuration.reading.maxMemory == nil ? 0 : SystemMemory.residentBytes()
        guard let training = bytes(configuration, inputDimension: inputDimension, pairs: pairs, denseFeatures: denseFeatures),
              let needed = checkedSum([training, held])
        else {
            throw UsageError("\(what) needs more memory than can be counted; \(advice)")
        }
        try MemoryBudget.check(needed: needed, for: what, advice: advice, limit: configuration.reading.maxMemory)
    }
}
