/// Where a long-running library call says what it is doing. `note` lines are the run's lasting
/// output (weight summary, where the model went, warnings); `progress` updates are transient, and the
/// CLI draws them as one self-erasing line on a terminal, and not at all elsewhere.
public struct Reporter: Sendable {
    public var note: @Sendable (String) -> Void
    public var progress: @Sendable (Progress) -> Void

    public init(note: @escaping @Sendable (String) -> Void, progress: @escaping @Sendable (Progress) -> Void = { _ in }) {
        self.note = note
        self.progress = progress
    }

    public static let silent = Reporter(note: { _ in })

    /// One step of a phase: `completed` of `total` units (pairs, iterations, runs), and the current loss.
    public struct Progress: Sendable {
        public var phase: String
        public var completed: Int
        public var total: Int?
        public var unit: String
        public var loss: Double?

        public init(phase: String, completed: Int, total: Int?, unit: String, loss: Double? = nil) {
            self.phase = phase
            self.completed = completed
            self.total = total
            self.unit = unit
            self.loss = loss
        }
    }
}
