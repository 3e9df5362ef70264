/// Group normalisation (Wu & He, 2018), as torch.nn.GroupNorm: the C channels of (N, C, …) fall into G groups of C/G,
/// each (item, group) is normalised by its own mean and biased variance over its channels and positions, then
/// scaled and shifted per channel, y = (x − mean)/√(var + ε)·weight[c] + bias[c].
///
/// Instance normalisation (Ulyanov et al., 2016; torch's InstanceNorm1d/2d/3d without running statistics, ONNX
/// InstanceNormalization) is the case G = C, made by `init(instance:)`. ONNX's GroupNormalization of opset 18 takes
/// its scale and bias per group; opset 21 (and torch) per channel, which is what this layer holds: a per-group pair
/// is the per-channel one with each value repeated C/G times.
public final class GroupNorm: Layer, OptionalAffine {
    public let groups: Int, channels: Int
    public let eps: Float
    /// Whether this is instance normalisation (G = C, an input of rank ≥ 3); only the listing differs.
    public let instance: Bool
    /// (C) each, or nil (torch's affine=False).
    public var weight: Tensor?, bias: Tensor?

    private init(groups: Int, channels: Int, eps: Float, affine: Bool, instance: Bool) {
        self.groups = groups
        self.channels = channels
        self.eps = eps
        self.instance = instance
        weight = affine ? Tensor(shape: [channels], repeating: 1) : nil
        bias = affine ? Tensor(zeros: [channels]) : nil
    }

    /// Group normalisation of `channels` channels in `groups` groups (which must divide them; `outputShape` says so).
    public convenience init(groups: Int, channels: Int, eps: Float = 1e-5, affine: Bool = true) {
        self.init(groups: groups, channels: channels, eps: eps, affine: affine, instance: false)
    }

    /// Instance normalisation: every channel of every item normalised over its positions.
    public convenience init(instance channels: Int, eps: Float = 1e-5, affine: Bool = true) {
        self.init(groups: channels, channels: channels, eps: eps, affine: affine, instance: true)
    }

    public var kind: String { instance ? "InstanceNorm" : "GroupNorm" }
    public var summary: String { instance ? "\(channels)" : "\(groups) groups of \(channels / groups)" }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = try onlyInput(inputs)
        try expect(groups > 0 && channels % groups == 0, "GroupNorm: \(channels) channels do not split into \(groups) groups")
        try expect(s.count >= (instance ? 3 : 2) && s[1] == channels, "\(kind) expects (N, \(channels), …) input, got \(s)")
        return s
    }

    func rows(_ shape: [Int]) -> RowNormalization {
        let perGroup = channels / groups
        return RowNormalization(rows: shape[0] * groups, length: shape.reduce(1, *) / (shape[0] * groups),
                                params: perGroup, period: groups, eps: eps)
    }
}
