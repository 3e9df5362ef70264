import Foundation
import Testing
@testable import Engine

/// Softmax and log-softmax on any axis against their definitions computed in Double along the axis; backward
/// against central finite differences.
@Suite struct SoftmaxTests {
    static let tolerance: Float = 2e-2

    /// exp(x − max) / Σ exp(x − max) (or its log) along `axis`, one fibre at a time, in Double.
    func reference(_ x: Tensor, axis: Int, log: Bool) -> Tensor {
        var y = x
        let k = x.shape[axis], inner = x.shape[(axis + 1)...].reduce(1, *)
        for o in 0 ..< x.count / (k * inner) { for j in 0 ..< inner {
            let idx = (0 ..< k).map { o * k * inner + $0 * inner + j }
            let m = idx.map { Double(x.data[$0]) }.max()!
            let s = idx.reduce(0.0) { $0 + Foundation.exp(Double(x.data[$1]) - m) }
            for i in idx { y.data[i] = Float(log ? Double(x.data[i]) - m - Foundation.log(s) : Foundation.exp(Double(x.data[i]) - m) / s) }
        } }
        return y
    }

    @Test("Softmax and LogSoftmax on every axis", arguments: [
        ([7], -1), ([3, 5], 0), ([3, 5], -1), ([2, 3, 4], 1), ([2, 300, 3], 1), ([2, 3, 600], 0), ([2, 3, 4, 5], -3), ([2, 3, 2, 3, 4], 3), ([2, 1, 3, 2, 2, 3], -6),
    ] as [([Int], Int)])
    func forwardAndBackward(_ c: ([Int], Int)) throws {
        var rng = SeededRandom(15)
        let x = randomTensor(c.0, &rng, scale: 3)
        let axis = c.1 < 0 ? c.1 + c.0.count : c.1
        #expect(try run(Softmax(axis: c.1), [x]).maxAbsDifference(reference(x, axis: axis, log: false)) < 1e-6)
        #expect(try run(Softmax(axis: c.1, log: true), [x]).maxAbsDifference(reference(x, axis: axis, log: true)) < 1e-5)
        let small = randomTensor(c.0.map { min($0, 4) }, &rng, scale: 3)
        #expect(gradientCheck("Softmax axis \(c.1) on \(small.shape)", Softmax(axis: c.1), [small], eps: 1e-3).relative < Self.tolerance)
        #expect(gradientCheck("LogSoftmax axis \(c.1) on \(small.shape)", Softmax(axis: c.1, log: true), [small], eps: 1e-3).relative < Self.tolerance)
    }

    /// `Softmax()` keeps the last axis and `Softmax.rows` stays exact for the analyses (huge logits do not overflow).
    @Test func lastAxisDefaultAndRows() throws {
        var rng = SeededRandom(16)
        let x = randomTensor([4, 10], &rng, scale: 5)
        #expect(try run(Softmax(), [x]) == Softmax.rows(x))
        let third: Float = 1 / 3
        #expect(Softmax.rows(Tensor(shape: [1, 3], data: [1000, 1000, 1000])).data == [third, third, third])
        #expect(throws: EngineError.self) { try Softmax(axis: 2).outputShape([[3, 4]]) }
        #expect(throws: EngineError.self) { try Softmax(axis: -3, log: true).outputShape([[3, 4]]) }
    }
}
