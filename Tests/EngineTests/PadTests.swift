import Testing
@testable import Engine

/// Pad: forward values from numpy.pad and the ONNX operator's documented examples; negative pads as onnxruntime
/// applies them (crop first, then pad the cropped axis); backward against central finite differences.
@Suite struct PadTests {
    static let tolerance: Float = 2e-2

    /// numpy: np.pad([1, 2, 3, 4], (2, 3), mode=m) for m in constant, reflect, edge.
    @Test func modesOnOneAxis() throws {
        let x = Tensor(shape: [4], data: [1, 2, 3, 4])
        #expect(try run(Pad([2, 3]), [x]).data == [0, 0, 1, 2, 3, 4, 0, 0, 0])
        #expect(try run(Pad([2, 3], value: -1.5), [x]).data == [-1.5, -1.5, 1, 2, 3, 4, -1.5, -1.5, -1.5])
        #expect(try run(Pad([2, 3], mode: .reflect), [x]).data == [3, 2, 1, 2, 3, 4, 3, 2, 1])
        #expect(try run(Pad([2, 3], mode: .edge), [x]).data == [1, 1, 1, 2, 3, 4, 4, 4, 4])
        // np.pad([1, 2, 3, 4], (7, 5), mode='reflect'): pads past d − 1 keep reflecting.
        #expect(try run(Pad([7, 5], mode: .reflect), [x]).data == [2, 1, 2, 3, 4, 3, 2, 1, 2, 3, 4, 3, 2, 1, 2, 3])
        // np.pad([5], (2, 1), mode='reflect') repeats the single value.
        #expect(try run(Pad([2, 1], mode: .reflect), [Tensor(shape: [1], data: [5])]).data == [5, 5, 5, 5])
    }

    /// Negative pads crop first, then the positive pad reflects the cropped axis: [1, 2, 3, 4] → [2, 3, 4] → reflect 2
    /// at the end → [2, 3, 4, 3, 2] (onnxruntime's pad.cc separates negative pads into slices applied first).
    @Test func negativePadsCropFirst() throws {
        let x = Tensor(shape: [4], data: [1, 2, 3, 4])
        #expect(try run(Pad([-1, 2], mode: .reflect), [x]).data == [2, 3, 4, 3, 2])
        #expect(try run(Pad([-1, 2], mode: .edge), [x]).data == [2, 3, 4, 4, 4])
        #expect(try run(Pad([1, -3], value: 9), [x]).data == [9, 1])
        #expect(try run(Pad([-2, -2]), [x]).data == [])
        #expect(try run(Pad([2, 1], value: 7), [Tensor(zeros: [0])]).data == [7, 7, 7])             // np.pad of an empty axis
        #expect(throws: EngineError.self) { try Pad([-3, 2]).outputShape([[2]]) }          // crops more than there is
        #expect(throws: EngineError.self) { try Pad([-2, 1], mode: .edge).outputShape([[2]]) }   // nothing left to copy
    }

    /// The ONNX Pad operator's examples (onnx.ai/onnx/operators/onnx__Pad.html), x (3, 2), pads [0, 2, 0, 0].
    @Test func onnxDocumentationExamples() throws {
        let x = Tensor(shape: [3, 2], data: [1.0, 1.2, 2.3, 3.4, 4.5, 5.7])
        #expect(try run(Pad([0, 2, 0, 0]), [x]).data == [0, 0, 1.0, 1.2, 0, 0, 2.3, 3.4, 0, 0, 4.5, 5.7])
        #expect(try run(Pad([0, 2, 0, 0], mode: .reflect), [x]).data == [1.0, 1.2, 1.0, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7, 4.5, 5.7])
        #expect(try run(Pad([0, 2, 0, 0], mode: .edge), [x]).data == [1.0, 1.0, 1.0, 1.2, 2.3, 2.3, 2.3, 3.4, 4.5, 4.5, 4.5, 5.7])
        // The same on the last axis only, given by `axes` (opset 18): pads [2, 0] for axis −1.
        #expect(try run(Pad([2, 0], axes: [-1], mode: .edge), [x]) == run(Pad([0, 2, 0, 0], mode: .edge), [x]))
        #expect(throws: EngineError.self) { try Pad([1, 1, 1]).outputShape([[3, 2]]) }
        #expect(throws: EngineError.self) { try Pad([1, 1], axes: [0, 1]).outputShape([[3, 2]]) }
    }

    /// Reflect on two axes of (1, 1, 3, 3): np.pad(x, ((0, 0), (0, 0), (1, 2), (2, 1)), mode='reflect'), written out.
    @Test func reflectOnTwoAxes() throws {
        let x = iota([1, 1, 3, 3])                                       // [[0 1 2] [3 4 5] [6 7 8]]
        let y = try run(Pad([0, 0, 1, 2, 0, 0, 2, 1], mode: .reflect), [x])
        #expect(y.shape == [1, 1, 6, 6])
        #expect(y.data == [5, 4, 3, 4, 5, 4,
                           2, 1, 0, 1, 2, 1,
                           5, 4, 3, 4, 5, 4,
                           8, 7, 6, 7, 8, 7,
                           5, 4, 3, 4, 5, 4,
                           2, 1, 0, 1, 2, 1])
    }

    @Test func gradients() {
        var rng = SeededRandom(6)
        let cases: [([Int], Pad)] = [
            ([5], Pad([3, 6], mode: .reflect)),
            ([5], Pad([-1, 4], mode: .edge)),
            ([3, 4], Pad([1, -1, 2, 3], value: 0.5)),
            ([2, 3, 4], Pad([2, 1, 1, 3], axes: [-2, 2], mode: .reflect)),
            ([2, 3, 4, 5], Pad([0, 0, 1, 2, 0, 0, 3, -1], mode: .edge)),
            ([1, 2, 3, 3, 4], Pad([0, 1, -1, 2, 0, 0, 0, 2, 1, 5], mode: .reflect)),
        ]
        for (shape, pad) in cases {
            #expect(gradientCheck("Pad \(pad.summary)", pad, [randomTensor(shape, &rng)]).relative < Self.tolerance)
        }
    }
}
