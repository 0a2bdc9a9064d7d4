import UpweightSupport
import UpweightIO

/// The lasting line `train` prints after each minibatch epoch, from the training log so far:
/// `epoch 3/10  train loss 0.4312  held-out loss 0.5012  accuracy 0.712`. When the held-out loss has
/// risen for two epochs in a row past its best, the line says so and points at early stopping.
public enum EpochLine {
    public static func text(log: [JSONObject], epochs: Int, patience: Int?) -> String {
        guard let entry = log.last, case .integer(let epoch)? = entry["epoch"] else { return "" }
        var line = "epoch \(epoch)/\(epochs)"
        if let loss = entry["train_loss"]?.numberValue { line += "  train loss \(fixed(loss, 4))" }
        let heldOut = log.map(heldOutLoss)
        if let loss = heldOut.last ?? nil {
            line += "  held-out loss \(fixed(loss, 4))"
            if case .object(let eval)? = entry["eval"], let accuracy = eval["accuracy"]?.numberValue { line += "  accuracy \(fixed(accuracy, 3))" }
            let known = heldOut.compactMap { $0 }
            if let best = known.indices.min(by: { known[$0] < known[$1] }), known.count >= best + 3,
               known[known.count - 1] > known[known.count - 2], known[known.count - 2] > known[known.count - 3] {
                line += "  (held-out loss rising since epoch \(best + 1)" + (patience == nil ? "; --patience N stops early and keeps the best epoch)" : ")")
            }
        }
        return line
    }

    private static func heldOutLoss(_ entry: JSONObject) -> Double? {
        guard case .object(let eval)? = entry["eval"] else { return nil }
        return eval["log_loss"]?.numberValue
    }
}
