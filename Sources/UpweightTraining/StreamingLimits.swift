/// What streamed training (`--stream`, or data past `--max-memory`) does not take yet.
package enum StreamingLimits {
    /// The options the in-memory path supports and the streamed one does not yet, as a usage error
    /// (nil: none).
    package static func refusal(_ configuration: TrainingConfiguration) -> String? {
        let reasons: [(Bool, String)] = [
            ((configuration.checkpointEvery != nil || configuration.resume) && configuration.resolvedOptimizer == .lbfgs,
             "checkpoints with L-BFGS (--checkpoint-every, --resume)"),
            (configuration.saveSplit != nil, "--save-split"),
            (configuration.noiseAware != .off, "--noise-aware"),
            (configuration.target != nil, "--target"),
        ]
        let refused = reasons.filter(\.0).map(\.1)
        guard !refused.isEmpty else { return nil }
        return "streamed training (--stream, or data larger than the memory budget) does not take \(refused.joined(separator: ", ")) yet"
    }
}
