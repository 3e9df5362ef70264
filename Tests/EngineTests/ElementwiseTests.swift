import Testing
@testable import Engine

/// The broadcasting binary ops: gradients against finite differences over the broadcast patterns real CNNs use,
/// and forward/backward of big tensors (the parallel, row-split paths) against a naive index-by-index definition
/// of numpy broadcasting written here.
@Suite struct ElementwiseTests {
    /// (a, b) shape pairs: equal, squeeze-excitation, layer scale, bias, scalar, both broadcast, ranks 1 and 5.
    static let shapePairs: [([Int], [Int])] = [
        ([2, 3, 4], [2, 3, 4]), ([2, 3, 5, 4], [2, 3, 1, 1]), ([2, 3, 3, 5], [5]), ([2, 3, 4, 3], [1, 3, 1, 1]),
        ([3, 4], []), ([], [2, 3]), ([3, 1, 5], [1, 4, 1]), ([7], [7]), ([2, 1, 3, 2, 3], [2, 4, 1, 2, 1]), ([4, 1], [3]),
    ]

    @Test("Binary ops' gradients match finite differences", arguments: shapePairs)
    func binaryGradients(_ shapes: ([Int], [Int])) throws {
        var rng = SeededRandom(5)
        // a on the grid 0.1k + 0.05, b on 0.1k: never closer than 0.05, so no finite step makes a tie for Max/Min.
        let a = gridTensor(shapes.0, &rng, range: 2), b = gridTensor(shapes.1, &rng, range: 2, offset: 0)
        let positive = uniformTensor(shapes.1, &rng, 0.5, 1.5)                     // a divisor, or a base, away from 0
        let tag = "\(shapes.0)·\(shapes.1)"
        try expectGradients("Add \(tag)", Add(), [a, b])
        try expectGradients("Sub \(tag)", Sub(), [a, b])
        try expectGradients("Mul \(tag)", Mul(), [a, b])
        try expectGradients("Div \(tag)", Div(), [a, positive])
        try expectGradients("Pow \(tag)", Pow(), [uniformTensor(shapes.0, &rng, 0.5, 1.5), uniformTensor(shapes.1, &rng, -1, 2)])
        try expectGradients("Max \(tag)", Max(), [a, b])
        try expectGradients("Min \(tag)", Min(), [b, a])
    }

    @Test func naryAddMaxMinGradients() throws {
        var rng = SeededRandom(8)
        let a = gridTensor([2, 3, 4], &rng), b = gridTensor([3, 1], &rng, offset: 0.0), c = gridTensor([4], &rng, offset: 0.025)
        try expectGradients("Add of three", Add(), [a, b, c])
        try expectGradients("Max of three", Max(), [a, b, c], eps: 5e-3)
        try expectGradients("Min of three", Min(), [c, a, b], eps: 5e-3)
        try expectGradients("Add of one", Add(), [a])
    }

    /// numpy: np.array([[1], [2]]) + np.array([10, 20, 30]) = [[11, 21, 31], [12, 22, 32]]; and the same minus, times, over.
    @Test func forwardBroadcastsLikeNumpy() throws {
        let a = Tensor(shape: [2, 1], data: [1, 2]), b = Tensor(shape: [3], data: [10, 20, 30])
        #expect(try run(Add(), [a, b]) == Tensor(shape: [2, 3], data: [11, 21, 31, 12, 22, 32]))
        #expect(try run(Sub(), [a, b]) == Tensor(shape: [2, 3], data: [-9, -19, -29, -8, -18, -28]))
        #expect(try run(Mul(), [a, b]) == Tensor(shape: [2, 3], data: [10, 20, 30, 20, 40, 60]))
        #expect(try run(Div(), [b, a]) == Tensor(shape: [2, 3], data: [10, 20, 30, 5, 10, 15]))
        #expect(try run(Pow(), [a, Tensor(shape: [], data: [3])]) == Tensor(shape: [2, 1], data: [1, 8]))
        #expect(try run(Max(), [a, Tensor(shape: [], data: [1.5])]).data == [1.5, 2])
        #expect(try run(Min(), [a, Tensor(shape: [], data: [1.5])]).data == [1, 1.5])
        // torch.maximum(torch.tensor([1., nan]), torch.tensor([nan, 0.])) = [nan, nan]
        let m = try run(Max(), [Tensor(shape: [2], data: [1, .nan]), Tensor(shape: [2], data: [.nan, 0])])
        #expect(m.data.allSatisfy { $0.isNaN })
    }

