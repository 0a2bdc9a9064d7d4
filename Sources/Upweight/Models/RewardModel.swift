/// A trained reward model's parameters. Models know nothing of the loss or the data's format:
/// they map feature rows to rewards.
public enum RewardModel: Sendable, Equatable {
    case linear(LinearRewardModel)

    public var inputDimension: Int {
        switch self {
        case .linear(let model): return model.inputDimension
        }
    }

    /// The reward of every row of `features`.
    public func rewards(_ features: FeatureMatrix, threads: Int) -> [Float] {
        switch self {
        case .linear(let model): return model.rewards(features, threads: threads)
        }
    }

    /// The tensors saved in `model.safetensors`.
    public var tensors: [Tensor] {
        switch self {
        case .linear(let model): return [Tensor(name: "linear.weight", shape: [model.weight.count], values: model.weight)]
        }
    }

    /// The architecture entry of `config.json`.
    public var architecture: JSONObject {
        switch self {
        case .linear(let model):
            return JSONObject([("kind", "linear"), ("input_dimension", JSONValue(model.inputDimension)),
                               ("tensors", ["linear.weight": "θ, shape [input_dimension]: r(x) = θ·x"])])
        }
    }

    /// Rebuilds a model from its architecture entry and tensors, checking that they fit together.
    public init(architecture: JSONObject, tensors: [Tensor], file: String) throws {
        let kind = architecture["kind"]?.stringValue ?? "?"
        switch kind {
        case "linear":
            guard let dimension = architecture["input_dimension"]?.numberValue,
                  let weight = tensors.first(where: { $0.name == "linear.weight" }),
                  weight.shape == [Int(dimension)]
            else { throw UsageError("\(file): a linear model needs tensor linear.weight of shape [input_dimension]") }
            self = .linear(LinearRewardModel(weight: weight.values))
        default:
            throw UsageError("\(file): unknown architecture \"\(kind)\"")
        }
    }
}
