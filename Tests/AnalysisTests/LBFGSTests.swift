import Foundation
import Testing
@testable import Analysis

/// L-BFGS on functions whose minima are known: an ill-conditioned quadratic, Rosenbrock's valley, and a box that
/// cuts the quadratic's minimum off (the projection style transfer uses).
@Suite struct LBFGSTests {
    /// f(x) = Σ kᵢ (xᵢ − 1)², kᵢ from 1 to 1000: minimum 0 at x = 1.
    static func quadratic(_ x: [Float]) -> (Float, [Float]) {
        let k = (0 ..< x.count).map { Float(pow(1000, Double($0) / Double(x.count - 1))) }
        return (zip(k, x).reduce(0) { $0 + $1.0 * ($1.1 - 1) * ($1.1 - 1) }, zip(k, x).map { 2 * $0 * ($1 - 1) })
    }

    /// Against scipy 1.x's L-BFGS-B with the same memory, from x = 0 (Fortran, double precision):
    ///     minimize(f, zeros(20), jac=True, method="L-BFGS-B", options=dict(maxcor=10, maxiter=N, ftol=0, gtol=0))
    /// reaches f = 0.00823 after 60 iterations (66 evaluations) and 6.7e-10 after 150 (163).
    @Test func solvesAnIllConditionedQuadraticAsFastAsScipy() throws {
        var x = [Float](repeating: 0, count: 20)
        var values: [Float] = []
        let evaluations = try LBFGS().minimise(&x, iterations: 60, Self.quadratic, each: { _, f, _ in values.append(f) })
        print("quadratic: f = \(values.last!) after \(values.count) iterations, \(evaluations) evaluations (scipy: 0.00823, 66)")
        #expect(values.count == 60 && values.last! < 1.5 * 0.00823 && evaluations < 80)
        #expect(zip(values, values.dropFirst()).allSatisfy { $1 <= $0 }, "the Armijo search let f rise")
        try LBFGS().minimise(&x, iterations: 90, Self.quadratic)
        #expect(Self.quadratic(x).0 < 1e-6 && x.allSatisfy { abs($0 - 1) < 1e-3 }, "\(x)")
    }

    @Test func walksRosenbrocksValley() throws {
        // f(a, b) = (1 − a)² + 100 (b − a²)², minimum 0 at (1, 1), from (−1.2, 1) (Nocedal & Wright's start).
        var x: [Float] = [-1.2, 1]
        let f = { (x: [Float]) -> (Float, [Float]) in
            let (a, b) = (x[0], x[1])
            return ((1 - a) * (1 - a) + 100 * (b - a * a) * (b - a * a), [-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])
        }
        var last: Float = .infinity
        try LBFGS(firstStep: 0.1).minimise(&x, iterations: 200, f, each: { _, v, _ in last = v })
        print("rosenbrock: f = \(last) at \(x)")
        #expect(abs(x[0] - 1) < 1e-2 && abs(x[1] - 1) < 2e-2)
    }

    @Test func projectionKeepsEveryPointInTheBox() throws {
        // The quadratic's minimum x = 1 lies outside [0, 0.5]: the projected solution is 0.5 everywhere.
        var x = [Float](repeating: 0.1, count: 8)
        var outside = false
        let f = { (x: [Float]) -> (Float, [Float]) in
            if x.contains(where: { $0 < 0 || $0 > 0.5 }) { outside = true }
            return Self.quadratic(x)
        }
        try LBFGS().minimise(&x, iterations: 40, f, project: { x in for j in x.indices { x[j] = min(max(x[j], 0), 0.5) } })
        #expect(!outside && x.allSatisfy { abs($0 - 0.5) < 1e-4 }, "\(x)")
    }
}
