/// Layer normalisation over the trailing axes (Ba et al., 2016), as torch.nn.LayerNorm(normalizedShape) and ONNX
/// LayerNormalization with axis = −normalizedShape.count: each slice over the last normalizedShape.count axes is
/// normalised by its own mean and biased variance, y = (x − mean)/√(var + ε)·weight + bias, with weight and bias shaped
/// like those axes (ConvNeXt's channels-last LayerNorm over C of (N, H, W, C), transformers' over (N, T, C)).
public final class LayerNorm: Layer, OptionalAffine {
    public let normalizedShape: [Int]
    public let eps: Float
    /// normalizedShape each, or nil (torch's elementwise_affine=False; ONNX's optional B).
    public var weight: Tensor?, bias: Tensor?

    /// - Parameters:
    ///   - normalizedShape: the sizes of the trailing axes normalised together, e.g. [C].
    ///   - affine: whether there is a weight (torch's elementwise_affine); bias: whether there is a bias.
    public init(_ normalizedShape: [Int], eps: Float = 1e-5, affine: Bool = true, bias: Bool = true) {
        self.normalizedShape = normalizedShape
        self.eps = eps
        weight = affine ? Tensor(shape: normalizedShape, repeating: 1) : nil
        self.bias = affine && bias ? Tensor(zeros: normalizedShape) : nil
    }

    public var kind: String { "LayerNorm" }
    public var summary: String { "\(normalizedShape)" }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = try onlyInput(inputs)
        try expect(!normalizedShape.isEmpty && s.count >= normalizedShape.count && Array(s.suffix(normalizedShape.count)) == normalizedShape,
                   "LayerNorm over \(normalizedShape) expects an input ending in those axes, got \(s)")
        return s
    }

    func rows(_ shape: [Int]) -> RowNormalization {
        let inner = normalizedShape.reduce(1, *)
        return RowNormalization(rows: shape.reduce(1, *) / inner, length: inner, params: inner, period: 1, eps: eps)
    }
}
