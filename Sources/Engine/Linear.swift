/// A fully connected layer, y = x·Wᵀ + b, on (N, in) inputs.
public final class Linear: WeightedLayer {
    public let inFeatures: Int, outFeatures: Int
    /// (out, in)
    public var weight: Tensor
    /// (out), or nil
    public var bias: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Tensor(zeros: [outFeatures, inFeatures])
        self.bias = bias ? Tensor(zeros: [outFeatures]) : nil
    }

    public var kind: String { "Linear" }
    public var summary: String { "\(inFeatures)→\(outFeatures)" + (bias == nil ? ", no bias" : "") }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = inputs[0]
        try expect(s.count == 2 && s[1] == inFeatures, "Linear expects (N, \(inFeatures)) input, got \(s)")
        return [s[0], outFeatures]
    }

    public func macs(_ inputs: [[Int]], _ output: [Int]) -> Int { inFeatures * outFeatures }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let x = inputs[0]                                   // (N, in)
        let n = x.shape[0]
        y.prepare([n, outFeatures])                         // (N, out)
        x.data.withUnsafeBufferPointer { xp in
            weight.data.withUnsafeBufferPointer { wp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    if n == 1 {
                        BLAS.gemv(m: outFeatures, n: inFeatures, a: wp.baseAddress!, lda: inFeatures, x: xp.baseAddress!, y: yp.baseAddress!)
                    } else {
                        BLAS.gemm(transB: true, m: n, n: outFeatures, k: inFeatures, a: xp.baseAddress!, lda: inFeatures,
                                  b: wp.baseAddress!, ldb: inFeatures, c: yp.baseAddress!, ldc: outFeatures)
                    }
                    if let b = bias {
                        for i in 0 ..< n { for o in 0 ..< outFeatures { yp[i * outFeatures + o] += b.data[o] } }
                    }
                }
            }
        }
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        let n = dy.shape[0]
        var dx = Tensor(uninitialized: [n, inFeatures])     // (N, in) = dy (N, out) · W (out, in)
        dy.data.withUnsafeBufferPointer { dp in
            weight.data.withUnsafeBufferPointer { wp in
                dx.data.withUnsafeMutableBufferPointer { xp in
                    if n == 1 {
                        BLAS.gemv(trans: true, m: outFeatures, n: inFeatures, a: wp.baseAddress!, lda: inFeatures, x: dp.baseAddress!, y: xp.baseAddress!)
                    } else {
                        BLAS.gemm(m: n, n: inFeatures, k: outFeatures, a: dp.baseAddress!, lda: outFeatures,
                                  b: wp.baseAddress!, ldb: inFeatures, c: xp.baseAddress!, ldc: inFeatures)
                    }
                }
            }
        }
        return [dx]
    }

    public func parameterGradients(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor) -> [String: Tensor] {
        let x = inputs[0], n = x.shape[0]
        var dw = Tensor(uninitialized: weight.shape)        // (out, in) = dyᵀ (out, N) · x (N, in)
        dy.data.withUnsafeBufferPointer { dp in
            x.data.withUnsafeBufferPointer { xp in
                dw.data.withUnsafeMutableBufferPointer { wp in
                    BLAS.gemm(transA: true, m: outFeatures, n: inFeatures, k: n, a: dp.baseAddress!, lda: outFeatures,
                              b: xp.baseAddress!, ldb: inFeatures, c: wp.baseAddress!, ldc: inFeatures)
                }
            }
        }
        var grads = ["weight": dw]
        if bias != nil {
            var db = Tensor(zeros: [outFeatures])
            for i in 0 ..< n { for o in 0 ..< outFeatures { db.data[o] += dy.data[i * outFeatures + o] } }
            grads["bias"] = db
        }
        return grads
    }
}

/// Flattens (N, C, H, W) to (N, C·H·W), as torch.flatten(x, 1).
public final class Flatten: Layer {
    public init() {}
    public var kind: String { "Flatten" }
    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        [inputs[0][0], inputs[0].dropFirst().reduce(1, *)]
    }
    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        y = inputs[0].reshaped([inputs[0].shape[0], inputs[0].count / inputs[0].shape[0]])
    }
    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        [dy.reshaped(inputs[0].shape)]
    }
}

/// Softmax over the last dimension of (N, K).
public final class Softmax: Layer {
    public init() {}
    public var kind: String { "Softmax" }
    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { inputs[0] }

    /// Softmax of each row of (N, K), computed stably (max subtracted first).
    public static func rows(_ x: Tensor) -> Tensor {
        var y = x
        let k = x.shape.last!
        for r in 0 ..< x.count / k {
            let row = x.data[r * k ..< (r + 1) * k]
            let m = row.max()!
            var s: Float = 0
            for j in 0 ..< k { let e = expf(x.data[r * k + j] - m); y.data[r * k + j] = e; s += e }
            for j in 0 ..< k { y.data[r * k + j] /= s }
        }
        return y
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) { y = Softmax.rows(inputs[0]) }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        var dx = dy                                         // dx = y ⊙ (dy − Σ dy·y)
        let k = y.shape.last!
        for r in 0 ..< y.count / k {
            var dot: Float = 0
            for j in 0 ..< k { dot += dy.data[r * k + j] * y.data[r * k + j] }
            for j in 0 ..< k { dx.data[r * k + j] = y.data[r * k + j] * (dy.data[r * k + j] - dot) }
        }
        return [dx]
    }
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

#if canImport(Glibc)
import Glibc
#endif
