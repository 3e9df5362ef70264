/// The same values seen with another shape (torch.reshape, numpy.reshape). Squeeze and Unsqueeze are Reshapes too:
/// the importer gives the shape with the unit axes removed or inserted.
///
/// The target's sizes are literal, as in numpy and torch: 0 is an empty axis, not ONNX's "copy this axis"
/// (the importer resolves ONNX's 0s, and its -1s when it can). One -1 is inferred from the element count.
public final class Reshape: Layer {
    /// The target shape; at most one -1.
    public let shape: [Int]

    public init(_ shape: [Int]) { self.shape = shape }

    public var kind: String { "Reshape" }
    public var summary: String { "(\(shape.map(String.init).joined(separator: ", ")))" }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let count = inputs[0].reduce(1, *)
        let free = shape.indices.filter { shape[$0] == -1 }
        try expect(free.count <= 1 && shape.allSatisfy { $0 >= -1 }, "Reshape: target \(shape) may hold sizes ≥ 0 and one -1")
        let known = try ShapeMath.count(shape.map { $0 == -1 ? 1 : $0 }, "Reshape")
        var out = shape
        if let f = free.first {
            try expect(known > 0 && count % known == 0, "Reshape: cannot infer the -1 in \(shape) for input \(inputs[0]) (\(count) values)")
            out[f] = count / known
        }
        try expect(try ShapeMath.count(out, "Reshape") == count, "Reshape: input \(inputs[0]) (\(count) values) does not fit shape \(shape)")
        return out
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        y = inputs[0].reshaped(try! outputShape([inputs[0].shape]))
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        [dy.reshaped(inputs[0].shape)]
    }
}

/// Flattens to 2-D around an axis, as ONNX Flatten: (d₀…dₐ₋₁, dₐ…dᵣ₋₁) → (Π d[..<axis], Π d[axis...]).
/// `Flatten()` (axis 1) is torch.flatten(x, 1) on (N, C, H, W); torch.flatten(x, 2) and the like export as Reshape.
/// Axis 0 gives (1, count); axis = rank gives (count, 1).
public final class Flatten: Layer {
    /// In [-rank, rank]; negative counts from the end.
    public let axis: Int

    public init(axis: Int = 1) { self.axis = axis }

    public var kind: String { "Flatten" }
    public var summary: String { axis == 1 ? "" : "axis \(axis)" }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = inputs[0], r = s.count
        try expect(axis >= -r && axis <= r, "Flatten: axis \(axis) is out of range for input \(s)")
        let a = axis < 0 ? axis + r : axis
        return [s[..<a].reduce(1, *), s[a...].reduce(1, *)]
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        y = inputs[0].reshaped(try! outputShape([inputs[0].shape]))
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        [dy.reshaped(inputs[0].shape)]
    }
}

/// The identity: ONNX Identity, and a float-to-float Cast.
public final class Identity: Layer {
    public init() {}
    public var kind: String { "Identity" }
    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { inputs[0] }
    public func forward(_ inputs: [Tensor], _ y: inout Tensor) { y = inputs[0] }
    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] { [dy] }
}

/// Dropout at inference: the identity.
public final class Dropout: Layer {
    public let p: Float
    public init(_ p: Float = 0.5) { self.p = p }
    public var kind: String { "Dropout" }
    public var summary: String { "p=\(p), identity at inference" }
    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { inputs[0] }
    public func forward(_ inputs: [Tensor], _ y: inout Tensor) { y = inputs[0] }
    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] { [dy] }
}
