import Foundation

/// Limited-memory BFGS (Nocedal & Wright, "Numerical Optimization", 2nd ed., Algorithms 7.4 and 7.5) with a
/// backtracking line search on the Armijo condition (their Algorithm 3.1, c = 1e-4, halving): the optimiser Gatys et
/// al. used for style transfer. It keeps the last `history` steps s and gradient changes y, and turns the gradient
/// into a quasi-Newton direction with the two-loop recursion, scaled by sᵀy / yᵀy.
public struct LBFGS: Sendable {
    /// Pairs (s, y) kept.
    public var history = 10
    /// The root mean square change of x that the first step tries (later steps take their scale from the history).
    public var firstStep: Float = 0.01
    /// Halvings the line search tries before it gives up.
    public var maxHalvings = 20

    public init(history: Int = 10, firstStep: Float = 0.01) {
        self.history = history
        self.firstStep = firstStep
    }

    /// Minimises f from x.
    /// - Parameters:
    ///   - x: (n) the start, replaced by the best point found.
    ///   - iterations: steps to take; it stops earlier when the line search finds no lower value.
    ///   - f: x ↦ (value, gradient (n)).
    ///   - project: maps a point into a convex feasible set (a box: clip to [0, 1]). Each direction d is replaced by
    ///     project(x + d) − x before the line search (a projected quasi-Newton step, as gradient-projection methods
    ///     take), so every point evaluated is feasible and a coordinate held at a bound does not stall the search.
    ///   - each: called after every iteration with (iteration, value, evaluations so far).
    /// - Returns: the number of function evaluations.
    @discardableResult
    public func minimise(_ x: inout [Float], iterations: Int, _ f: ([Float]) throws -> (Float, [Float]),
                         project: (inout [Float]) -> Void = { _ in }, each: (Int, Float, Int) -> Void = { _, _, _ in }) throws -> Int {
        project(&x)
        var (fx, g) = try f(x)
        var evaluations = 1
        var pairs: [(s: [Float], y: [Float], rho: Double)] = []
        guard iterations > 0 else { return evaluations }
        /// The step from x to the projection of x + d: what is left of d once the feasible set has cut it.
        func feasible(_ d: [Float]) -> [Float] {
            var end = x
            for j in 0 ..< x.count { end[j] += d[j] }
            project(&end)
            for j in 0 ..< x.count { end[j] -= x[j] }
            return end
        }
        for it in 1 ... iterations {
            var d = feasible(direction(g, pairs))
            var slope = dot(g, d)
            if !(slope < 0) {                                             // not downhill: forget the history
                pairs.removeAll()
                d = feasible(direction(g, []))
                slope = dot(g, d)
                guard slope < 0 else { break }                            // a stationary point (of the feasible set)
            }
            var t: Float = 1, accepted = false
            var xn = x, fn = fx, gn = g
            for _ in 0 ... maxHalvings {
                for j in 0 ..< x.count { xn[j] = x[j] + t * d[j] }      // inside a convex set, as x and x + d are
                (fn, gn) = try f(xn)
                evaluations += 1
                if fn.isFinite && Double(fn) <= Double(fx) + 1e-4 * Double(t) * slope { accepted = true; break }
                t *= 0.5
            }
            guard accepted else { break }
            var s = [Float](repeating: 0, count: x.count), y = s
            for j in 0 ..< x.count { s[j] = xn[j] - x[j]; y[j] = gn[j] - g[j] }
            let sy = dot(s, y)
            if sy > 1e-10 * dot(y, y) {                                   // keep only pairs with positive curvature
                pairs.append((s, y, 1 / sy))
                if pairs.count > history { pairs.removeFirst() }
            }
            (x, fx, g) = (xn, fn, gn)
            each(it, fx, evaluations)
        }
        return evaluations
    }

    /// −H·g by the two-loop recursion, H₀ = (sᵀy / yᵀy)·I from the newest pair; without pairs, a step of
    /// `firstStep` root mean square along −g.
    func direction(_ g: [Float], _ pairs: [(s: [Float], y: [Float], rho: Double)]) -> [Float] {
        guard let last = pairs.last else {
            let rms = (dot(g, g) / Double(max(g.count, 1))).squareRoot()
            let k = rms > 0 ? Float(Double(firstStep) / rms) : 0
            return g.map { -k * $0 }
        }
        var q = g.map(Double.init)
        var alphas = [Double](repeating: 0, count: pairs.count)
        for (k, p) in pairs.enumerated().reversed() {
            var a = 0.0
            for j in 0 ..< q.count { a += Double(p.s[j]) * q[j] }
            a *= p.rho
            alphas[k] = a
            for j in 0 ..< q.count { q[j] -= a * Double(p.y[j]) }
        }
        let gamma = 1 / (last.rho * dot(last.y, last.y))
        for j in 0 ..< q.count { q[j] *= gamma }
        for (k, p) in pairs.enumerated() {
            var b = 0.0
            for j in 0 ..< q.count { b += Double(p.y[j]) * q[j] }
            b *= p.rho
            for j in 0 ..< q.count { q[j] += Double(p.s[j]) * (alphas[k] - b) }
        }
        return q.map { Float(-$0) }
    }

    func dot(_ a: [Float], _ b: [Float]) -> Double {
        var s = 0.0
        for j in 0 ..< a.count { s += Double(a[j]) * Double(b[j]) }
        return s
    }
}
