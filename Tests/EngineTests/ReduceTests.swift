import Testing
@testable import Engine

/// Reductions over axes, global pooling and concatenation on any axis: gradients against finite differences,
/// values against numpy's results for the same arrays.
@Suite struct ReduceTests {
    /// Distinct values 0.1·k in a shuffled order, so max and min have no ties that a finite step could flip.
    func distinct(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SeededRandom(seed)
        var v = (0 ..< shape.reduce(1, *)).map { Float($0) * 0.1 - 1 }
        v.shuffle(using: &rng)
        return Tensor(shape: shape, data: v)
    }

    static let cases: [([Int], [Int], Bool)] = [
        ([2, 3, 4], [1], true), ([2, 3, 4], [-1], false), ([2, 3, 4, 5], [0, 2], true), ([2, 3, 4], [], false),
        ([7], [0], true), ([2, 1, 3, 2, 3], [1, 3, -1], false), ([3, 5, 2], [0, 1], false), ([2, 3, 4, 5], [2, 3], true),
    ]

    @Test("Reductions' gradients match finite differences", arguments: cases)
    func gradients(_ c: ([Int], [Int], Bool)) throws {
        var rng = SeededRandom(2)
        let x = randomTensor(c.0, &rng)
        for op in [Reduce.Op.sum, .mean, .l2] {
            try expectGradients("Reduce\(op) \(c)", Reduce(op, axes: c.1, keepDims: c.2), [x])
        }
        for op in [Reduce.Op.max, .min] {
            try expectGradients("Reduce\(op) \(c)", Reduce(op, axes: c.1, keepDims: c.2), [distinct(c.0, seed: 5)], eps: 1e-2)
        }
    }

    /// numpy on x = np.arange(24.).reshape(2, 3, 4): x.sum(1), x.mean((0, 2), keepdims=True), x.max(-1), x.min(0),
    /// np.sqrt((x ** 2).sum()), x.sum().
    @Test func valuesMatchNumpy() throws {
        let x = Tensor(shape: [2, 3, 4], data: (0 ..< 24).map(Float.init))
        #expect(try run(Reduce(.sum, axes: [1], keepDims: false), [x]) == Tensor(shape: [2, 4], data: [12, 15, 18, 21, 48, 51, 54, 57]))
        #expect(try run(Reduce(.mean, axes: [0, 2], keepDims: true), [x]) == Tensor(shape: [1, 3, 1], data: [7.5, 11.5, 15.5]))
        #expect(try run(Reduce(.max, axes: [-1], keepDims: false), [x]) == Tensor(shape: [2, 3], data: [3, 7, 11, 15, 19, 23]))
        #expect(try run(Reduce(.min, axes: [0], keepDims: false), [x]) == Tensor(shape: [3, 4], data: (0 ..< 12).map(Float.init)))
        let n = try run(Reduce(.l2, keepDims: false), [x])
        #expect(n.shape == [] && abs(n.data[0] - 65.75713) < 1e-4)
        #expect(try run(Reduce(.sum, axes: [0, 1, 2], keepDims: true), [x]) == Tensor(shape: [1, 1, 1], data: [276]))
        #expect(throws: EngineError.self) { try Reduce(.sum, axes: [3], keepDims: true).outputShape([[2, 3, 4]]) }
    }

    /// torch.amax(torch.tensor([1., 3., 3.]), 0).backward() gives [0, 0.5, 0.5]; the L2 norm of zeros has gradient 0.
    @Test func tiesAndZeroNorm() throws {
        let x = Tensor(shape: [3], data: [1, 3, 3]), r = Reduce(.max, axes: [0], keepDims: false)
        let y = try run(r, [x])
        #expect(r.backward([x], y, Tensor(shape: [], data: [1]), needed: [true])[0]!.data == [0, 0.5, 0.5])
        let z = Tensor(zeros: [2, 2]), l2 = Reduce(.l2, axes: [1], keepDims: true)
        #expect(l2.backward([z], try run(l2, [z]), Tensor(shape: [2, 1], repeating: 1), needed: [true])[0]! == z)
    }

