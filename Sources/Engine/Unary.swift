#if canImport(Glibc)
import Glibc
#endif

/// An elementwise function of one input, with its true derivative computed from the input x (not a gate on the
/// output): activations (GELU, SiLU, HardSwish, Mish, ...) and the math ONNX graphs spell out (Exp, Sqrt, Neg, ...).
///
/// Where a function has a kink, the derivative there is PyTorch's (given per case). ReLU and ReLU6 stay
/// `ActivationLayer`, which a convolution can absorb.
public final class Unary: Layer {
    /// The function, with its parameters.
    public enum Op: Equatable, Sendable {
        /// y = x.
        case identity
        /// y = x for x > 0, else α·x; derivative α at 0 (torch's leaky_relu_backward).
        case leakyRelu(alpha: Float = 0.01)
        /// y = min(max(x, min), max); derivative 1 on the closed interval [min, max], as torch.clamp (torch's
        /// hardtanh, behind F.relu6, gives 0 at the bounds instead). Either bound may be infinite.
        case clip(min: Float = -.infinity, max: Float = .infinity)
        /// y = x for x > 0, else α·(eˣ − 1); derivative α at 0.
        case elu(alpha: Float = 1)
        /// y = γ·x for x > 0, else γ·α·(eˣ − 1) (Klambauer et al., 2017); the defaults are ONNX's and torch's.
        case selu(alpha: Float = 1.67326319217681884765625, gamma: Float = 1.05070102214813232421875)
        /// y = ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^−|x|).
        case softplus
        /// y = x·tanh(softplus(x)) (Misra, 2019).
        case mish
        /// y = 1 / (1 + e⁻ˣ).
        case sigmoid
        /// y = max(0, min(1, α·x + β)); derivative α strictly inside (0, 1), else 0. ONNX's default is α = 0.2,
        /// β = 0.5; torch's F.hardsigmoid is α = 1/6, β = 0.5.
        case hardSigmoid(alpha: Float = 0.2, beta: Float = 0.5)
        /// y = x·relu6(x + 3)/6 (Howard et al., 2019); derivative 0 for x ≤ −3, 1 for x ≥ 3, else x/3 + ½ (torch).
        case hardSwish
        /// y = tanh x.
        case tanh
        /// y = erf x.
        case erf
        /// y = x·Φ(x) = ½x·(1 + erf(x/√2)), exact GELU (Hendrycks & Gimpel, 2016).
        case gelu
        /// y = ½x·(1 + tanh(√(2/π)·(x + 0.044715x³))), GELU's tanh approximation (approximate="tanh").
        case geluTanh
        /// y = x·sigmoid(x) (SiLU, swish).
        case silu
        /// y = eˣ.
        case exp
        /// y = ln x.
        case log
        /// y = √x; derivative 1/(2√x), +∞ at 0 as in torch.
        case sqrt
        /// y = 1/x.
        case reciprocal
        /// y = −x.
        case neg
        /// y = |x|; derivative sign(x), 0 at 0.
        case abs
        /// y = xᵖ for a constant p (ONNX Pow with a scalar exponent: x², √x as x^0.5, x³); derivative p·xᵖ⁻¹, and 0
        /// for p = 0 (torch's pow_backward).
        case pow(Float)
    }

    public let op: Op
    public init(_ op: Op) { self.op = op }

    public var kind: String {
        switch op {
        case .identity: "Identity"
        case .leakyRelu: "LeakyReLU"
        case .clip: "Clip"
        case .elu: "ELU"
        case .selu: "SELU"
        case .softplus: "Softplus"
        case .mish: "Mish"
        case .sigmoid: "Sigmoid"
        case .hardSigmoid: "HardSigmoid"
        case .hardSwish: "HardSwish"
        case .tanh: "Tanh"
        case .erf: "Erf"
        case .gelu: "GELU"
        case .geluTanh: "GELU"
        case .silu: "SiLU"
        case .exp: "Exp"
        case .log: "Log"
        case .sqrt: "Sqrt"
        case .reciprocal: "Reciprocal"
        case .neg: "Neg"
        case .abs: "Abs"
        case .pow: "Pow"
        }
    }

    public var summary: String {
        switch op {
        case .leakyRelu(let a), .elu(let a): "alpha \(a)"
        case .clip(let lo, let hi): "[\(lo), \(hi)]"
        case .selu(let a, let g): "alpha \(a), gamma \(g)"
        case .hardSigmoid(let a, let b): "alpha \(a), beta \(b)"
        case .geluTanh: "tanh approximation"
        case .pow(let p): "exponent \(p)"
        default: ""
        }
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        try onlyInput(inputs)
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        if op == .identity { y = inputs[0]; return }
        y.prepare(inputs[0].shape)
        run(inputs[0], nil, nil, &y)
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        guard needed[0] else { return [nil] }
        if op == .identity { return [dy] }
        var dx = Tensor(uninitialized: dy.shape)
        run(inputs[0], y, dy, &dx)
        return [dx]
    }

