import UpweightSupport
import UpweightIO
import UpweightData
import UpweightModels
import UpweightEvaluation

/// The library's version, written into every model directory.
public let upweightVersion = "0.1.0"

/// A model directory, Hugging Face style: `config.json` (featurizer, architecture, reading settings,
/// training configuration, weight summary, data fingerprint) and `model.safetensors` (the tensors).
/// The directory is replaced in one atomic step, so an interrupted save leaves the previous model.
public enum ModelDirectory {
    public static func save(_ trained: TrainedModel, to path: String, checkpoint: Checkpoint? = nil) throws {
        var config = JSONObject()
        config["format"] = "upweight-reward-model"
        config["format_version"] = 1
        config["library_version"] = .string(upweightVersion)
        config["architecture"] = .object(trained.model.architecture)
        config["featurizer"] = .object(featurizerJSON(trained.featurizer))
        config["reader"] = .object(readerJSON(trained.reading))
        for (key, value) in trained.provenance.members { config[key] = value }
        let tensors = Safetensors.encode(trained.model.tensors, metadata: ["format": "pt"])
        var files: [(name: String, bytes: [UInt8])] = [("config.json", Array(JSONValue.object(config).prettyText.utf8)),
                                                       ("model.safetensors", tensors)]
        if !trained.trainingLog.isEmpty { files.append(("training_log.jsonl", Array(trainingLogText(trained.trainingLog).utf8))) }
        if let texts = trained.trainingTexts { files.append(("training_hashes.bin", texts.encoded)) }
        if let heldOut = trained.heldOut { files.append((HeldOutRecord.fileName, Array(JSONValue.object(heldOut.json).prettyText.utf8))) }
        if let checkpoint {
            files.append(("checkpoint.json", Array(JSONValue.object(checkpoint.json).prettyText.utf8)))
            files.append(("checkpoint.safetensors", Safetensors.encode([], doubles: checkpoint.state)))
        }
        try Files.replaceDirectory(path, with: files)
    }

    /// Loads a model directory. Its files are untrusted input: anything damaged or inconsistent
    /// (config.json, shapes, offsets, non-finite values, dimensions) is a `DataError` naming the file.
    public static func load(_ path: String) throws -> TrainedModel {
        let configPath = "\(path)/config.json"
        guard Files.isDirectory(path) else { throw UsageError("\(path): not a model directory (expected a directory with config.json and model.safetensors)") }
        let config = try readJSON(configPath)
        guard config["format"] == "upweight-reward-model",
              case .object(let architecture)? = config["architecture"], case .object(let featurizer)? = config["featurizer"]
        else { throw DataError.invalidModel(configPath, "not an Upweight model config (missing format, architecture or featurizer)") }
        let tensorsPath = "\(path)/model.safetensors"
        let tensors = try Safetensors.decode(try readBytes(tensorsPath), file: tensorsPath)
        let model = try RewardModel(architecture: architecture, tensors: tensors, file: tensorsPath, configFile: configPath)
        let decodedFeaturizer = try parseFeaturizer(featurizer, file: configPath)
        guard decodedFeaturizer.dimension == model.inputDimension else {
            throw DataError.invalidModel(configPath, "the featurizer makes \(plural(decodedFeaturizer.dimension, "feature", "features")), the model takes \(model.inputDimension)")
        }
        var reading = ReadOptions()
        if case .object(let reader)? = config["reader"] { reading = parseReader(reader) }
        var provenance = JSONObject()
        for (key, value) in config.members where !["format", "format_version", "architecture", "featurizer", "reader"].contains(key) {
            provenance[key] = value
        }
        var trained = TrainedModel(featurizer: decodedFeaturizer, model: model, reading: reading, provenance: provenance)
        let logPath = "\(path)/training_log.jsonl"
        if Files.exists(logPath) { trained.trainingLog = try readTrainingLog(logPath) }
        let hashesPath = "\(path)/training_hashes.bin"
        if Files.exists(hashesPath) { trained.trainingTexts = try TextFingerprints(decoding: try Files.read(hashesPath), file: hashesPath) }
        let heldOutPath = "\(path)/\(HeldOutRecord.fileName)"
        if Files.exists(heldOutPath) { trained.heldOut = try HeldOutRecord(json: try Files.readJSONObject(heldOutPath), file: heldOutPath) }
        return trained
    }

    /// A file of a model directory. One that cannot be read is a damaged model (exit 65), not a usage mistake.
    package static func readBytes(_ path: String) throws -> [UInt8] {
        do { return try Files.read(path) } catch let error as UsageError {
            let prefix = "\(path): "
            throw DataError.invalidModel(path, error.message.hasPrefix(prefix) ? String(error.message.dropFirst(prefix.count)) : error.message)
        }
    }

    /// A JSON object from a model directory (config.json, checkpoint.json); errors name the file, line and column.
    package static func readJSON(_ path: String) throws -> JSONObject {
        let bytes = try readBytes(path)
        switch Result(catching: { () throws(JSONSyntaxError) in try JSONParser.parse(bytes) }) {
        case .success(.object(let object)): return object
        case .success(let other): throw DataError.invalidModel(path, "expected a JSON object, got \(other.typeName)")
        case .failure(let error):
            throw DataError(file: path, line: error.line, column: error.column, message: "invalid JSON: \(error.message)", reason: "invalid model file")
        }
    }

