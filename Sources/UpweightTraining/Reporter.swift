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
        /// Where the whole training run stands, so that an ETA covers the run and not only this phase
        /// (nil: the phase is all there is to time).
        public var run: RunPosition?

        public init(phase: String, completed: Int, total: Int?, unit: String, loss: Double? = nil, run: RunPosition? = nil) {
            self.phase = phase
            self.completed = completed
            self.total = total
            self.unit = unit
            self.loss = loss
            self.run = run
        }
    }

    /// `completed` of `total` steps of a whole training run: pairs over every epoch, or L-BFGS iterations.
    public struct RunPosition: Sendable, Equatable {
        public var completed: Int
        public var total: Int
        /// `total` is a limit the run may stop short of (--max-iterations, --patience), not its length.
        public var isLimit: Bool

        public init(completed: Int, total: Int, isLimit: Bool) {
            (self.completed, self.total, self.isLimit) = (completed, total, isLimit)
        }

        /// Seconds left of the whole run at the pace since timing began `elapsed` seconds ago at
        /// `start` steps; nil until a step has been timed.
        public func remainingSeconds(startedAt start: Int, elapsed: Double) -> Double? {
            guard completed > start, elapsed > 0 else { return nil }
            return elapsed * Double(max(0, total - completed)) / Double(completed - start)
        }
    }

    /// This reporter for part `index` (from 0) of `count` like parts of one run (boosting's rounds):
    /// each update's run position is placed within the whole; `mayEndEarly`: the parts may stop short.
    public func part(_ index: Int, of count: Int, mayEndEarly: Bool) -> Reporter {
        let progress = self.progress
        return Reporter(note: note) { update in
            var update = update
            if let run = update.run {
                update.run = RunPosition(completed: index * run.total + run.completed, total: count * run.total,
                                         isLimit: run.isLimit || mayEndEarly)
            }
            progress(update)
        }
    }
}