    /// Whether the function costs far more than the memory traffic (an exp, erf or libm call per value).
    private var costly: Bool {
        switch op {
        case .identity, .leakyRelu, .clip, .hardSigmoid, .hardSwish, .neg, .abs, .reciprocal, .sqrt: false
        case .pow(let p): ![0, 1, 2, 3, 0.5, -1].contains(p)
        default: true
        }
    }

    /// Forward (dy nil): out = f(x). Backward: out = df(x, y, dy) = dy·f′(x). Each case gives f and df together.
    private func run(_ x: Tensor, _ y: Tensor?, _ dy: Tensor?, _ out: inout Tensor) {
        let zero = Float8(), one = Float8(repeating: 1)
        switch op {
        case .identity:
            pass(x, y, dy, &out, costly, { $0 }, { _, _, d in d })
        case .leakyRelu(let a):
            pass(x, y, dy, &out, costly, { x in x.replacing(with: a * x, where: x .<= 0) },
                                 { x, _, d in d.replacing(with: a * d, where: x .<= 0) })
        case .clip(let lo, let hi):
            pass(x, y, dy, &out, costly, { x in x.replacing(with: lo, where: x .< lo).replacing(with: hi, where: x .> hi) },
                                 { x, _, d in d.replacing(with: 0, where: (x .< lo) .| (x .> hi)) })
        case .elu(let a):
            pass(x, y, dy, &out, costly, { x in x.replacing(with: a * (expV(x) - 1), where: x .<= 0) },
                                 { x, _, d in d.replacing(with: a * expV(x) * d, where: x .<= 0) })
        case .selu(let a, let g):
            pass(x, y, dy, &out, costly, { x in g * x.replacing(with: a * (expV(x) - 1), where: x .<= 0) },
                                 { x, _, d in g * d.replacing(with: a * expV(x) * d, where: x .<= 0) })
        case .softplus:
            pass(x, y, dy, &out, costly, { x in x.replacing(with: 0, where: x .< 0) + lanewise(expV(-x.replacing(with: -x, where: x .< 0)), log1pf) },
                                 { x, _, d in d * sigmoidV(x) })
        case .mish:
            // tanh(softplus(x)) = n / (n + 2) with n = eˣ(eˣ + 2); 1 above x = 20, where eˣ would overflow n.
            func tsp(_ x: Float8) -> Float8 { let e = expV(x), n = e * (e + 2); return (n / (n + 2)).replacing(with: 1, where: x .> 20) }
            pass(x, y, dy, &out, costly, { x in x * tsp(x) },
                                 { x, _, d in let t = tsp(x); return d * (t + x * sigmoidV(x) * (1 - t * t)) })
        case .sigmoid:
            pass(x, y, dy, &out, costly, { x in sigmoidV(x) }, { _, y, d in d * y * (1 - y) })
        case .hardSigmoid(let a, let b):
            pass(x, y, dy, &out, costly, { x in let v = a * x + b; return v.replacing(with: zero, where: v .< 0).replacing(with: one, where: v .> 1) },
                                 { x, _, d in let v = a * x + b; return (a * d).replacing(with: 0, where: (v .<= 0) .| (v .>= 1)) })
        case .hardSwish:
            pass(x, y, dy, &out, costly, { x in let r = x + 3; return x * r.replacing(with: zero, where: r .< 0).replacing(with: 6, where: r .> 6) / 6 },
                                 { x, _, d in (d * (x / 3 + 0.5)).replacing(with: 0, where: x .<= -3).replacing(with: d, where: x .>= 3) })
        case .tanh:
            pass(x, y, dy, &out, costly, { x in tanhV(x) }, { _, y, d in d * (1 - y * y) })
        case .erf:
            pass(x, y, dy, &out, costly, { x in erfV(x) }, { x, _, d in d * 1.1283791670955126 * expV(-x * x) })   // 2/√π
        case .gelu:
            pass(x, y, dy, &out, costly, { x in 0.5 * x * (1 + erfV(x * 0.7071067811865476)) },
                                 { x, _, d in d * (0.5 * (1 + erfV(x * 0.7071067811865476)) + x * 0.3989422804014327 * expV(-0.5 * x * x)) })
        case .geluTanh:
            // u = √(2/π)·(x + κx³); y′ = ½(1 + tanh u) + ½x·(1 − tanh²u)·√(2/π)·(1 + 3κx²), torch's gelu_backward.
            let beta: Float = 0.7978845608028654, kappa: Float = 0.044715
            pass(x, y, dy, &out, costly, { x in 0.5 * x * (1 + tanhV(beta * (x + kappa * x * x * x))) },
                                 { x, _, d in
                                     let x2: Float8 = x * x, t: Float8 = tanhV(beta * (x + kappa * x2 * x))
                                     let left: Float8 = 0.5 * (1 + t), slope: Float8 = beta * (1 + 3 * kappa * x2)
                                     return d * (left + 0.5 * x * (1 - t * t) * slope) })
        case .silu:
            pass(x, y, dy, &out, costly, { x in x * sigmoidV(x) }, { x, _, d in let s = sigmoidV(x); return d * s * (1 + x * (1 - s)) })
        case .exp:
            pass(x, y, dy, &out, costly, { x in expV(x) }, { _, y, d in d * y })
        case .log:
            pass(x, y, dy, &out, costly, { x in lanewise(x, logf) }, { x, _, d in d / x })
        case .sqrt:
            pass(x, y, dy, &out, costly, { x in x.squareRoot() }, { _, y, d in d / (2 * y) })
        case .reciprocal:
            pass(x, y, dy, &out, costly, { x in 1 / x }, { _, y, d in -d * y * y })
        case .neg:
            pass(x, y, dy, &out, costly, { x in -x }, { _, _, d in -d })
        case .abs:
            pass(x, y, dy, &out, costly, { x in x.replacing(with: -x, where: x .< 0) },
                                 { x, _, d in d.replacing(with: -d, where: x .< 0).replacing(with: 0, where: x .== 0) })
        case .pow(let p):
            switch p {
            case 0: pass(x, y, dy, &out, costly, { _ in one }, { _, _, _ in zero })
            case 1: pass(x, y, dy, &out, costly, { $0 }, { _, _, d in d })
            case 2: pass(x, y, dy, &out, costly, { x in x * x }, { x, _, d in 2 * x * d })
            case 3: pass(x, y, dy, &out, costly, { x in x * x * x }, { x, _, d in 3 * x * x * d })
            case 0.5: pass(x, y, dy, &out, costly, { x in x.squareRoot() }, { _, y, d in d / (2 * y) })
            case -1: pass(x, y, dy, &out, costly, { x in 1 / x }, { _, y, d in -d * y * y })
            default: pass(x, y, dy, &out, costly, { x in lanewise(x) { powf($0, p) } }, { x, _, d in p * lanewise(x) { powf($0, p - 1) } * d })
            }
        }
    }
}

