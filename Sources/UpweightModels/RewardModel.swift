import UpweightSupport
import UpweightIO
import UpweightData

/// A trained reward model's parameters. Models know nothing of the loss or the data's format:
/// they map feature rows to rewards.
public indirect enum RewardModel: Sendable, Equatable {
    case linear(LinearRewardModel)
    case boosted(BoostedRewardModel)
    case mlp(MLPRewardModel)

    /// The largest input dimension a model may declare (2^28, the largest hashed space).
    package static let maximumDimension = 1 << 28

    public var inputDimension: Int {
        switch self {
        case .linear(let model): return model.inputDimension
        case .boosted(let model): return model.members[0].inputDimension
        case .mlp(let model): return model.inputDimension
        }
    }

    /// The reward of every row of `features`.
    public func rewards(_ features: FeatureMatrix, threads: Int) -> [Float] {
        switch self {
        case .linear(let model): return model.rewards(features, threads: threads)
        case .boosted(let model): return model.rewards(features, threads: threads)
        case .mlp(let model): return model.rewards(features, threads: threads)
        }
    }

    /// The tensors saved in `model.safetensors`.
    public var tensors: [Tensor] {
        switch self {
        case .linear(let model): return [Tensor(name: "linear.weight", shape: [model.weight.count], values: model.weight)]
        case .boosted(let model):
            var tensors = [Tensor(name: "boost.coefficients", shape: [model.coefficients.count], values: model.coefficients)]
            for (round, member) in model.members.enumerated() {
                tensors += member.tensors.map { Tensor(name: "boost.\(round).\($0.name)", shape: $0.shape, values: $0.values) }
            }
            return tensors
        case .mlp(let model): return model.tensors
        }
    }

    /// The architecture entry of `config.json`.
    public var architecture: JSONObject {
        switch self {
        case .linear(let model):
            return JSONObject([("kind", "linear"), ("input_dimension", JSONValue(model.inputDimension)),
                               ("tensors", ["linear.weight": "θ, shape [input_dimension]: r(x) = θ·x"])])
        case .boosted(let model):
            return JSONObject([("kind", "boosted"), ("rounds", JSONValue(model.members.count)),
                               ("members", .array(model.members.map { .object($0.architecture) })),
                               ("tensors", ["boost.coefficients": "c_t = α_t/Σα, shape [rounds]: R(x) = Σ_t c_t·r_t(x)",
                                            "boost.T.*": "round T's member tensors"])])
        case .mlp(let model):
            let last = model.hidden.count - 1
            var tensors = JSONObject()
            for layer in model.hidden.indices {
                let input = layer == 0 ? "input_dimension" : "hidden[\(layer - 1)]"
                tensors["mlp.\(layer).weight"] = .string("W\(layer + 1), shape [\(input), hidden[\(layer)]] (in × out, the transpose of torch's Linear.weight)")
                tensors["mlp.\(layer).bias"] = .string("b\(layer + 1), shape [hidden[\(layer)]]")
            }
            tensors["mlp.output.weight"] = .string("v, shape [hidden[\(last)]]: r(x) = v·act(W\(last + 1)ᵀ … act(W1ᵀx + b1) … + b\(last + 1))")
            return JSONObject([("kind", "mlp"), ("input_dimension", JSONValue(model.inputDimension)),
                               ("hidden", .array(model.hidden.map { JSONValue($0) })),
                               ("activation", .string(model.activation.rawValue)),
                               ("tensors", .object(tensors))])
        }
    }

    /// Rebuilds a model from its architecture entry (from `configFile`) and tensors (from `file`),
    /// checking that they fit together. Both are untrusted: errors are `DataError`s naming the file.
    public init(architecture: JSONObject, tensors: [Tensor], file: String, configFile: String? = nil) throws {
        let kind = architecture["kind"]?.stringValue ?? "?"
        let configFile = configFile ?? file
        func inputDimension() throws -> Int {
            guard let dimension = architecture["input_dimension"]?.wholeNumber(in: 1...RewardModel.maximumDimension) else {
                throw DataError.invalidModel(configFile, "architecture.input_dimension must be a whole number from 1 to \(RewardModel.maximumDimension)")
            }
            return dimension
        }
        switch kind {
        case "linear":
            let dimension = try inputDimension()
            guard let weight = tensors.first(where: { $0.name == "linear.weight" }),
                  weight.shape == [dimension]
            else { throw DataError.invalidModel(file, "a linear model needs tensor linear.weight of shape [input_dimension]") }
            self = .linear(LinearRewardModel(weight: weight.values))
        case "boosted":
            guard case .array(let memberEntries)? = architecture["members"], !memberEntries.isEmpty,
                  let coefficients = tensors.first(where: { $0.name == "boost.coefficients" }),
                  coefficients.shape == [memberEntries.count]
            else { throw DataError.invalidModel(file, "a boosted model needs members and tensor boost.coefficients of shape [rounds]") }
            var members: [RewardModel] = []
            for (round, entry) in memberEntries.enumerated() {
                guard case .object(let memberArchitecture) = entry else { throw DataError.invalidModel(configFile, "boosted member \(round) is not an object") }
                let prefix = "boost.\(round)."
                let own = tensors.filter { $0.name.hasPrefix(prefix) }
                    .map { Tensor(name: String($0.name.dropFirst(prefix.count)), shape: $0.shape, values: $0.values) }
                members.append(try RewardModel(architecture: memberArchitecture, tensors: own, file: file, configFile: configFile))
            }
            guard members.allSatisfy({ $0.inputDimension == members[0].inputDimension }) else {
                throw DataError.invalidModel(configFile, "the boosted members take different input dimensions")
            }
            self = .boosted(BoostedRewardModel(members: members, coefficients: coefficients.values))
        case "mlp":
            let dimension = try inputDimension()
            guard case .array(let widths)? = architecture["hidden"], !widths.isEmpty,
                  let activationName = architecture["activation"]?.stringValue
            else { throw DataError.invalidModel(configFile, "an mlp architecture needs input_dimension, hidden (a list of widths) and activation") }
            guard let activation = Activation(rawValue: activationName) else {
                throw DataError.invalidModel(configFile, "unknown activation \"\(activationName)\" (expected \(Activation.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let hidden = widths.compactMap { $0.wholeNumber(in: 1...65536) }
            guard hidden.count == widths.count else {
                throw DataError.invalidModel(configFile, "mlp hidden widths must be whole numbers from 1 to 65536")
            }
            // The shapes a model of this architecture has; every tensor must be there with its shape.
            var parameters: [[Float]] = []
            for (name, shape) in zip(MLPRewardModel.names(layers: hidden.count),
                                     MLPRewardModel.shapes(inputDimension: dimension, hidden: hidden)) {
                guard let tensor = tensors.first(where: { $0.name == name }), tensor.shape == shape else {
                    throw DataError.invalidModel(file, "an mlp model needs tensor \(name) of shape \(shape)")
                }
                parameters.append(tensor.values)
            }
            self = .mlp(MLPRewardModel(inputDimension: dimension, hidden: hidden, activation: activation, parameters: parameters))
        default:
            throw DataError.invalidModel(configFile, "unknown architecture \"\(kind)\"")
        }
    }
}
