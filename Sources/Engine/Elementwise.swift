#if canImport(Glibc)
import Glibc
#endif

// Elementwise ops on inputs broadcast against each other by numpy's rules (`Broadcast`): the output takes the
// broadcast shape, and each input's gradient is summed over the axes along which it was repeated, so the same op
// serves residual sums (equal shapes), bias adds (N, C, H, W) + (1, C, 1, 1), squeeze-excitation (N, C, H, W)·(N, C,
// 1, 1), layer scale (N, H, W, C)·(C) and scalar constants of shape []. Each op's forward and gradients sit together.

/// Elementwise sum of one or more inputs, broadcast (residual connections, bias adds; ONNX Add and Sum).
public final class Add: Layer {
    public init() {}
    public var kind: String { "Add" }
    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { try Broadcast.outputShape(inputs, kind, arity: 1 ... 1024) }
    public func forward(_ inputs: [Tensor], _ y: inout Tensor) { Broadcast.fold(inputs, &y) { $0 + $1 } }
    /// dx_k = dy summed to x_k's shape: an input of the output's shape gets dy itself, not a copy.
    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        inputs.indices.map { needed[$0] ? Broadcast.sum(dy, to: inputs[$0].shape) : nil }
    }
}

/// a − b, broadcast.
public final class Sub: Layer {
    public init() {}
    public var kind: String { "Sub" }
    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { try Broadcast.outputShape(inputs, kind, arity: 2 ... 2) }
    public func forward(_ inputs: [Tensor], _ y: inout Tensor) { Broadcast.map(inputs[0], inputs[1], &y) { $0 - $1 } }
    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        [needed[0] ? Broadcast.sum(dy, to: inputs[0].shape) : nil,
         needed[1] ? Broadcast.gradients(inputs, y, dy, [false, true], { _, _, _, d in d }, { _, _, _, d in -d })[1] : nil]
    }
}

/// a · b, broadcast (squeeze-excitation, layer scale, SiLU exported as x·sigmoid(x)).
public final class Mul: Layer {
    public init() {}
    public var kind: String { "Mul" }
    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { try Broadcast.outputShape(inputs, kind, arity: 2 ... 2) }
    public func forward(_ inputs: [Tensor], _ y: inout Tensor) { Broadcast.map(inputs[0], inputs[1], &y) { $0 * $1 } }
    /// da = dy·b, db = dy·a.
    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        Broadcast.gradients(inputs, y, dy, needed, { _, b, _, d in d * b }, { a, _, _, d in d * a })
    }
}

/// a / b, broadcast.
public final class Div: Layer {
    public init() {}
    public var kind: String { "Div" }
    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { try Broadcast.outputShape(inputs, kind, arity: 2 ... 2) }
    public func forward(_ inputs: [Tensor], _ y: inout Tensor) { Broadcast.map(inputs[0], inputs[1], &y) { $0 / $1 } }
    /// da = dy / b, db = −dy·a / b² (torch's formulas).
    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        Broadcast.gradients(inputs, y, dy, needed, { _, b, _, d in d / b }, { a, b, _, d in -d * a / (b * b) })
    }
}

/// aᵇ with a tensor exponent, broadcast. A constant scalar exponent (x², √x as x^0.5) is `Unary(.pow(p))`, which
/// is faster for the common exponents.
public final class Pow: Layer {
    public init() {}
    public var kind: String { "Pow" }
    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { try Broadcast.outputShape(inputs, kind, arity: 2 ... 2) }
    public func forward(_ inputs: [Tensor], _ y: inout Tensor) { Broadcast.map(inputs[0], inputs[1], &y) { lanewise($0, $1, powf) } }
    /// da = dy·b·aᵇ⁻¹; db = dy·aᵇ·ln a, and 0 where a = 0 and b ≥ 0 (torch's pow_backward_exponent).
    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        Broadcast.gradients(inputs, y, dy, needed,
                            { a, b, _, d in d * b * lanewise(a, b - 1, powf) },
                            { a, b, y, d in (d * y * lanewise(a, logf)).replacing(with: 0, where: (a .== 0) .& (b .>= 0)) })
    }
}