    /// torch.maximum(a, b).backward(ones) with a = b gives 0.5 to each (derivatives.yaml: `where(self == other,
    /// grad / 2, grad)`); three equal inputs get a third each; the larger input gets all of it.
    @Test func maxTiesSplitTheGradient() throws {
        let a = Tensor(shape: [3], data: [1, 2, 5]), b = Tensor(shape: [3], data: [1, 3, 4])
        let y = try run(Max(), [a, b]), dy = Tensor(shape: [3], repeating: 1)
        let g = Max().backward([a, b], y, dy, needed: [true, true])
        #expect(g[0]!.data == [0.5, 0, 1] && g[1]!.data == [0.5, 1, 0])
        let t = Tensor(shape: [1], data: [2])
        let g3 = Min().backward([t, t, t], t, Tensor(shape: [1], data: [3]), needed: [true, false, true])
        #expect(g3[0]!.data == [1] && g3[1] == nil && g3[2]!.data == [1])
    }

    @Test func sumToABroadcastShapeAndEqualShapesShareDy() throws {
        let dy = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        let g = Add().backward([Tensor(zeros: [2, 3]), Tensor(zeros: [3]), Tensor(zeros: [2, 1]), Tensor(zeros: [])], dy, dy,
                               needed: [true, true, true, true])
        #expect(g[0]! == dy && g[1]!.data == [5, 7, 9] && g[2]!.data == [6, 15] && g[3]!.data == [21])
        let s = Sub().backward([Tensor(zeros: [2, 3]), Tensor(zeros: [1, 3])], dy, dy, needed: [false, true])
        #expect(s[0] == nil && s[1]! == Tensor(shape: [1, 3], data: [-5, -7, -9]))
    }

