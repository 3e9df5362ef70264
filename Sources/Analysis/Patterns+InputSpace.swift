import Engine

/// The model's preprocessing as a per-channel affine map from RGB pixel values (0...255) to its input:
/// model[c] = pixel[source[c]] · gain[c] + offset[c]. The ConvLens job builds it from `Imaging.Preprocessing`
/// ((pixel · scale − mean) / std in the tensor's channel order), so Analysis does not depend on Imaging.
public struct InputSpace: Sendable, Equatable {
    /// A name for descriptions, e.g. "caffe".
    public var name: String
    /// The RGB plane feeding each model channel: [2, 1, 0] for BGR models.
    public var source: [Int]
    /// (3) each, in the model's channel order.
    public var gain: [Float], offset: [Float]

    /// - Parameters:
    ///   - bgr: the model's channels are B, G, R.
    ///   - scale: applied to 0...255 pixels first (1/255 for torchvision).
    ///   - mean, std: (3) in the model's channel order.
    public init(name: String, bgr: Bool, scale: Float, mean: [Float], std: [Float]) {
        precondition(mean.count == 3 && std.count == 3, "InputSpace: mean and std need 3 values each")
        self.name = name
        source = bgr ? [2, 1, 0] : [0, 1, 2]
        gain = (0 ..< 3).map { scale / std[$0] }
        offset = (0 ..< 3).map { -mean[$0] / std[$0] }
    }

    /// RGB pixels 0...255 → model input; (N, 3, H, W) both.
    public func fromPixels(_ x: Tensor) -> Tensor { affine(x, gain: gain, offset: offset, reorder: source) }

    /// Model input → RGB pixels 0...255; (N, 3, H, W) both.
    public func toPixels(_ x: Tensor) -> Tensor {
        var g = [Float](repeating: 0, count: 3), o = g, back = [0, 0, 0]
        for c in 0 ..< 3 { back[source[c]] = c; g[source[c]] = 1 / gain[c]; o[source[c]] = -offset[c] / gain[c] }
        return affine(x, gain: g, offset: o, reorder: back)
    }

    /// RGB in [0, 1] → model input.
    func fromUnit(_ x: Tensor) -> Tensor { affine(x, gain: gain.map { $0 * 255 }, offset: offset, reorder: source) }

    /// The backward of `fromUnit`: d rgb[source[c]] = d model[c] · 255 · gain[c].
    func fromUnitBackward(_ dy: Tensor) -> Tensor {
        var g = [Float](repeating: 0, count: 3), back = [0, 0, 0]
        for c in 0 ..< 3 { back[source[c]] = c; g[source[c]] = 255 * gain[c] }
        return affine(dy, gain: g, offset: [0, 0, 0], reorder: back)
    }

    /// y[c] = x[reorder[c]] · gain[c] + offset[c], (N, 3, H, W).
    private func affine(_ x: Tensor, gain: [Float], offset: [Float], reorder: [Int]) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == 3, "InputSpace: expects (N, 3, H, W), got \(x.shape)")
        let plane = x.shape[2] * x.shape[3]
        var y = Tensor(uninitialized: x.shape)
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                for i in 0 ..< x.shape[0] {
                    for c in 0 ..< 3 {
                        let (src, dst, g, o) = (xp.baseAddress! + (i * 3 + reorder[c]) * plane, yp.baseAddress! + (i * 3 + c) * plane, gain[c], offset[c])
                        for p in 0 ..< plane { dst[p] = src[p] * g + o }
                    }
                }
            }
        }
        return y
    }
}
