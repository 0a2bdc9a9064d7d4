import UpweightSupport
import UpweightIO

/// `train --save-split DIR`: the training and held-out pairs' lines, copied as they are from the data
/// files into `DIR/train.jsonl` and `DIR/held_out.jsonl`, so that other tools train and evaluate on
/// exactly Upweight's split. Lines are numbered as the reader numbers them (1-based, every newline
/// counts); a carriage return before a newline is dropped; gzip files are read decompressed.
public enum SplitFiles {
    public static let trainName = "train.jsonl"
    public static let heldOutName = "held_out.jsonl"

    public static func write(train: PreferenceDataset, heldOut: PreferenceDataset, to directory: String) throws {
        if Files.exists(directory) && !Files.isDirectory(directory) {
            throw UsageError("--save-split \(directory): exists and is not a directory")
        }
        try Files.createParentDirectories(of: "\(directory)/\(trainName)")
        try Files.writeAtomically(try lines(of: train), to: "\(directory)/\(trainName)")
        try Files.writeAtomically(try lines(of: heldOut), to: "\(directory)/\(heldOutName)")
    }

    /// The source lines of `dataset`'s pairs, in its order, each ending in a newline.
    package static func lines(of dataset: PreferenceDataset) throws -> [UInt8] {
        var wanted = [[Int32: [Int]]](repeating: [:], count: dataset.files.count)
        for (pair, source) in dataset.sources.enumerated() { wanted[Int(source.file)][source.line, default: []].append(pair) }
        var texts = [ArraySlice<UInt8>](repeating: [], count: dataset.count)
        for (file, lines) in wanted.enumerated() where !lines.isEmpty {
            try LineChunks(path: dataset.files[file]).forEachLine { line, number in
                if let number = Int32(exactly: number), let pairs = lines[number] {
                    let copy = Array(line)
                    for pair in pairs { texts[pair] = copy[...] }
                }
            }
        }
        var output: [UInt8] = []
        for text in texts { output.append(contentsOf: text); output.append(UInt8(ascii: "\n")) }
        return output
    }
}