    @Test func shapeErrorsNameTheOpAndShapes() {
        #expect(throws: EngineError.self) { try Add().outputShape([[2, 3], [4]]) }
        do { _ = try Mul().outputShape([[2, 3], [2, 2]]) } catch { #expect("\(error)".contains("Mul") && "\(error)".contains("[2, 3]")) }
        #expect(throws: EngineError.self) { try Sub().outputShape([[2, 3]]) }
        #expect(throws: EngineError.self) { try PRelu().outputShape([[2, 3, 4, 4], [4, 1, 1]]) }
    }

    /// PReLU's slope per channel: torch's (C) weight on axis 1, ONNX's (C, 1, 1), a single slope, and (N, C) input.
    @Test func preluGradients() throws {
        var rng = SeededRandom(3)
        let x = gridTensor([2, 3, 4, 5], &rng)
        for slope in [uniformTensor([3], &rng, 0, 0.5), uniformTensor([3, 1, 1], &rng, 0, 0.5), uniformTensor([1], &rng, 0, 0.5)] {
            try expectGradients("PReLU slope \(slope.shape)", PRelu(), [x, slope])
        }
        try expectGradients("PReLU (N, C)", PRelu(), [gridTensor([4, 3], &rng), uniformTensor([3], &rng, 0, 0.5)])
        // torch.nn.PReLU(2) with weight [0.25, 0.5] on [[[-2, 4]], [[-2, 4]]] (N=1, C=2, L=2) = [[[-0.5, 4]], [[-1, 4]]]
        let y = try run(PRelu(), [Tensor(shape: [1, 2, 2], data: [-2, 4, -2, 4]), Tensor(shape: [2], data: [0.25, 0.5])])
        #expect(y.data == [-0.5, 4, -1, 4])
    }

    /// Index-by-index numpy broadcasting, the reference for the fast paths.
    func naive(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> (y: Tensor, index: (Int) -> (Int, Int)) {
        let shape = Broadcast.shape(a.shape, b.shape)!, r = shape.count
        let pa = [Int](repeating: 1, count: r - a.rank) + a.shape, pb = [Int](repeating: 1, count: r - b.rank) + b.shape
        func index(_ o: Int) -> (Int, Int) {
            var rest = o, ia = 0, ib = 0, sa = 1, sb = 1
            for d in (0 ..< r).reversed() {
                let i = rest % shape[d]
                rest /= shape[d]
                if pa[d] != 1 { ia += i * sa }
                if pb[d] != 1 { ib += i * sb }
                sa *= pa[d]
                sb *= pb[d]
            }
            return (ia, ib)
        }
        var y = Tensor(zeros: shape)
        for o in 0 ..< y.count { let (ia, ib) = index(o); y.data[o] = f(a.data[ia], b.data[ib]) }
        return (y, index)
    }

    /// A product and its gradients through plans split over the cores at any size (`parallelFrom: 1`): rows cut
    /// into pieces, and broadcast gradients summed in one buffer per part, against the naive definition.
    @Test("Split broadcasts match the naive definition", arguments: [
        ([2, 64, 8, 8], [2, 64, 1, 1]), ([2, 6, 6, 64], [64]), ([3, 4000], []), ([1, 10_003], [1, 10_003]),
        ([5, 1, 2000], [1, 3, 1]), ([], [7001]), ([3, 1], [1, 5]),
    ])
    func splitBroadcasts(_ shapes: ([Int], [Int])) {
        var rng = SeededRandom(2)
        let a = randomTensor(shapes.0, &rng), b = randomTensor(shapes.1, &rng)
        let (ref, index) = naive(a, b, *)
        let plan = Broadcast(a.shape, b.shape, parallelFrom: 1)
        var y = Tensor(zeros: ref.shape)
        let dy = randomTensor(ref.shape, &rng)
        let (da, db) = a.data.withUnsafeBufferPointer { ap in
            b.data.withUnsafeBufferPointer { bp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    plan.map(ap.baseAddress!, bp.baseAddress!, yp.baseAddress!) { $0 * $1 }
                    return dy.data.withUnsafeBufferPointer { dp in
                        (plan.gradient(0, a.shape, ap.baseAddress!, bp.baseAddress!, yp.baseAddress!, dp.baseAddress!) { _, b, _, d in d * b },
                         plan.gradient(1, b.shape, ap.baseAddress!, bp.baseAddress!, yp.baseAddress!, dp.baseAddress!) { a, _, _, d in d * a })
                    }
                }
            }
        }
        #expect(maxDiff("Mul \(shapes)", y, ref, tolerance: 0) == 0)
        var ra = [Double](repeating: 0, count: a.count), rb = [Double](repeating: 0, count: b.count)
        for o in 0 ..< y.count {
            let (ia, ib) = index(o)
            ra[ia] += Double(dy.data[o] * b.data[ib])
            rb[ib] += Double(dy.data[o] * a.data[ia])
        }
        let tolerance = 1e-5 * Float(max(ra.map(abs).max()!, rb.map(abs).max()!, 1))
        #expect(maxDiff("dMul/da \(shapes)", da, Tensor(shape: a.shape, data: ra.map(Float.init)), tolerance: tolerance) <= tolerance)
        #expect(maxDiff("dMul/db \(shapes)", db, Tensor(shape: b.shape, data: rb.map(Float.init)), tolerance: tolerance) <= tolerance)
    }
}