    /// The checkpoint in a model directory (`trained` is the directory's model, already loaded).
    public static func loadCheckpoint(_ path: String, model trained: TrainedModel) throws -> Checkpoint {
        let file = "\(path)/checkpoint.json"
        guard Files.exists(file) else {
            throw UsageError("\(path): no checkpoint to resume from (training there finished, or never checkpointed)")
        }
        let stateFile = "\(path)/checkpoint.safetensors"
        let state = try Safetensors.decodeAll(try readBytes(stateFile), file: stateFile).doubles
        return try Checkpoint(json: try readJSON(file), state: state, log: trained.trainingLog,
                              model: trained.model, file: file, stateFile: stateFile)
    }

    /// A training log: one JSON object per line (blank lines skipped); a bad line is an error naming it.
    package static func readTrainingLog(_ path: String) throws -> [JSONObject] {
        var log: [JSONObject] = []
        for (index, line) in String(decoding: try readBytes(path), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            switch Result(catching: { () throws(JSONSyntaxError) in try JSONParser.parse(String(line)) }) {
            case .success(.object(let object)): log.append(object)
            case .success: throw DataError(file: path, line: index + 1, column: 1, message: "expected a JSON object per line", reason: "not an object")
            case .failure(let error):
                throw DataError(file: path, line: index + 1, column: error.column, message: "invalid JSON: \(error.message)", reason: "invalid JSON")
            }
        }
        return log
    }

    /// The training log as JSONL: one compact object per line.
    public static func trainingLogText(_ entries: [JSONObject]) -> String {
        entries.map { JSONValue.object($0).compactText + "\n" }.joined()
    }

    package static func featurizerJSON(_ featurizer: Featurizer) -> JSONObject {
        switch featurizer {
        case .hashed(let bits, let includePrompt):
            return JSONObject([("kind", "hashed"), ("hash_bits", JSONValue(bits)), ("ngram_range", [1, 2]),
                               ("alternate_sign", true), ("norm", "l2"), ("lowercase", true),
                               ("token_pattern", "(?u)\\b\\w\\w+\\b"), ("include_prompt", .bool(includePrompt))])
        case .dense(let dimension, let standardization):
            var object = JSONObject([("kind", "dense"), ("dimension", JSONValue(dimension))])
            if let standardization {
                object["standardize"] = ["mean": JSONValue(standardization.mean), "std": JSONValue(standardization.standardDeviation)]
            } else {
                object["standardize"] = false
            }
            return object
        }
    }

    package static func parseFeaturizer(_ object: JSONObject, file: String) throws -> Featurizer {
        switch object["kind"]?.stringValue {
        case "hashed":
            guard let bits = object["hash_bits"]?.wholeNumber(in: 1...28) else {
                throw DataError.invalidModel(file, "featurizer.hash_bits must be a whole number from 1 to 28")
            }
            return .hashed(hashBits: bits, includePrompt: object["include_prompt"] == .bool(true))
        case "dense":
            guard let dimension = object["dimension"]?.wholeNumber(in: 1...maximumDimension) else {
                throw DataError.invalidModel(file, "featurizer.dimension must be a whole number from 1 to \(maximumDimension)")
            }
            var standardization: Standardization?
            if case .object(let statistics)? = object["standardize"] {
                guard case .array(let mean)? = statistics["mean"], case .array(let std)? = statistics["std"],
                      mean.count == dimension, std.count == dimension
                else { throw DataError.invalidModel(file, "featurizer.standardize needs mean and std of length \(dimension)") }
                let means = mean.compactMap { $0.numberValue.map { Float($0) } }.filter(\.isFinite)
                let deviations = std.compactMap { $0.numberValue.map { Float($0) } }.filter { $0.isFinite && $0 > 0 }
                guard means.count == dimension, deviations.count == dimension else {
                    throw DataError.invalidModel(file, "featurizer.standardize: every mean must be a finite number and every std a finite number > 0")
                }
                standardization = Standardization(mean: means, standardDeviation: deviations)
            }
            return .dense(dimension: dimension, standardization: standardization)
        default:
            throw DataError.invalidModel(file, "unknown featurizer kind (expected \"hashed\" or \"dense\")")
        }
    }

    /// The largest input dimension a model directory may declare: the model's.
    package static var maximumDimension: Int { RewardModel.maximumDimension }

    package static func readerJSON(_ options: ReadOptions) -> JSONObject {
        var configuration = TrainingConfiguration()
        configuration.reading = options
        return configuration.readerJSON
    }

    package static func parseReader(_ object: JSONObject) -> ReadOptions {
        var options = ReadOptions()
        var configuration = TrainingConfiguration()
        // The reader entry uses config-file keys, so the config parser reads it; a damaged entry falls back to defaults.
        if (try? configuration.apply(object, from: .file("config.json"))) != nil { options = configuration.reading }
        return options
    }
}
