/// Pairwise preference data in columns: one entry per pair in every array, in input order.
/// Responses are text (featurized later), each side's texts in one buffer, or dense vectors stored
/// row-major in one Float32 buffer per side.
public struct PreferenceDataset: Sendable {
    public enum Responses: Sendable {
        case text(prompts: TextColumn, chosen: TextColumn, rejected: TextColumn)
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
    /// `groupHash(of:)` of each pair's group field (`FieldNames.group`), 0 where it had none.
    public var groupFieldKeys: [UInt64] = []
    /// Where each pair came from, for messages that point back at the input.
    public var sources: [SourceLocation]
    /// The files `sources` index into.
    public var files: [String] = []
    /// Text pairs' features, when they were hashed as they were read.
    public var hashedTexts: HashedTexts?
    /// Streamed text pairs (responses empty, the texts on disk): what reports need of their texts.
    public var textDigests: TextDigests? = nil

    public var count: Int { categoryIndices.count }

    public var isText: Bool {
        if case .text = responses { return true }
        return textDigests != nil
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
        let picked: Responses
        switch responses {
        case .text(let prompts, let chosen, let rejected):
            picked = .text(prompts: prompts.subset(indices), chosen: chosen.subset(indices), rejected: rejected.subset(indices))
        case .dense(let dimension, let chosen, let rejected):
            picked = .dense(dimension: dimension, chosen: Self.rows(chosen, indices, dimension), rejected: Self.rows(rejected, indices, dimension))
        }
        return withResponses(picked, of: indices)
    }

    /// The pairs at `first` and the pairs at `second`, giving up this dataset's responses side by side
    /// as they are copied: the peak is this data plus half of it, not twice it. Leaves `self` empty.
    public mutating func split(_ first: [Int], _ second: [Int]) -> (PreferenceDataset, PreferenceDataset) {
        let ascending = zip(first, first.dropFirst()).allSatisfy { $0 < $1 }
        guard case .dense(let dimension, var chosen, var rejected) = responses else {
            // Text: the parts share the texts' buffers; hashed rows are copied out for `second` and
            // compacted in place for `first`, as dense rows are below.
            var hashed = hashedTexts
            hashedTexts = nil
            let secondHashed = hashed?.subset(second)
            if ascending { hashed?.compact(keeping: first) } else { hashed = hashed?.subset(first) }
            var parts = (subset(first), subset(second))
            (parts.0.hashedTexts, parts.1.hashedTexts) = (hashed, secondHashed)
            self = subset([])
            return parts
        }
        // From here the locals hold the only references to the two sides' storage: the second part
        // is copied out, then the first is compacted in place (its rows are in ascending order), so
        // the peak is the data plus the second part.
        responses = .dense(dimension: dimension, chosen: [], rejected: [])
        let second = (Self.rows(chosen, second, dimension), Self.rows(rejected, second, dimension), second)
        let firstResponses: Responses
        if ascending {
            Self.compact(&chosen, keeping: first, dimension: dimension)
            Self.compact(&rejected, keeping: first, dimension: dimension)
            firstResponses = .dense(dimension: dimension, chosen: chosen, rejected: rejected)
        } else {
            firstResponses = .dense(dimension: dimension, chosen: Self.rows(chosen, first, dimension), rejected: Self.rows(rejected, first, dimension))
        }
        chosen = []
        rejected = []
        let parts = (withResponses(firstResponses, of: first),
                     withResponses(.dense(dimension: dimension, chosen: second.0, rejected: second.1), of: second.2))
        self = parts.0.subset([])
        return parts
    }

    /// Moves the rows `keeping` (ascending) to the front of `matrix`, in order, and drops the rest.
    private static func compact(_ matrix: inout [Float], keeping rows: [Int], dimension: Int) {
        matrix.withUnsafeMutableBufferPointer { buffer in
            for (target, row) in rows.enumerated() where target != row {
                // target < row: moving forward never overwrites a row still to be moved.
                (buffer.baseAddress! + target * dimension).update(from: buffer.baseAddress! + row * dimension, count: dimension)
            }
        }
        matrix.removeLast(matrix.count - rows.count * dimension)
    }

    private static func rows(_ matrix: [Float], _ indices: [Int], _ dimension: Int) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(indices.count * dimension)
        for pair in indices { out.append(contentsOf: matrix[pair * dimension..<(pair + 1) * dimension]) }
        return out
    }

    /// Every column but the responses, taken at `indices`, with `responses` (already picked).
    private func withResponses(_ picked: Responses, of indices: [Int]) -> PreferenceDataset {
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
        return PreferenceDataset(
            responses: picked, ids: indices.map { ids[$0] }, categoryNames: names,
            categoryIndices: categories, exampleWeights: indices.map { exampleWeights[$0] },
            margins: indices.map { margins[$0] }, splits: indices.map { splits[$0] },
            groupFieldKeys: groupFieldKeys.isEmpty ? [] : indices.map { groupFieldKeys[$0] },
            sources: indices.map { sources[$0] }, files: files, hashedTexts: hashedTexts?.subset(indices),
            textDigests: textDigests?.subset(indices))
    }
}

/// A file and a 1-based line.
public struct SourceLocation: Sendable, Equatable {
    public var file: Int32
    public var line: Int32
}
