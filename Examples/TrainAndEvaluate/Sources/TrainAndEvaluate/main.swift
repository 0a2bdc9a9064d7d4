// Upweight as a library: train → evaluate → compare, with the public API only (docs/LIBRARY.md).
//
// 1. Train two linear reward models on data/synthetic-text.jsonl, whose `split` field says which
//    pairs train and which are held out: uniform weights, then the "safety" category ×4. Each run
//    saves a model directory, as `upweight train … --out DIR` does.
// 2. Evaluate: load the upweighted model, read the held-out pairs the way it was trained to read,
//    score them and build the per-category report, as `upweight eval` does.
// 3. Compare the two models on the same pairs, as `upweight compare` does: each category's
//    difference with its paired interval, p-values and the smallest difference it can detect.
//
// Run it with `swift run -c release` in this folder, or from the repository's root with
// `swift run -c release --package-path Examples/TrainAndEvaluate`. An argument replaces the data
// file; it needs a `split` field with "train" and "test" pairs and a "safety" category.
import Upweight
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// This package's folder and the repository's root, from where this file is
/// (Examples/TrainAndEvaluate/Sources/TrainAndEvaluate/main.swift).
let sourcePath = #filePath.split(separator: "/", omittingEmptySubsequences: false)
let packageFolder = sourcePath.dropLast(3).joined(separator: "/")
let repositoryRoot = sourcePath.dropLast(5).joined(separator: "/")

let data = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "\(repositoryRoot)/data/synthetic-text.jsonl"
let runs = "\(packageFolder)/runs"  // ignored by git (.gitignore: runs/)

do {
    // 1. Train. `TrainingConfiguration` holds every option of `upweight train` (the config-file keys
    //    are the flags' long names); `TrainingSession` runs what the command runs.
    func train(upweighting factors: [String: Double], out: String) throws -> TrainingSession.Finished {
        var configuration = TrainingConfiguration()  // linear model, L-BFGS, λ = 1e-4, 2^18 hashed n-grams
        configuration.trainSplit = "train"             // --train-split train
        configuration.evalSplit = "test"               // --eval-split test
        configuration.weighting.upweight = factors     // --upweight CATEGORY=FACTOR
        configuration.out = out                        // --out DIR: config.json, model.safetensors, …
        // The reporter receives what `train` prints on stderr (read counts, weights, warnings).
        return try TrainingSession(configuration: configuration, data: [data]).run(reporter: .silent)
    }
    let uniform = try train(upweighting: [:], out: "\(runs)/uniform")
    let upweighted = try train(upweighting: ["safety": 4], out: "\(runs)/safety")
    // Each run returns the report on its evaluation pairs: the numbers are there to use.
    let before = uniform.report.categories.map(\.metrics.accuracy)
    let after = upweighted.report.categories.map(\.metrics.accuracy)
    print("1. trained runs/uniform and runs/safety; held-out accuracy change from upweighting safety ×4:")
    for (index, category) in upweighted.report.categories.enumerated() {
        print("   \(category.name): \(signed(after[index] - before[index]))")
    }

    // 2. Evaluate a saved model: read with its own reading settings and featurizer (text is hashed
    //    as it is read), keep the held-out pairs, score both sides of each, and report.
    let model = try ModelDirectory.load("\(runs)/safety")
    let (everything, _) = try PreferenceReader.read(paths: [data], options: model.reading, featurizingWith: model.featurizer)
    let heldOut = everything.subset((0..<everything.count).filter { everything.splits[$0] == "test" })
    let rewards = try model.rewards(for: heldOut, threads: model.reading.threads)
    let report = try EvaluationReport(dataset: heldOut, chosenRewards: rewards.chosen, rejectedRewards: rewards.rejected,
                                      options: EvaluationOptions(bootstrapSamples: 1000, seed: 0))
    print("\n2. runs/safety on the \(heldOut.count) held-out pairs:")
    print(report.table(width: 100), terminator: "")  // or report.render(.json), .csv, .markdown, .html

    // 3. Compare: every model scores the same pairs; the first is the baseline.
    let baseline = try ModelDirectory.load("\(runs)/uniform")
    let comparison = ModelComparison(dataset: heldOut, models: ["uniform", "safety ×4"],
                                     rewards: [try baseline.rewards(for: heldOut, threads: model.reading.threads), rewards])
    print("\n3. the two models on the same pairs:")
    print(comparison.table, terminator: "")
} catch {
    // The library's errors say what is wrong and where (a DataError reads FILE:LINE:COLUMN: …).
    let message = Array("TrainAndEvaluate: \(error)\n".utf8)
    _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }  // on stderr
    exit(1)
}
