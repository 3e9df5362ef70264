/// A strided box of the input, as ONNX Slice (opset ≥ 10) and numpy's x[start:end:step] on each listed axis.
/// ONNX Split is lowered by the importer into one Slice per output.
///
/// Per axis of size d, with the ONNX rules (onnx.ai/onnx/operators/onnx__Slice.html):
/// - a negative start or end has d added once;
/// - then, for step > 0, start and end are clamped to [0, d]; for step < 0, start to [0, d − 1] and end to [−1, d − 1];
/// - the axis keeps start, start + step, ... while short of end: max(0, ⌈(end − start) / step⌉) values.
/// So Int.max and Int.min (INT64_MAX, INT64_MIN in a file) mean "to the end" in either direction, and
/// starts [-1], ends [Int.min], steps [-1] reverses an axis. The backward scatters dy into zeros.
public final class Slice: Layer {
    public let starts: [Int], ends: [Int]
    /// The axes the starts and ends apply to (default 0..<starts.count); negative counts from the end.
    public let axes: [Int]?
    /// Non-zero steps (default all 1).
    public let steps: [Int]?

    public init(starts: [Int], ends: [Int], axes: [Int]? = nil, steps: [Int]? = nil) {
        self.starts = starts
        self.ends = ends
        self.axes = axes
        self.steps = steps
    }

    public var kind: String { "Slice" }
    public var summary: String {
        let axes = self.axes ?? Array(starts.indices), steps = self.steps ?? starts.map { _ in 1 }
        return (0 ..< min(starts.count, ends.count, axes.count, steps.count)).map { i in
            "axis \(axes[i]): \(starts[i])..<\(ends[i])" + (steps[i] == 1 ? "" : " by \(steps[i])")
        }.joined(separator: ", ")
    }

    /// The first index, step and count kept on every axis of an input of `shape`.
    func plan(_ shape: [Int]) throws -> [(start: Int, step: Int, count: Int)] {
        let axes = try ShapeMath.axes(self.axes ?? Array(starts.indices), rank: shape.count, "Slice")
        let steps = self.steps ?? starts.map { _ in 1 }
        try expect(ends.count == starts.count && axes.count == starts.count && steps.count == starts.count,
                   "Slice: starts \(starts), ends \(ends), axes \(axes) and steps \(steps) differ in length")
        try expect(!steps.contains(0), "Slice: steps \(steps) contain 0")
        var plan = shape.map { (start: 0, step: 1, count: $0) }
        for (i, a) in axes.enumerated() {
            let d = shape[a], step = steps[i]
            var start = starts[i] < 0 ? starts[i] + d : starts[i]
            var end = ends[i] < 0 ? ends[i] + d : ends[i], count = 0
            if step > 0 {
                start = Swift.min(Swift.max(start, 0), d)
                end = Swift.min(Swift.max(end, 0), d)
                count = end > start ? (end - start - 1) / step + 1 : 0
            } else {
                start = Swift.min(Swift.max(start, 0), d - 1)
                end = Swift.min(Swift.max(end, -1), d - 1)
                count = start > end ? (end - start + 1) / step + 1 : 0
            }
            plan[a] = (start, count > 1 ? step : 1, count)              // a step past the end would overflow the stride
        }
        return plan
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { try plan(inputs[0]).map(\.count) }

    /// The input's offset of the box's first element and the input strides of a step along each axis.
    func walk(_ shape: [Int]) -> (shape: [Int], offset: Int, strides: [Int]) {
        let plan = try! plan(shape), strides = ShapeMath.strides(shape)
        let offset = plan.indices.reduce(0) { $0 + (plan[$1].count > 0 ? plan[$1].start * strides[$1] : 0) }
        return (plan.map(\.count), offset, plan.indices.map { strides[$0] * plan[$0].step })
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let x = inputs[0]
        let (shape, offset, strides) = walk(x.shape)
        y.prepare(shape)                                                 // (count₀, count₁, ...)
        if y.count == 0 { return }
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                ShapeMath.copy(shape, xp.baseAddress! + offset, strides, yp.baseAddress!, ShapeMath.strides(shape))
            }
        }
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        let (shape, offset, strides) = walk(inputs[0].shape)
        var dx = Tensor(zeros: inputs[0].shape)                          // like x; zero outside the box
        if dy.count == 0 { return [dx] }
        dy.data.withUnsafeBufferPointer { dp in
            dx.data.withUnsafeMutableBufferPointer { xp in
                ShapeMath.copy(shape, dp.baseAddress!, ShapeMath.strides(shape), xp.baseAddress! + offset, strides)
            }
        }
        return [dx]
    }
}
