import UpweightSupport
import UpweightIO
import UpweightData
import UpweightTraining

/// `tune` with `--noise-aware` candidates: each fold's label audit, run on that fold's training part
/// only (the held-out fold stays unseen), once per fold for every candidate that audits the same way
/// (`NoiseAudit.auditConfiguration`: the upweighting, the scheme and the noise-aware mode do not
/// change an audit), before the candidates train. The audits run in parallel, one thread each, so
/// they do not depend on the thread count.
struct FoldAudits {
    /// By audit configuration (its settings as compact JSON), then fold; nil: nothing to audit
    /// (every category of the fold's training part is too small).
    private var audits: [String: [NoiseAwareTraining.Audits?]] = [:]

    private static func key(_ configuration: TrainingConfiguration) -> String {
        JSONValue.object(NoiseAudit.auditConfiguration(configuration).settings()).compactText
    }

    init(configurations: [TrainingConfiguration], dataset: PreferenceDataset, assignment: [Int], folds: Int,
         threads: Int, reporter: Reporter) throws {
        var distinct: [(key: String, configuration: TrainingConfiguration)] = []
        for configuration in configurations where configuration.noiseAware != .off {
            let key = Self.key(configuration)
            if !distinct.contains(where: { $0.key == key }) { distinct.append((key, configuration)) }
        }
        guard !distinct.isEmpty else { return }
        let jobs = distinct.indices.flatMap { audit in (0..<folds).map { (audit, $0) } }
        let finished = Counter()
        let results = parallelMap(parts: jobs.count, threads: threads) { job -> Result<NoiseAwareTraining.Audits?, Error> in
            let (audit, fold) = jobs[job]
            defer { reporter.progress(.init(phase: "audit", completed: finished.increment(), total: jobs.count, unit: "folds")) }
            return Result {
                let train = dataset.subset((0..<dataset.count).filter { assignment[$0] != fold })
                return try NoiseAwareTraining.audit(train, configuration: distinct[audit].configuration, threads: 1)
            }
        }
        for (index, entry) in distinct.enumerated() {
            audits[entry.key] = try (0..<folds).map { try results[index * folds + $0].get() }
        }
    }

    /// The pairs of fold `fold`'s training part `train` that train under `configuration`, with their
    /// factors; nil when `configuration` is not noise-aware.
    func prepared(_ train: PreferenceDataset, configuration: TrainingConfiguration, fold: Int) -> NoiseAwareTraining? {
        guard configuration.noiseAware != .off, let perFold = audits[Self.key(configuration)] else { return nil }
        guard let audit = perFold[fold] else { return NoiseAwareTraining.unaudited(train, mode: configuration.noiseAware) }
        return NoiseAwareTraining.apply(audit, mode: configuration.noiseAware, to: train)
    }
}
