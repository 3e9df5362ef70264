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

/// Batch normalisation at inference: y = (x − running_mean) / √(running_var + ε) · weight + bias, per channel.
public final class BatchNorm2d: Layer {
    public let channels: Int
    public let eps: Float
    /// (C) each
    public var weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor

    public init(_ channels: Int, eps: Float = 1e-5) {
        self.channels = channels
        self.eps = eps
        weight = Tensor(shape: [channels], repeating: 1)
        bias = Tensor(zeros: [channels])
        runningMean = Tensor(zeros: [channels])
        runningVar = Tensor(shape: [channels], repeating: 1)
    }

    public var kind: String { "BatchNorm2d" }
    public var summary: String { "\(channels)" }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = inputs[0]
        try expect(s.count == 4 && s[1] == channels, "BatchNorm2d expects (N, \(channels), H, W) input, got \(s)")
        return s
    }

    public var parameterSpecs: [ParameterSpec] {
        [ParameterSpec("weight", [channels]), ParameterSpec("bias", [channels]),
         ParameterSpec("running_mean", [channels], trainable: false), ParameterSpec("running_var", [channels], trainable: false),
         ParameterSpec("num_batches_tracked", [], trainable: false, required: false)]
    }
    public func parameter(_ name: String) -> Tensor? {
        switch name {
        case "weight": weight
        case "bias": bias
        case "running_mean": runningMean
        case "running_var": runningVar
        default: nil
        }
    }
    public func setParameter(_ name: String, _ value: Tensor) {
        switch name {
        case "weight": weight = value
        case "bias": bias = value
        case "running_mean": runningMean = value
        case "running_var": runningVar = value
        default: break
        }
    }

    /// The per-channel affine map this layer computes: y = scale·x + shift, each (C).
    public var affine: (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: channels), shift = scale
        for c in 0 ..< channels {
            scale[c] = weight.data[c] / (runningVar.data[c] + eps).squareRoot()
            shift[c] = bias.data[c] - runningMean.data[c] * scale[c]
        }
        return (scale, shift)
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let x = inputs[0]                                   // (N, C, H, W)
        y.prepare(x.shape)
        let (scale, shift) = affine, plane = x.shape[2] * x.shape[3]
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                for p in 0 ..< x.shape[0] * channels {
                    let c = p % channels, a = scale[c], b = shift[c]
                    for j in p * plane ..< (p + 1) * plane { yp[j] = xp[j] * a + b }
                }
            }
        }
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        var dx = dy
        let scale = affine.scale, plane = dy.shape[2] * dy.shape[3]
        for p in 0 ..< dy.shape[0] * channels {
            for j in p * plane ..< (p + 1) * plane { dx.data[j] *= scale[p % channels] }
        }
        return [dx]
    }

    public func parameterGradients(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor) -> [String: Tensor] {
        let x = inputs[0], plane = x.shape[2] * x.shape[3]
        var dw = Tensor(zeros: [channels]), db = Tensor(zeros: [channels])
        for p in 0 ..< x.shape[0] * channels {
            let c = p % channels, inv = 1 / (runningVar.data[c] + eps).squareRoot()
            for j in p * plane ..< (p + 1) * plane {
                db.data[c] += dy.data[j]
                dw.data[c] += dy.data[j] * (x.data[j] - runningMean.data[c]) * inv
            }
        }
        return ["weight": dw, "bias": db]
    }
}