    /// 2²¹ values, where reductions are split across the cores: the sum over the batch axis (one row of columns,
    /// cut mid-row) and the mean over the spatial axes (rows), against sums in Double.
    @Test func bigReductionsMatchDoubleSums() throws {
        var rng = SeededRandom(7)
        let x = randomTensor([8, 16, 128, 128], &rng)
        let y0 = try run(Reduce(.sum, axes: [0], keepDims: false), [x]), y23 = try run(Reduce(.mean, axes: [2, -1], keepDims: true), [x])
        let plane = 128 * 128, item = 16 * plane
        var s0 = [Double](repeating: 0, count: item), s23 = [Double](repeating: 0, count: 128)
        for i in 0 ..< x.count { s0[i % item] += Double(x.data[i]); s23[i / plane] += Double(x.data[i]) / Double(plane) }
        #expect(maxDiff("sum over N", y0, Tensor(shape: [16, 128, 128], data: s0.map(Float.init)), tolerance: 1e-5) < 1e-5)
        #expect(maxDiff("mean over H, W", y23, Tensor(shape: [8, 16, 1, 1], data: s23.map(Float.init)), tolerance: 1e-5) < 1e-5)
    }

    @Test func globalPools() throws {
        var rng = SeededRandom(4)
        for shape in [[2, 3, 5], [2, 3, 4, 5], [1, 2, 3, 2, 3]] {
            try expectGradients("GlobalAveragePool \(shape)", GlobalPool(.average), [randomTensor(shape, &rng)])
            try expectGradients("GlobalMaxPool \(shape)", GlobalPool(.max), [distinct(shape, seed: 3)])
        }
        // torch.nn.AdaptiveMaxPool2d(1) on [[[[1, 4], [4, 2]]]]: 4, its gradient to the first 4 in row-major order.
        let x = Tensor(shape: [1, 1, 2, 2], data: [1, 4, 4, 2]), mp = GlobalPool(.max)
        let y = try run(mp, [x])
        #expect(y == Tensor(shape: [1, 1, 1, 1], data: [4]))
        #expect(mp.backward([x], y, Tensor(shape: [1, 1, 1, 1], data: [2]), needed: [true])[0]!.data == [0, 2, 0, 0])
        #expect(try run(GlobalPool(.average), [x]).data == [2.75])
        #expect(throws: EngineError.self) { try GlobalPool(.average).outputShape([[2, 3]]) }
    }

    @Test func concatOnAnyAxis() throws {
        var rng = SeededRandom(6)
        for (shapes, axis) in [([[2, 2, 3, 3], [2, 5, 3, 3]], 1), ([[2, 3], [4, 3], [1, 3]], 0), ([[2, 3, 1], [2, 3, 4]], -1),
                               ([[3], [5]], 0), ([[2, 3, 2, 4], [2, 3, 1, 4]], 2), ([[1, 2, 3], [1, 2, 0]], 2)] {
            try expectGradients("Concat axis \(axis) \(shapes)", Concat(axis: axis), shapes.map { randomTensor($0, &rng) })
        }
        // np.concatenate([[[1, 2]], [[3, 4]]], axis=1) = [[1, 2, 3, 4]]; axis 0 gives [[1, 2], [3, 4]].
        let a = Tensor(shape: [1, 2], data: [1, 2]), b = Tensor(shape: [1, 2], data: [3, 4])
        #expect(try run(Concat(axis: -1), [a, b]) == Tensor(shape: [1, 4], data: [1, 2, 3, 4]))
        #expect(try run(Concat(axis: 0), [a, b]) == Tensor(shape: [2, 2], data: [1, 2, 3, 4]))
        #expect(throws: EngineError.self) { try Concat(axis: 2).outputShape([[1, 2], [1, 2]]) }
        #expect(throws: EngineError.self) { try Concat(axis: 0).outputShape([[1, 2], [1, 3]]) }
    }
}
