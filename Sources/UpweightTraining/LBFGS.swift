import UpweightSupport

/// Limited-memory BFGS (Nocedal & Wright, Algorithm 7.4/7.5) with a backtracking Armijo line search.
/// The objectives here are strictly convex (L2 > 0), so every accepted step has sᵀy > 0 and
/// backtracking is enough; a pair with sᵀy ≤ 0 is skipped rather than trusted.
public struct LBFGS: Sendable {
    public var memory = 10
    public var maxIterations = 1000
    /// Stop when ‖∇L‖₂ falls below this.
    public var gradientTolerance = 1e-9

    public init(memory: Int = 10, maxIterations: Int = 1000, gradientTolerance: Double = 1e-9) {
        self.memory = memory
        self.maxIterations = maxIterations
        self.gradientTolerance = gradientTolerance
    }

    public struct Outcome: Sendable {
        public var parameters: [Double]
        public var value: Double
        public var gradientNorm: Double
        public var iterations: Int
        public var evaluations: Int
        /// Why it stopped: "gradient tolerance", "no further decrease", "max iterations".
        public var stopReason: String
    }

    /// Minimizes `objective`, which returns L(x) and writes ∇L(x) into its second argument.
    public func minimize(from start: [Double], objective: ([Double], inout [Double]) -> Double) -> Outcome {
        minimize(from: start, objective: objective) { _, _, _ in }
    }

    /// As above; `progress` sees (iteration, value, gradient norm) after every iteration, and may throw to stop.
    public func minimize(from start: [Double], objective: ([Double], inout [Double]) -> Double,
                         progress: (Int, Double, Double) throws -> Void) rethrows -> Outcome
    {
        var x = start
        var gradient = [Double]()
        var value = objective(x, &gradient)
        var evaluations = 1
        var steps: [[Double]] = []        // s_k = x_{k+1} − x_k
        var changes: [[Double]] = []      // y_k = ∇L_{k+1} − ∇L_k
        var curvatures: [Double] = []     // 1 / (y_kᵀ s_k)
        var iteration = 0
        var stopReason = "max iterations"
        while iteration < maxIterations {
            let gradientNorm = norm(gradient)
            if gradientNorm <= gradientTolerance { stopReason = "gradient tolerance"; break }
            var direction = twoLoopDirection(gradient, steps, changes, curvatures)
            var slope = dot(direction, gradient)
            if slope >= 0 {  // not a descent direction (numerical trouble): restart from steepest descent
                direction = gradient.map { -$0 }
                slope = -gradientNorm * gradientNorm
                steps.removeAll(); changes.removeAll(); curvatures.removeAll()
            }
            // The first step has no curvature estimate yet: scale it to length 1.
            var stepSize = steps.isEmpty ? min(1, 1 / gradientNorm) : 1
            var candidate = x
            var candidateGradient = [Double]()
            var candidateValue = Double.infinity
            var accepted = false
            for _ in 0..<60 {
                for index in x.indices { candidate[index] = x[index] + stepSize * direction[index] }
                candidateValue = objective(candidate, &candidateGradient)
                evaluations += 1
                if candidateValue <= value + 1e-4 * stepSize * slope { accepted = true; break }
                stepSize *= 0.5
            }
            // Below this, the objective's rounding noise exceeds the decrease still to be had.
            guard accepted, candidateValue < value || norm(candidateGradient) < gradientNorm else {
                stopReason = "no further decrease"
                break
            }
            var s = [Double](repeating: 0, count: x.count)
            var y = [Double](repeating: 0, count: x.count)
            for index in x.indices {
                s[index] = candidate[index] - x[index]
                y[index] = candidateGradient[index] - gradient[index]
            }
            let sy = dot(s, y)
            if sy > 1e-12 * dot(y, y) {
                steps.append(s); changes.append(y); curvatures.append(1 / sy)
                if steps.count > memory { steps.removeFirst(); changes.removeFirst(); curvatures.removeFirst() }
            }
            x = candidate
            gradient = candidateGradient
            value = candidateValue
            iteration += 1
            try progress(iteration, value, norm(gradient))
        }
        return Outcome(parameters: x, value: value, gradientNorm: norm(gradient), iterations: iteration,
                       evaluations: evaluations, stopReason: stopReason)
    }

    /// H·(−g) by the two-loop recursion, with H₀ = (sᵀy / yᵀy)·I from the newest pair.
    private func twoLoopDirection(_ gradient: [Double], _ steps: [[Double]], _ changes: [[Double]],
                                  _ curvatures: [Double]) -> [Double]
    {
        var q = gradient.map { -$0 }
        var alphas = [Double](repeating: 0, count: steps.count)
        // Each pair's vectors taken out of the array of arrays once: the loops then read one flat
        // array and vectorize (per element through `changes[k][index]` they did not: with 2^18
        // hashed features that loop was half of a domain classifier's fit).
        for k in steps.indices.reversed() {
            let alpha = curvatures[k] * dot(steps[k], q)
            alphas[k] = alpha
            let change = changes[k]
            for index in q.indices { q[index] -= alpha * change[index] }
        }
        if let last = steps.indices.last {
            let scale = 1 / (curvatures[last] * dot(changes[last], changes[last]))
            for index in q.indices { q[index] *= scale }
        }
        for k in steps.indices {
            let coefficient = alphas[k] - curvatures[k] * dot(changes[k], q)
            let step = steps[k]
            for index in q.indices { q[index] += coefficient * step[index] }
        }
        return q
    }
}
