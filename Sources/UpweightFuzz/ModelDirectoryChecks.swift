// Model directories and checkpoints are untrusted input too: the fuzz input replaces, in turn, each
// file of a small real model directory with a checkpoint (Tests/FuzzModel, an MLP interrupted
// mid-run), and the directory is loaded as `eval` and `train --resume` load it. Invariants: no trap
// (libFuzzer reports one), every error is a DataError or UsageError naming the file it is about, and
// a model that loads has a featurizer that fits it and scores a pair of its dimension.
import Upweight

enum ModelDirectoryChecks {
    static let fileNames = ["config.json", "model.safetensors", "training_log.jsonl", "checkpoint.json", "checkpoint.safetensors"]

    /// The base directory's files, read once (UPWEIGHT_FUZZ_MODEL, default Tests/FuzzModel).
    private static let base: [(name: String, bytes: [UInt8])] = {
        let directory = getenv("UPWEIGHT_FUZZ_MODEL").map { String(cString: $0) } ?? "Tests/FuzzModel"
        return fileNames.map { name in
            guard let bytes = try? Files.read("\(directory)/\(name)") else { fatalError("fuzz: cannot read \(directory)/\(name)") }
            return (name, bytes)
        }
    }()

    /// A directory holding the base files; each check swaps one of them for the input and back.
    private static let scratch: String = {
        let path = "/tmp/upweight-fuzz-model-\(getpid())"
        mkdir(path, 0o755)
        for file in base { write(file.bytes, to: "\(path)/\(file.name)") }
        return path
    }()

    /// A plain write: the fuzzer needs speed, not durability.
    private static func write(_ bytes: [UInt8], to path: String) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        defer { if descriptor >= 0 { close(descriptor) } }
        guard descriptor >= 0, (try? Files.writeAll(bytes, to: descriptor, naming: path)) != nil else { fatalError("fuzz: cannot write \(path)") }
    }

    static func run(_ bytes: [UInt8]) {
        for (target, original) in base {
            write(bytes, to: "\(scratch)/\(target)")
            defer { write(original, to: "\(scratch)/\(target)") }
            do {
                let trained = try ModelDirectory.load(scratch)
                check(trained.featurizer.dimension == trained.model.inputDimension, "featurizer and model disagree")
                score(trained)
                _ = try ModelDirectory.loadCheckpoint(scratch, model: trained)
            } catch let error as DataError {
                check(error.file.hasPrefix(scratch + "/"), "\(target): error without its file: \(error)")
            } catch let error as UsageError {
                check(error.message.contains(scratch), "\(target): error without its directory: \(error)")
            } catch {
                fatalError("\(target): neither a DataError nor a UsageError: \(error)")
            }
        }
    }

    /// Scores one dense pair of the model's dimension (text models: one short pair).
    private static func score(_ trained: TrainedModel) {
        let dimension = trained.featurizer.dimension
        let line: String
        if case .dense = trained.featurizer {
            guard dimension <= 4096 else { return }
            let values = (0..<dimension).map { String(Double($0 % 7) / 7) }.joined(separator: ",")
            line = #"{"chosen_features":[\#(values)],"rejected_features":[\#(values)]}"#
        } else {
            line = #"{"prompt":"p","chosen":"a good answer","rejected":"bad"}"#
        }
        guard let (dataset, _) = try? PreferenceReader.read(bytes: Array(line.utf8), name: "pair.jsonl", featurizingWith: trained.featurizer) else {
            fatalError("a pair of the model's own dimension does not read")
        }
        _ = try? trained.rewards(for: dataset, threads: 1)
    }
}