/// The elementwise maximum of one or more inputs, broadcast (ONNX Max, torch.maximum).
///
/// Gradient: dy goes to the inputs equal to the output, split evenly among ties, as torch.maximum sends dy/2 to
/// each of two equal inputs. A NaN propagates forward (from either side, as in torch) and gets no gradient.
public final class Max: Layer {
    public init() {}
    public var kind: String { "Max" }
    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { try Broadcast.outputShape(inputs, kind, arity: 1 ... 1024) }
    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        Broadcast.fold(inputs, &y) { a, b in a.replacing(with: b, where: (b .> a) .| (b .!= b)) }
    }
    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        selectionGradients(inputs, y, dy, needed)
    }
}

/// The elementwise minimum of one or more inputs, broadcast (ONNX Min, torch.minimum); ties and NaN as `Max`.
public final class Min: Layer {
    public init() {}
    public var kind: String { "Min" }
    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { try Broadcast.outputShape(inputs, kind, arity: 1 ... 1024) }
    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        Broadcast.fold(inputs, &y) { a, b in a.replacing(with: b, where: (b .< a) .| (b .!= b)) }
    }
    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        selectionGradients(inputs, y, dy, needed)
    }
}

/// The gradients of an op whose output is one of its inputs (max, min): dy/t to each of the t inputs equal to the
/// output, each summed to its input's shape.
func selectionGradients(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, _ needed: [Bool]) -> [Tensor?] {
    if inputs.count == 1 { return [needed[0] ? dy : nil] }
    var ties = Tensor(zeros: y.shape), eq = Tensor(zeros: [0])              // like y
    for x in inputs {
        Broadcast.map(x, y, &eq) { a, y in Float8(repeating: 1).replacing(with: 0, where: a .!= y) }
        ties.add(eq)
    }
    var share = Tensor(zeros: [0])                                           // like y: dy / ties
    Broadcast.map(dy, ties, &share) { $0 / $1 }
    return inputs.indices.map { k in
        guard needed[k] else { return nil }
        return Broadcast.gradients([inputs[k], y], y, share, [true, false],
                                   { a, _, y, s in s.replacing(with: 0, where: a .!= y) }, { _, _, _, s in s })[0]
    }
}

/// Leaky ReLU with a learned slope per channel (He et al., 2015): y = x for x > 0, else slope·x.
///
/// The slope is the second input. A rank-1 slope of C > 1 values applies along axis 1 of x, as torch's PReLU weight
/// (C) does; any other slope broadcasts against x by numpy's rules, as ONNX's (C, 1, 1) does, and must not grow x.
/// Gradients as torch: dx = dy where x > 0, else slope·dy; dslope = Σ x·dy where x ≤ 0.
public final class PRelu: Layer {
    public init() {}
    public var kind: String { "PReLU" }

    /// The slope's shape as broadcast against x: (C) becomes (C, 1, …, 1) for x of rank ≥ 3.
    func slopeShape(_ x: [Int], _ s: [Int]) -> [Int] {
        s.count == 1 && s[0] > 1 && x.count >= 3 && x[1] == s[0] ? s + [Int](repeating: 1, count: x.count - 2) : s
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        try expect(inputs.count == 2, "PReLU takes 2 inputs (x and the slope), got \(inputs.count)")
        let x = inputs[0], s = slopeShape(x, inputs[1])
        try expect(Broadcast.shape(x, s) == x, "PReLU: slope shape \(inputs[1]) does not broadcast to the input \(x)")
        return x
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let s = inputs[1].reshaped(slopeShape(inputs[0].shape, inputs[1].shape))
        Broadcast.map(inputs[0], s, &y) { x, s in x.replacing(with: s * x, where: x .<= 0) }
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        let s = inputs[1].reshaped(slopeShape(inputs[0].shape, inputs[1].shape))
        let g = Broadcast.gradients([inputs[0], s], y, dy, needed,
                                    { x, s, _, d in d.replacing(with: s * d, where: x .<= 0) },
                                    { x, _, _, d in (x * d).replacing(with: 0, where: x .> 0) })
        return [g[0], g[1]?.reshaped(inputs[1].shape)]
    }
}
