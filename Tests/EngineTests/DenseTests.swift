import Testing
@testable import Engine

/// MatMul, Gemm and the generalised Linear against naive triple loops written from their definitions (numpy's
/// matmul broadcasting rules, ONNX Gemm, torch's nn.Linear over the last axis); backward against central finite
/// differences.
@Suite struct DenseTests {
    static let tolerance: Float = 2e-2

    /// numpy.matmul by its definition: promote rank-1 operands, broadcast the batch axes, drop the added axes.
    func naiveMatMul(_ a: Tensor, _ b: Tensor) -> Tensor {
        let a2 = a.rank == 1 ? [1] + a.shape : a.shape, b2 = b.rank == 1 ? b.shape + [1] : b.shape
        let (m, k, n) = (a2[a2.count - 2], a2[a2.count - 1], b2[b2.count - 1])
        let r = max(a2.count, b2.count) - 2
        let ab = Array(repeating: 1, count: r - a2.count + 2) + a2.dropLast(2)
        let bb = Array(repeating: 1, count: r - b2.count + 2) + b2.dropLast(2)
        let batch = zip(ab, bb).map { max($0, $1) }
        var out = Tensor(zeros: batch + [m, n])
        for f in 0 ..< batch.reduce(1, *) {
            let i = multiIndex(f, batch)
            let ai = flatIndex(zip(i, ab).map { $1 == 1 ? 0 : $0 }, ab), bi = flatIndex(zip(i, bb).map { $1 == 1 ? 0 : $0 }, bb)
            for p in 0 ..< m { for q in 0 ..< n {
                var s: Float = 0
                for t in 0 ..< k { s += a.data[(ai * m + p) * k + t] * b.data[(bi * k + t) * n + q] }
                out.data[(f * m + p) * n + q] = s
            } }
        }
        return out.reshaped(batch + (a.rank == 1 ? [] : [m]) + (b.rank == 1 ? [] : [n]))
    }

    static let matmulCases: [([Int], [Int], [Int])] = [
        ([3, 4], [4, 5], [3, 5]), ([4], [4, 5], [5]), ([3, 4], [4], [3]), ([4], [4], []),
        ([2, 3, 4], [4, 5], [2, 3, 5]), ([2, 3, 4, 6], [6, 5], [2, 3, 4, 5]),       // ConvNeXt's (N, H, W, C) · (C, 4C)
        ([1, 3, 4], [2, 4, 5], [2, 3, 5]), ([2, 1, 3, 4], [5, 4, 2], [2, 5, 3, 2]), ([3, 4], [2, 4, 5], [2, 3, 5]),
        ([2, 3, 4], [4], [2, 3]), ([4], [2, 4, 3], [2, 3]), ([2, 1, 1, 2, 3, 4], [1, 2, 1, 2, 4, 3], [2, 2, 1, 2, 3, 3]),
    ]

    @Test("MatMul equals numpy's definition", arguments: matmulCases)
    func matmulForward(_ c: ([Int], [Int], [Int])) throws {
        var rng = SeededRandom(10)
        let a = randomTensor(c.0, &rng), b = randomTensor(c.1, &rng)
        let y = try run(MatMul(), [a, b])
        #expect(y.shape == c.2)
        #expect(y.maxAbsDifference(naiveMatMul(a, b)) < 1e-5)
    }

    @Test("MatMul backward matches finite differences", arguments: matmulCases)
    func matmulGradients(_ c: ([Int], [Int], [Int])) {
        var rng = SeededRandom(11)
        let r = gradientCheck("MatMul \(c.0)·\(c.1)", MatMul(), [randomTensor(c.0, &rng), randomTensor(c.1, &rng)])
        #expect(r.relative < Self.tolerance)
    }

    @Test func matmulConstantOperandAndRefusals() throws {
        var rng = SeededRandom(12)
        let a = randomTensor([2, 3, 4], &rng), b = randomTensor([4, 5], &rng)
        var y = Tensor(zeros: [0])
        MatMul().forward([a, b], &y)
        let g = MatMul().backward([a, b], y, randomTensor(y.shape, &rng), needed: [true, false])
        #expect(g[0]?.shape == [2, 3, 4] && g[1] == nil)
        #expect(MatMul().macs([[2, 3, 4], [4, 5]], [2, 3, 5]) == 3 * 4 * 5)
        #expect(try run(MatMul(), [Tensor(zeros: [2, 0]), Tensor(zeros: [0, 3])]) == Tensor(zeros: [2, 3]))   // numpy: an empty sum is 0
        #expect(throws: EngineError.self) { try MatMul().outputShape([[2, 3, 4], [5, 6]]) }
        #expect(throws: EngineError.self) { try MatMul().outputShape([[2, 3, 4], [3, 4, 5]]) }
        #expect(throws: EngineError.self) { try MatMul().outputShape([[], [3]]) }
    }

