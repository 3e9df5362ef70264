/// An elementwise activation that a convolution can apply in its epilogue, or that stands alone as a layer.
public enum Activation: String, Sendable {
    case none, relu, relu6

    /// The activation of one value (NaN passes through, as in the loops).
    @inlinable
    func apply(_ x: Float) -> Float {
        switch self {
        case .none: x
        case .relu: Swift.max(x, 0)
        case .relu6: Swift.min(Swift.max(x, 0), 6)
        }
    }

    /// Applies the activation in place to `n` values.
    @inlinable
    func apply(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        switch self {
        case .none: return
        case .relu: for i in 0 ..< n { p[i] = Swift.max(p[i], 0) }
        case .relu6: for i in 0 ..< n { p[i] = Swift.min(Swift.max(p[i], 0), 6) }
        }
    }

    /// dx = dy where the activation's slope is 1, else 0, judged from the output y (as PyTorch does).
    @inlinable
    /// Eight values at a time: written as a scalar select, the compiler kept a branch per value (a fifth of a
    /// SqueezeNet filter-pattern run went to it in perf).
    func gate(_ dy: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        if self == .none { dx.update(from: dy, count: n); return }
        let six = self == .relu6, zero = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= n {
            let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            let dv = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self)
            let open = six ? (yv .> 0) .& (yv .< 6) : yv .> 0
            UnsafeMutableRawPointer(dx + i).storeBytes(of: zero.replacing(with: dv, where: open), as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { dx[i] = y[i] > 0 && (!six || y[i] < 6) ? dy[i] : 0; i += 1 }
    }

    /// The gradient through the activation as a new tensor.
    func gate(_ dy: Tensor, _ y: Tensor) -> Tensor {
        if self == .none { return dy }
        var dx = Tensor(uninitialized: dy.shape)
        dy.data.withUnsafeBufferPointer { d in
            y.data.withUnsafeBufferPointer { yy in
                dx.data.withUnsafeMutableBufferPointer { o in
                    let (dp, yp, op) = (d.baseAddress!, yy.baseAddress!, o.baseAddress!)
                    parallelChunks(dy.count, work: dy.count) { r in gate(dp + r.lowerBound, yp + r.lowerBound, op + r.lowerBound, r.count) }
                }
            }
        }
        return dx
    }
}

/// ReLU or ReLU6 as a layer of its own: y = max(x, 0) (or min(max(x, 0), 6)).
public final class ActivationLayer: Layer {
    public let activation: Activation
    public init(_ activation: Activation) { self.activation = activation }
    public var kind: String { activation == .relu6 ? "ReLU6" : "ReLU" }
    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { inputs[0] }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let x = inputs[0]
        y.prepare(x.shape)
        x.data.withUnsafeBufferPointer { xs in
            y.data.withUnsafeMutableBufferPointer { ys in
                ys.baseAddress!.update(from: xs.baseAddress!, count: x.count)
                activation.apply(ys.baseAddress!, x.count)
            }
        }
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        [activation.gate(dy, y)]
    }
}
