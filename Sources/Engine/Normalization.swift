/// Batch normalisation at inference (Ioffe & Szegedy, 2015): y = (x − running_mean) / √(running_var + ε)·weight + bias
/// per channel, on (N, C, …) of any rank ≥ 2 (torch's BatchNorm1d/2d/3d in eval mode, ONNX BatchNormalization with
/// training_mode 0). The name and state-dict keys are torchvision's BatchNorm2d's; `Graph.fused` folds it into the
/// convolution before it through `affine`.
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
        let s = try onlyInput(inputs)
        try expect(s.count >= 2 && s[1] == channels, "BatchNorm2d expects (N, \(channels), …) input, got \(s)")
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

    /// y = scale·x + shift plane by plane (a plane: one channel of one item, all of its positions).
    private func apply(_ x: Tensor, _ scale: [Float], _ shift: [Float]?, _ y: inout Tensor) {
        let plane = x.shape.dropFirst(2).reduce(1, *), planes = x.count / Swift.max(plane, 1)
        if x.count == 0 { return }
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                let xb = xp.baseAddress!, yb = yp.baseAddress!
                parallelChunks(planes, work: x.count >> 5) { range in   // memory-bound: parallel from 2²¹ values, as `Broadcast`
                    for p in range {
                        let c = p % channels, a = scale[c], b = shift?[c] ?? 0
                        for j in p * plane ..< (p + 1) * plane { yb[j] = xb[j] * a + b }
                    }
                }
            }
        }
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let x = inputs[0]                                   // (N, C, …)
        y.prepare(x.shape)
        let (scale, shift) = affine
        apply(x, scale, shift, &y)
    }

    /// dx = dy·scale.
    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        guard needed[0] else { return [nil] }
        var dx = Tensor(uninitialized: dy.shape)            // (N, C, …)
        apply(dy, affine.scale, nil, &dx)
        return [dx]
    }

    /// dweight = Σ dy·(x − mean)/√(var + ε), dbias = Σ dy, over the batch and positions of each channel.
    public func parameterGradients(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor) -> [String: Tensor] {
        let x = inputs[0], plane = x.shape.dropFirst(2).reduce(1, *)
        var dw = Tensor(zeros: [channels]), db = Tensor(zeros: [channels])
        for p in 0 ..< x.count / Swift.max(plane, 1) {
            let c = p % channels, inv = 1 / (runningVar.data[c] + eps).squareRoot()
            for j in p * plane ..< (p + 1) * plane {
                db.data[c] += dy.data[j]
                dw.data[c] += dy.data[j] * (x.data[j] - runningMean.data[c]) * inv
            }
        }
        return ["weight": dw, "bias": db]
    }
}