    /// ONNX Gemm: Y = alpha·op(A)·op(B) + beta·C, C broadcast to (M, N).
    func naiveGemm(_ g: Gemm, _ a: Tensor, _ b: Tensor, _ c: Tensor?) -> Tensor {
        let (m, k) = g.transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let n = g.transB ? b.shape[0] : b.shape[1]
        let c2 = c.map { $0.rank == 0 ? [1, 1] : $0.rank == 1 ? [1, $0.shape[0]] : $0.shape }
        var y = Tensor(zeros: [m, n])
        for i in 0 ..< m { for j in 0 ..< n {
            var s: Float = 0
            for t in 0 ..< k { s += (g.transA ? a.data[t * m + i] : a.data[i * k + t]) * (g.transB ? b.data[j * k + t] : b.data[t * n + j]) }
            var v = g.alpha * s
            if let c, let c2 { v += g.beta * c.data[(c2[0] == 1 ? 0 : i) * c2[1] + (c2[1] == 1 ? 0 : j)] }
            y.data[i * n + j] = v
        } }
        return y
    }

    @Test func gemmForwardAndGradients() throws {
        var rng = SeededRandom(13)
        let (m, k, n) = (3, 4, 5)
        for (ta, tb, alpha, beta, cShape) in [(false, false, 1, 1, nil), (false, true, 1, 1, [n]), (true, false, 0.5, 2, [m, 1]),
                                              (true, true, -1.5, 0.25, [m, n]), (false, true, 2, 1, []), (true, false, 1, 1, [1, n]),
                                              (false, false, 1, 0, [1])] as [(Bool, Bool, Float, Float, [Int]?)] {
            let g = Gemm(transA: ta, transB: tb, alpha: alpha, beta: beta)
            let a = randomTensor(ta ? [k, m] : [m, k], &rng), b = randomTensor(tb ? [n, k] : [k, n], &rng)
            let c = cShape.map { randomTensor($0, &rng) }
            let inputs = [a, b] + (c.map { [$0] } ?? [])
            #expect(try run(g, inputs).maxAbsDifference(naiveGemm(g, a, b, c)) < 1e-5, "\(g.summary)")
            #expect(gradientCheck("Gemm \(g.summary) C \(cShape ?? [])", g, inputs).relative < Self.tolerance)
        }
        #expect(Gemm().macs([[3, 4], [4, 5]], [3, 5]) == 20)
        #expect(throws: EngineError.self) { try Gemm().outputShape([[3, 4], [5, 6]]) }
        #expect(throws: EngineError.self) { try Gemm(transB: true).outputShape([[3, 4], [4, 5]]) }
        #expect(throws: EngineError.self) { try Gemm().outputShape([[3, 4], [4, 5], [3, 2]]) }
        #expect(throws: EngineError.self) { try Gemm().outputShape([[3, 4], [4, 5], [2, 3, 5]]) }
    }

    /// One image through a wide fully connected layer: gemv with its rows shared out over the cores (1000 × 300
    /// is past the split's threshold), against the sums in double precision.
    @Test func wideLinearOnOneRowEqualsTheSums() throws {
        var rng = SeededRandom(15)
        let lin = Linear(300, 1000)
        lin.weight = randomTensor([1000, 300], &rng)
        lin.bias = randomTensor([1000], &rng)
        let x = randomTensor([1, 300], &rng)
        let y = try run(lin, [x])                                   // (1, 1000)
        var worst = 0.0
        for o in 0 ..< 1000 {
            let want = Double(lin.bias!.data[o]) + (0 ..< 300).reduce(0.0) { $0 + Double(lin.weight.data[o * 300 + $1]) * Double(x.data[$1]) }
            worst = max(worst, abs(Double(y.data[o]) - want))
        }
        #expect(worst < 1e-4, "largest difference \(worst)")
    }

    /// torch.nn.Linear over the last axis of any rank: y[..., o] = b[o] + Σᵢ W[o, i]·x[..., i].
    @Test func linearOverTheLastAxis() throws {
        var rng = SeededRandom(14)
        let lin = Linear(6, 4)
        lin.weight = randomTensor([4, 6], &rng)
        lin.bias = randomTensor([4], &rng)
        for shape in [[6], [1, 6], [1, 1, 1, 6], [3, 6], [2, 3, 5, 6], [2, 1, 3, 2, 6]] {
            let x = randomTensor(shape, &rng)
            let y = try run(lin, [x])
            #expect(y.shape == shape.dropLast() + [4])
            var want = Tensor(zeros: y.shape)
            for r in 0 ..< x.count / 6 { for o in 0 ..< 4 {
                want.data[r * 4 + o] = lin.bias!.data[o] + (0 ..< 6).reduce(0) { $0 + lin.weight.data[o * 6 + $1] * x.data[r * 6 + $1] }
            } }
            #expect(y.maxAbsDifference(want) < 1e-5, "\(shape)")
            #expect(gradientCheck("Linear on \(shape)", lin, [x]).relative < Self.tolerance)
        }
        #expect(lin.macs([[2, 3, 5, 6]], [2, 3, 5, 4]) == 15 * 24)
        #expect(lin.macs([[7, 6]], [7, 4]) == 24)
        #expect(throws: EngineError.self) { try lin.outputShape([[2, 5]]) }
        #expect(throws: EngineError.self) { try lin.outputShape([[]]) }
    }
}
