import UpweightSupport
import UpweightIO

/// Synthetic preference pairs with a planted Bradley-Terry reward (like scikit-learn's
/// `make_classification`, and `shared/bench/gen_synthetic.py`), for demos, tests and benchmarks.
///
/// Dense: x ~ N(0, I_D), rounded to 4 decimals; category k's true reward is
///     r_k(x) = scale·(w·x + α·u_k·x) + scale·β·q(x),   q(x) = Σ_j ((v_j·x)² − 1)/√(2J), J = 8
/// with w, u_k, v_j random unit vectors and u_k ⟂ w: α (`categoryStrength`) is how much the
/// categories disagree, β (`nonlinear`) a part no linear model can fit.
/// Text: responses of 12–30 pseudo-words; shared words carry +1 or −1, "conflict" words carry ±α
/// with a sign drawn per category, and "not"/"never" flip the next word (a bigram effect).
/// Two candidates a, b are drawn; a is preferred with P = σ((r(a) − r(b))/noise); then the label is
/// flipped with the category's `labelFlip` rate. Bayes-optimal accuracy of a pair: max(p', 1 − p')
/// with p' = (1 − f)·p + f·(1 − p).
public struct SyntheticSpecification: Sendable {
    public var pairs = 10_000
    /// nil: text pairs.
    public var dimension: Int? = 32
    public var categories: [(name: String, share: Double)] = [("general", 0.7), ("safety", 0.2), ("math", 0.1)]
    public var categoryStrength = 0.5
    public var nonlinear = 0.0
    public var noise = 1.0
    public var scale = 1.5
    public var labelFlip: [String: Double] = [:]
    public var testFraction = 0.2
    public var seed: UInt64 = 0
    public init() {}
}

public struct SyntheticData: Sendable {
    /// The JSONL text: `{"id", "category", "split", "chosen_features", "rejected_features"}` or
    /// `{"id", "category", "split", "prompt", "chosen", "rejected"}`.
    public var jsonl: String
    /// Expected Bayes-optimal accuracy, overall and per category (in specification order).
    public var bayesAccuracy: Double
    public var bayesAccuracyByCategory: [(name: String, accuracy: Double, pairs: Int)]
}

extension SyntheticSpecification {
    public func generate() -> SyntheticData {
        var random = SplitMix64(seed: seed)
        let totalShare = categories.reduce(0) { $0 + $1.share }
        var cumulative: [Double] = []
        var running = 0.0
        for category in categories { running += category.share / totalShare; cumulative.append(running) }
        let planted = dimension.map { DensePlant(dimension: $0, categories: categories.count, random: &random) }
        let vocabulary = TextPlant(categories: categories.count, strength: categoryStrength, random: &random)

        var lines = ""
        var bayesSum = [Double](repeating: 0, count: categories.count)
        var counts = [Int](repeating: 0, count: categories.count)
        for index in 0..<pairs {
            let draw = random.nextUnit()
            let category = cumulative.firstIndex { draw < $0 } ?? categories.count - 1
            let name = categories[category].name
            var object = JSONObject()
            object["id"] = .string("synth-\(index)")
            object["category"] = .string(name)
            object["split"] = .string(random.nextUnit() < testFraction ? "test" : "train")
            let rewardA: Double, rewardB: Double
            var a: JSONValue, b: JSONValue
            if let planted {
                let x = planted.sample(&random), y = planted.sample(&random)
                rewardA = scale * planted.reward(x, category: category, strength: categoryStrength, nonlinear: nonlinear)
                rewardB = scale * planted.reward(y, category: category, strength: categoryStrength, nonlinear: nonlinear)
                a = JSONValue(x.map { Double($0) }); b = JSONValue(y.map { Double($0) })
            } else {
                let x = vocabulary.response(&random), y = vocabulary.response(&random)
                rewardA = scale * vocabulary.reward(x, category: category)
                rewardB = scale * vocabulary.reward(y, category: category)
                a = .string(x.joined(separator: " ")); b = .string(y.joined(separator: " "))
                object["prompt"] = .string("question \(index % 97) about \(name)")
            }
            let p = sigmoid((rewardA - rewardB) / noise)
            let flip = labelFlip[name] ?? 0
            let observed = (1 - flip) * p + flip * (1 - p)
            if random.nextUnit() >= observed { swap(&a, &b) }
            let (chosenKey, rejectedKey) = planted == nil ? ("chosen", "rejected") : ("chosen_features", "rejected_features")
            object[chosenKey] = a
            object[rejectedKey] = b
            lines += JSONValue.object(object).compactText + "\n"
            bayesSum[category] += max(observed, 1 - observed)
            counts[category] += 1
        }
        let byCategory = categories.indices.map { (categories[$0].name, counts[$0] > 0 ? bayesSum[$0] / Double(counts[$0]) : 0, counts[$0]) }
        return SyntheticData(jsonl: lines, bayesAccuracy: bayesSum.reduce(0, +) / Double(max(pairs, 1)),
                             bayesAccuracyByCategory: byCategory)
    }
}

