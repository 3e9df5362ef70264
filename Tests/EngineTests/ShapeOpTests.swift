import Testing
@testable import Engine

/// Reshape, Flatten, Transpose and Slice: forward values from their definitions (numpy's reshape, transpose and
/// basic slicing, ONNX's Flatten and Slice clamping rules, with ONNX's own test cases), backward against central
/// finite differences (tolerance as LayerGradientTests).
@Suite struct ShapeOpTests {
    static let tolerance: Float = 2e-2

    @Test func reshapeInfersOneAxisAndRefusesBadCounts() throws {
        let x = iota([2, 3, 4])
        #expect(try run(Reshape([4, -1]), [x]).shape == [4, 6])
        #expect(try run(Reshape([1, 2, 1, 12, 1]), [x]).data == x.data)   // an Unsqueeze
        #expect(try run(Reshape([24]), [x]).shape == [24])
        #expect(try run(Reshape([]), [Tensor(shape: [1, 1], data: [5])]).shape == [])   // a Squeeze to rank 0
        #expect(throws: EngineError.self) { try Reshape([5, -1]).outputShape([[2, 3, 4]]) }
        #expect(throws: EngineError.self) { try Reshape([-1, -1]).outputShape([[2, 3, 4]]) }
        #expect(throws: EngineError.self) { try Reshape([2, 3, 5]).outputShape([[2, 3, 4]]) }
        #expect(throws: EngineError.self) { try Reshape([0, -1]).outputShape([[2, 3, 4]]) }
        var rng = SeededRandom(1)
        #expect(gradientCheck("Reshape", Reshape([3, -1]), [randomTensor([2, 3, 2], &rng)]).relative < Self.tolerance)
    }

    /// ONNX Flatten: (Π d[..<axis], Π d[axis...]); torch.flatten(x, 1) for the default.
    @Test func flattenAroundAnAxis() throws {
        let s = [2, 3, 4, 5]
        for (axis, want) in [(0, [1, 120]), (1, [2, 60]), (2, [6, 20]), (4, [120, 1]), (-1, [24, 5]), (-4, [1, 120])] {
            #expect(try Flatten(axis: axis).outputShape([s]) == want, "axis \(axis)")
        }
        #expect(try Flatten().outputShape([[7, 512, 1, 1]]) == [7, 512])
        #expect(throws: EngineError.self) { try Flatten(axis: 5).outputShape([s]) }
        var rng = SeededRandom(2)
        #expect(gradientCheck("Flatten axis 2", Flatten(axis: 2), [randomTensor([2, 3, 2, 2], &rng)]).relative < Self.tolerance)
        #expect(gradientCheck("Identity", Identity(), [randomTensor([3, 2], &rng)]).relative < Self.tolerance)
    }

    /// y[i₀, ..., iᵣ₋₁] = x[j] with j[perm[k]] = i[k], element by element.
    func naiveTranspose(_ x: Tensor, _ perm: [Int]) -> Tensor {
        let shape = perm.map { x.shape[$0] }
        var y = Tensor(zeros: shape)
        for f in 0 ..< y.count {
            let i = multiIndex(f, shape)
            var j = i
            for k in perm.indices { j[perm[k]] = i[k] }
            y.data[f] = x.data[flatIndex(j, x.shape)]
        }
        return y
    }

    @Test("Transpose equals the element-by-element definition", arguments: [
        ([5], [0]), ([3, 4], [1, 0]), ([45, 70], [1, 0]), ([2, 3, 4], [2, 0, 1]),
        ([2, 37, 9, 11], [0, 2, 3, 1]), ([1, 70, 40, 33], [0, 2, 3, 1]), ([2, 9, 11, 37], [0, 3, 1, 2]),
        ([2, 3, 4, 5, 7], [0, 2, 1, 3, 4]), ([2, 3, 1, 4, 5], [4, 2, 0, 3, 1]), ([2, 3, 2, 1, 3, 2], [5, 1, 3, 0, 4, 2]),
        ([3, 1, 2, 2, 3, 2], [-1, 0, -3, 1, 2, -2]),
    ] as [([Int], [Int])])
    func transposeForward(_ c: ([Int], [Int])) throws {
        let x = iota(c.0)
        let r = c.0.count
        let y = try run(Transpose(c.1), [x])
        #expect(y == naiveTranspose(x, c.1.map { $0 < 0 ? $0 + r : $0 }))
    }

    @Test func transposeGradientsAndRefusals() {
        var rng = SeededRandom(3)
        for (shape, perm) in [([7], [0]), ([3, 5], [1, 0]), ([2, 5, 3, 4], [0, 2, 3, 1]), ([2, 3, 4, 5], [0, 3, 1, 2]),
                              ([2, 2, 3, 2, 3], [0, 2, 1, 3, 4]), ([2, 1, 3, 2, 2, 3], [3, 5, 0, 2, 1, 4])] as [([Int], [Int])] {
            #expect(gradientCheck("Transpose \(perm)", Transpose(perm), [randomTensor(shape, &rng)]).relative < Self.tolerance)
        }
        #expect(throws: EngineError.self) { try Transpose([0, 1]).outputShape([[2, 3, 4]]) }
        #expect(throws: EngineError.self) { try Transpose([0, 0, 1]).outputShape([[2, 3, 4]]) }
        #expect(throws: EngineError.self) { try Transpose([0, 3, 1]).outputShape([[2, 3, 4]]) }
    }

