/// Concatenation along the channel axis of (N, Cᵢ, H, W) inputs, as in SqueezeNet's fire modules.
public final class Concat: Layer {
    public init() {}
    public var kind: String { "Concat" }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = inputs[0]
        for t in inputs.dropFirst() {
            try expect(t.count == s.count && t[0] == s[0] && Array(t.dropFirst(2)) == Array(s.dropFirst(2)),
                       "Concat: input shapes \(inputs) differ outside the channel axis")
        }
        return [s[0], inputs.reduce(0) { $0 + $1[1] }] + s.dropFirst(2)
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let shape = try! outputShape(inputs.map(\.shape))
        y.prepare(shape)                                    // (N, ΣCᵢ, H, W)
        let n = shape[0], outPer = y.count / n
        var offset = 0
        y.data.withUnsafeMutableBufferPointer { yp in
            for t in inputs {
                let per = t.count / n
                t.data.withUnsafeBufferPointer { tp in
                    for i in 0 ..< n { (yp.baseAddress! + i * outPer + offset).update(from: tp.baseAddress! + i * per, count: per) }
                }
                offset += per
            }
        }
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        let n = y.shape[0], outPer = y.count / n
        var offset = 0
        return inputs.enumerated().map { k, t in
            let per = t.count / n
            defer { offset += per }
            guard needed[k] else { return nil }
            var dx = Tensor(uninitialized: t.shape)
            for i in 0 ..< n { dx.data.replaceSubrange(i * per ..< (i + 1) * per, with: dy.data[i * outPer + offset ..< i * outPer + offset + per]) }
            return dx
        }
    }
}