/// One pass of an elementwise function over whole tensors, eight values at a time, on all cores for big ones.
/// - Parameters:
///   - x: the input; y, dy: the output and its gradient, both present for the backward pass and nil for the forward.
///   - out: y (forward) or dx (backward), already shaped like x.
///   - costly: whether f costs more than its memory traffic; a cheap pass goes parallel only from 2²¹ values, as the
///     broadcasting ops do (`Broadcast.parts`).
///   - f: the function; df: (x, y, dy) → dy·f′(x).
@inline(__always)
private func pass(_ x: Tensor, _ y: Tensor?, _ dy: Tensor?, _ out: inout Tensor, _ costly: Bool,
                  _ f: (Float8) -> Float8, _ df: (Float8, Float8, Float8) -> Float8) {
    let n = x.count, work = costly ? 8 * n : n >> 5
    if n == 0 { return }
    x.data.withUnsafeBufferPointer { xb in
        out.data.withUnsafeMutableBufferPointer { ob in
            let xp = xb.baseAddress!, op = ob.baseAddress!
            guard let y, let dy else {
                parallelChunks(n, work: work) { r in each8(r) { i, m in store8(f(load8(xp + i, m)), op + i, m) } }
                return
            }
            y.data.withUnsafeBufferPointer { yb in
                dy.data.withUnsafeBufferPointer { db in
                    let yp = yb.baseAddress!, dp = db.baseAddress!
                    parallelChunks(n, work: work) { r in
                        each8(r) { i, m in store8(df(load8(xp + i, m), load8(yp + i, m), load8(dp + i, m)), op + i, m) }
                    }
                }
            }
        }
    }
}

extension Layer {
    /// The shape of a one-input layer's input, or an error naming the layer when there are more or fewer.
    func onlyInput(_ inputs: [[Int]]) throws -> [Int] {
        try expect(inputs.count == 1, "\(kind) takes 1 input, got \(inputs.count)")
        return inputs[0]
    }
}