    /// numpy's x[start:end:step] on 0..<10, the ONNX clamping rules spelled out in the comments.
    @Test func sliceClampsLikeONNXOnOneAxis() throws {
        let x = iota([10])
        let cases: [(Int, Int, Int, [Float])] = [
            (-3, Int.max, 1, [7, 8, 9]),                 // x[-3:]
            (8, 1, -2, [8, 6, 4, 2]),                    // x[8:1:-2]
            (Int.max, Int.min, -1, [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]),   // x[::-1], as exporters write it
            (-100, 3, 1, [0, 1, 2]),                     // start clamped to 0
            (5, -100, -1, [5, 4, 3, 2, 1, 0]),           // end clamped to −1 for a negative step
            (2, 2, 1, []), (7, 3, 1, []), (3, 7, -1, []),
            (20, -20, -3, [9, 6, 3, 0]),                 // x[20:-20:-3]: start clamped to 9, end to −1
            (1, 1000, 4, [1, 5, 9]), (0, 10, Int.max, [0]), (9, -11, Int.min, [9]),
        ]
        for (start, end, step, want) in cases {
            let y = try run(Slice(starts: [start], ends: [end], steps: [step]), [x])
            #expect(y.data == want, "x[\(start):\(end):\(step)]")
        }
    }

    /// ONNX's Slice test cases on x (20, 10, 5) (onnx/backend/test/case/node/slice.py).
    @Test func sliceMatchesONNXTestCases() throws {
        let x = iota([20, 10, 5])
        // slice_neg_steps: x[20:0:-1, 10:0:-3, 4:1:-2]
        let y = try run(Slice(starts: [20, 10, 4], ends: [0, 0, 1], axes: [0, 1, 2], steps: [-1, -3, -2]), [x])
        #expect(y.shape == [19, 3, 2])
        for f in 0 ..< y.count {
            let i = multiIndex(f, y.shape)
            #expect(y.data[f] == x.data[flatIndex([19 - i[0], 9 - 3 * i[1], 4 - 2 * i[2]], x.shape)])
        }
        #expect(try run(Slice(starts: [1], ends: [1000], axes: [1]), [x]).shape == [20, 9, 5])        // slice_end_out_of_bounds
        #expect(try run(Slice(starts: [1000], ends: [1000], axes: [1]), [x]).shape == [20, 0, 5])     // slice_start_out_of_bounds
        #expect(try run(Slice(starts: [0], ends: [-1], axes: [1]), [x]).shape == [20, 9, 5])          // slice_neg
        let z = try run(Slice(starts: [0, 0, 3], ends: [20, 10, 4], axes: [0, -2, -1]), [x])           // slice_negative_axes
        #expect(z.shape == [20, 10, 1] && z.data == stride(from: 3, to: 1000, by: 5).map(Float.init))
        let w = try run(Slice(starts: [0, 0], ends: [3, 10]), [x])                                     // slice_default_axes
        #expect(w.shape == [3, 10, 5] && w.data == Array(x.data[0 ..< 150]))
        #expect(throws: EngineError.self) { try Slice(starts: [0], ends: [1], steps: [0]).outputShape([[4]]) }
        #expect(throws: EngineError.self) { try Slice(starts: [0], ends: [1], axes: [3]).outputShape([[4, 2]]) }
        #expect(throws: EngineError.self) { try Slice(starts: [0, 0], ends: [1, 1], axes: [1, -1]).outputShape([[4, 2]]) }
        #expect(throws: EngineError.self) { try Slice(starts: [0, 0], ends: [1]).outputShape([[4, 2]]) }
    }

    /// A hostile file's sizes fail in the shape rule with an error: no trap on an overflowing product, and no
    /// allocation sized by the pads or the output before the graph has checked its memory.
    @Test func hugeSizesAreRefusedWithoutTrapOrAllocation() {
        let big = 1 << 40
        #expect(throws: EngineError.self) { try Reshape([big, big]).outputShape([[2, 3]]) }
        #expect(throws: EngineError.self) { try Reshape([big, big, -1]).outputShape([[2, 3]]) }
        #expect(throws: EngineError.self) { try Pad([Int.max, 1]).outputShape([[4]]) }
        #expect(throws: EngineError.self) { try Pad([Int.min, 1]).outputShape([[4]]) }
        #expect(throws: EngineError.self) { try Pad([big, big, big, big]).outputShape([[4, 4]]) }
        #expect(throws: EngineError.self) { try Resize(sizes: [big, big]).outputShape([[1, 1, 4, 4]]) }
        #expect(throws: EngineError.self) { try MatMul().outputShape([[1 << 32, 1, 1, 1], [1, 1 << 32, 1, 1]]) }
        // One huge axis is only a shape; the rule answers at once without building index tables for it.
        #expect((try? Pad([1 << 45, 0]).outputShape([[4]])) == [(1 << 45) + 4])
        #expect((try? Resize(sizes: [1 << 45]).outputShape([[1, 4]])) == [1, 1 << 45])
    }

    @Test func sliceGradients() {
        var rng = SeededRandom(4)
        let cases: [([Int], Slice)] = [
            ([9], Slice(starts: [7], ends: [-100], steps: [-2])),
            ([4, 7], Slice(starts: [1, -2], ends: [3, 0], axes: [0, -1], steps: [1, -2])),
            ([3, 5, 4], Slice(starts: [1], ends: [Int.max], axes: [1])),
            ([2, 6, 3, 5], Slice(starts: [Int.max, 1], ends: [Int.min, 4], axes: [1, 3], steps: [-1, 2])),
            ([2, 3, 4, 3, 5], Slice(starts: [0, 3, -1], ends: [2, 0, -4], axes: [0, 2, 4], steps: [1, -1, -1])),
        ]
        for (shape, slice) in cases {
            #expect(gradientCheck("Slice \(slice.summary)", slice, [randomTensor(shape, &rng)]).relative < Self.tolerance)
        }
    }
}
