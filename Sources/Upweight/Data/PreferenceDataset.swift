/// Pairwise preference data in columns: one entry per pair in every array, in input order.
/// Responses are text (featurized later) or dense vectors stored row-major in one Float32 buffer per side.
public struct PreferenceDataset: Sendable {
    public enum Responses: Sendable {
        case text(prompts: [String], chosen: [String], rejected: [String])
        /// Row-major: pair i's chosen vector is `chosen[i*dimension ..< (i+1)*dimension]`.
        case dense(dimension: Int, chosen: [Float], rejected: [Float])
    }

    public var responses: Responses
    public var ids: [String?]
    /// Category names in order of first appearance; `categoryIndices` point into this list.
    public var categoryNames: [String]
    public var categoryIndices: [Int32]
    /// The per-example weight field (1 where absent).
    public var exampleWeights: [Double]
    /// The per-pair margin m_i inside the loss (0 where absent).
    public var margins: [Double]
    /// The split field ("train", "test", ...) where the data has one.
    public var splits: [String?]
    /// Where each pair came from, for messages that point back at the input.
    public var sources: [SourceLocation]
    /// The files `sources` index into.
    public var files: [String] = []

    public var count: Int { categoryIndices.count }

    public var isText: Bool {
        if case .text = responses { return true }
        return false
    }

    /// Pairs per category, indexed like `categoryNames`.
    public var categoryCounts: [Int] {
        var counts = [Int](repeating: 0, count: categoryNames.count)
        for index in categoryIndices { counts[Int(index)] += 1 }
        return counts
    }

    public func category(of pair: Int) -> String { categoryNames[Int(categoryIndices[pair])] }

    /// The pairs at `indices`, in that order. Categories keep their names; unused ones are dropped.
    public func subset(_ indices: [Int]) -> PreferenceDataset {
        var names: [String] = []
        var remap = [Int32](repeating: -1, count: categoryNames.count)
        var categories: [Int32] = []
        categories.reserveCapacity(indices.count)
        for pair in indices {
            let old = Int(categoryIndices[pair])
            if remap[old] < 0 {
                remap[old] = Int32(names.count)
                names.append(categoryNames[old])
            }
            categories.append(remap[old])
        }
        let pickedResponses: Responses
        switch responses {
        case .text(let prompts, let chosen, let rejected):
            pickedResponses = .text(prompts: indices.map { prompts[$0] }, chosen: indices.map { chosen[$0] },
                                    rejected: indices.map { rejected[$0] })
        case .dense(let dimension, let chosen, let rejected):
            func rows(_ matrix: [Float]) -> [Float] {
                var out: [Float] = []
                out.reserveCapacity(indices.count * dimension)
                for pair in indices { out.append(contentsOf: matrix[pair * dimension..<(pair + 1) * dimension]) }
                return out
            }
            pickedResponses = .dense(dimension: dimension, chosen: rows(chosen), rejected: rows(rejected))
        }
        return PreferenceDataset(
            responses: pickedResponses, ids: indices.map { ids[$0] }, categoryNames: names,
            categoryIndices: categories, exampleWeights: indices.map { exampleWeights[$0] },
            margins: indices.map { margins[$0] }, splits: indices.map { splits[$0] },
            sources: indices.map { sources[$0] }, files: files)
    }
}

/// A file and a 1-based line.
public struct SourceLocation: Sendable, Equatable {
    public var file: Int32
    public var line: Int32
}
