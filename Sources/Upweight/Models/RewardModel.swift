/// A trained reward model's parameters. Models know nothing of the loss or the data's format:
/// they map feature rows to rewards.
public indirect enum RewardModel: Sendable, Equatable {
    case linear(LinearRewardModel)
    case boosted(BoostedRewardModel)

    public var inputDimension: Int {
        switch self {
        case .linear(let model): return model.inputDimension
        case .boosted(let model): return model.members[0].inputDimension
        }
    }

    /// The reward of every row of `features`.
    public func rewards(_ features: FeatureMatrix, threads: Int) -> [Float] {
        switch self {
        case .linear(let model): return model.rewards(features, threads: threads)
        case .boosted(let model): return model.rewards(features, threads: threads)
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
        case "boosted":
            guard case .array(let memberEntries)? = architecture["members"], !memberEntries.isEmpty,
                  let coefficients = tensors.first(where: { $0.name == "boost.coefficients" }),
                  coefficients.shape == [memberEntries.count]
            else { throw UsageError("\(file): a boosted model needs members and tensor boost.coefficients of shape [rounds]") }
            var members: [RewardModel] = []
            for (round, entry) in memberEntries.enumerated() {
                guard case .object(let memberArchitecture) = entry else { throw UsageError("\(file): boosted member \(round) is not an object") }
                let prefix = "boost.\(round)."
                let own = tensors.filter { $0.name.hasPrefix(prefix) }
                    .map { Tensor(name: String($0.name.dropFirst(prefix.count)), shape: $0.shape, values: $0.values) }
                members.append(try RewardModel(architecture: memberArchitecture, tensors: own, file: file))
            }
            self = .boosted(BoostedRewardModel(members: members, coefficients: coefficients.values))
        default:
            throw UsageError("\(file): unknown architecture \"\(kind)\"")
        }
    }
}
