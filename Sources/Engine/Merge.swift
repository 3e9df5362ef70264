/// Concatenation along one axis of inputs whose other axes agree (torch.cat, ONNX Concat); axis 1 joins channels,
/// as in SqueezeNet's fire modules and DenseNet. A negative axis counts from the end.
public final class Concat: Layer {
    public let axis: Int
    public init(axis: Int = 1) { self.axis = axis }
    public var kind: String { "Concat" }
    public var summary: String { axis == 1 ? "" : "axis \(axis)" }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        try expect(!inputs.isEmpty, "Concat has no inputs")
        let s = inputs[0], a = axis < 0 ? axis + s.count : axis
        try expect(a >= 0 && a < s.count, "Concat: axis \(axis) is out of range for input shape \(s)")
        for t in inputs.dropFirst() {
            try expect(t.count == s.count && t.indices.allSatisfy { $0 == a || t[$0] == s[$0] },
                       "Concat: input shapes \(inputs) differ outside axis \(axis)")
        }
        var shape = s
        shape[a] = inputs.reduce(0) { $0 + $1[a] }
        return shape
    }

    /// Rows before the axis (outer), and the values each input and the output hold per outer row.
    private func layout(_ shapes: [[Int]], _ output: [Int]) -> (outer: Int, per: [Int], outPer: Int) {
        let a = axis < 0 ? axis + output.count : axis
        let outer = output[..<a].reduce(1, *), inner = output[(a + 1)...].reduce(1, *)
        return (outer, shapes.map { $0[a] * inner }, output[a] * inner)
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let shape = try! outputShape(inputs.map(\.shape))
        y.prepare(shape)                                    // (…, ΣCᵢ, …)
        let (outer, per, outPer) = layout(inputs.map(\.shape), shape)
        var offset = 0
        y.data.withUnsafeMutableBufferPointer { yp in
            for (t, per) in zip(inputs, per) {
                if per > 0 {
                    t.data.withUnsafeBufferPointer { tp in
                        for i in 0 ..< outer { (yp.baseAddress! + i * outPer + offset).update(from: tp.baseAddress! + i * per, count: per) }
                    }
                }
                offset += per
            }
        }
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        let (outer, per, outPer) = layout(inputs.map(\.shape), y.shape)
        var offset = 0
        return inputs.indices.map { k in
            defer { offset += per[k] }
            guard needed[k] else { return nil }
            var dx = Tensor(uninitialized: inputs[k].shape)
            if per[k] == 0 { return dx }
            dx.data.withUnsafeMutableBufferPointer { xp in
                dy.data.withUnsafeBufferPointer { dp in
                    for i in 0 ..< outer { (xp.baseAddress! + i * per[k]).update(from: dp.baseAddress! + i * outPer + offset, count: per[k]) }
                }
            }
            return dx
        }
    }
}