/// The planted parameters of dense data: w, u_k ⟂ w, and the quadratic directions v_j.
private struct DensePlant {
    var w: [Double]
    var categoryDirections: [[Double]]
    var quadratic: [[Double]]

    init(dimension: Int, categories: Int, random: inout SplitMix64) {
        func unit(_ random: inout SplitMix64) -> [Double] {
            let v = (0..<dimension).map { _ in gaussian(&random) }
            let length = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / length }
        }
        w = unit(&random)
        var directions: [[Double]] = []
        for _ in 0..<categories {
            var u = unit(&random)
            let along = zip(u, w).reduce(0) { $0 + $1.0 * $1.1 }
            u = zip(u, w).map { $0 - along * $1 }  // Gram-Schmidt: u ⟂ w
            let length = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
            directions.append(u.map { $0 / max(length, 1e-12) })
        }
        categoryDirections = directions
        quadratic = (0..<8).map { _ in unit(&random) }
    }

    func sample(_ random: inout SplitMix64) -> [Float] {
        w.indices.map { _ in Float((gaussian(&random) * 10_000).rounded() / 10_000) }
    }

    func reward(_ x: [Float], category: Int, strength: Double, nonlinear: Double) -> Double {
        func dot(_ v: [Double]) -> Double { zip(x, v).reduce(0) { $0 + Double($1.0) * $1.1 } }
        var value = dot(w) + strength * dot(categoryDirections[category])
        if nonlinear != 0 {
            value += nonlinear * quadratic.reduce(0) { $0 + (dot($1) * dot($1) - 1) } / (2.0 * Double(quadratic.count)).squareRoot()
        }
        return value
    }
}

/// The planted vocabulary of text data.
private struct TextPlant {
    var words: [String]
    /// Word value per category: ±1 for shared words, ±α (sign per category) for conflict words, else 0.
    var values: [[Double]]

    init(categories: Int, strength: Double, random: inout SplitMix64) {
        let syllables = ["ba", "ko", "ri", "te", "mu", "sa", "lo", "ne", "pi", "du", "ga", "fe", "zo", "vu", "ki", "ra"]
        var seen = Set<String>()
        var vocabulary: [String] = []
        while vocabulary.count < 400 {
            let length = 2 + Int(random.next() % 2)
            let word = (0..<length).map { _ in syllables[Int(random.next() % UInt64(syllables.count))] }.joined()
            if seen.insert(word).inserted { vocabulary.append(word) }
        }
        words = vocabulary
        values = (0..<categories).map { _ in [Double](repeating: 0, count: vocabulary.count) }
        for index in 0..<20 { for k in 0..<categories { values[k][index] = 1 } }            // shared positive
        for index in 20..<40 { for k in 0..<categories { values[k][index] = -1 } }          // shared negative
        for index in 40..<60 {                                                                // conflict words
            for k in 0..<categories { values[k][index] = (random.next() % 2 == 0 ? 1 : -1) * strength * 2 }
        }
    }

    func response(_ random: inout SplitMix64) -> [String] {
        let length = 12 + Int(random.next() % 19)
        return (0..<length).map { _ in
            random.nextUnit() < 0.08 ? (random.next() % 2 == 0 ? "not" : "never") : words[Int(random.next() % UInt64(words.count))]
        }
    }

    func reward(_ response: [String], category: Int) -> Double {
        var total = 0.0
        var flip = 1.0
        for word in response {
            if word == "not" || word == "never" { flip = -1; continue }
            if let index = words.firstIndex(of: word) { total += flip * values[category][index] }
            flip = 1
        }
        return total / 4
    }
}

/// A standard normal draw from the shared stream: the cosine half of a Box–Muller pair.
package func gaussian(_ random: inout SplitMix64) -> Double {
    boxMuller(max(random.nextUnit(), 1e-300), random.nextUnit()).0
}
