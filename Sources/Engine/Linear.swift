/// A fully connected layer over the last axis, y = x·Wᵀ + b, as torch's nn.Linear: (..., in) → (..., out) for an
/// input of any rank ≥ 1, every leading index a row of one GEMM (a single row goes through gemv).
///
/// torch exports nn.Linear as Gemm(transB=1) with `weight` (out, in) and `bias` as initializers on rank-2 inputs,
/// and as MatMul by the transposed weight (in, out) then Add of the bias on other ranks (ConvNeXt's channels-last
/// MLP); the importer can build a Linear from either, keeping torch's key names.
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
        try expect(s.last == inFeatures, "Linear expects (..., \(inFeatures)) input, got \(s)")
        return s.dropLast() + [outFeatures]
    }

    /// Rows of batch item 0 (all rows for a rank-1 input) times in·out.
    public func macs(_ inputs: [[Int]], _ output: [Int]) -> Int {
        let s = inputs[0], rows = s.dropLast().reduce(1, *)
        return (s.count >= 2 && s[0] > 0 ? rows / s[0] : rows) * inFeatures * outFeatures
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let x = inputs[0]                                   // (R..., in)
        let rows = x.count / inFeatures, outs = outFeatures
        y.prepare(x.shape.dropLast() + [outs])              // (R..., out)
        x.data.withUnsafeBufferPointer { xp in
            weight.data.withUnsafeBufferPointer { wp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    if rows == 1 {
                        BLAS.gemv(m: outs, n: inFeatures, a: wp.baseAddress!, lda: inFeatures, x: xp.baseAddress!, y: yp.baseAddress!)
                    } else {
                        BLAS.gemm(transB: true, m: rows, n: outs, k: inFeatures, a: xp.baseAddress!, lda: inFeatures,
                                  b: wp.baseAddress!, ldb: inFeatures, c: yp.baseAddress!, ldc: outs)
                    }
                    guard let b = bias else { return }
                    b.data.withUnsafeBufferPointer { bp in
                        let (yy, bb) = (yp.baseAddress!, bp.baseAddress!)
                        parallelChunks(rows, work: rows * outs) { r in
                            for i in r { for o in 0 ..< outs { yy[i * outs + o] += bb[o] } }
                        }
                    }
                }
            }
        }
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        let rows = dy.count / outFeatures
        var dx = Tensor(uninitialized: inputs[0].shape)     // (R..., in) = dy (R..., out) · W (out, in)
        dy.data.withUnsafeBufferPointer { dp in
            weight.data.withUnsafeBufferPointer { wp in
                dx.data.withUnsafeMutableBufferPointer { xp in
                    if rows == 1 {
                        BLAS.gemv(trans: true, m: outFeatures, n: inFeatures, a: wp.baseAddress!, lda: inFeatures, x: dp.baseAddress!, y: xp.baseAddress!)
                    } else {
                        BLAS.gemm(m: rows, n: inFeatures, k: outFeatures, a: dp.baseAddress!, lda: outFeatures,
                                  b: wp.baseAddress!, ldb: inFeatures, c: xp.baseAddress!, ldc: inFeatures)
                    }
                }
            }
        }
        return [dx]
    }

    public func parameterGradients(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor) -> [String: Tensor] {
        let x = inputs[0], rows = x.count / inFeatures
        var dw = Tensor(uninitialized: weight.shape)        // (out, in) = dyᵀ (out, R) · x (R, in)
        dy.data.withUnsafeBufferPointer { dp in
            x.data.withUnsafeBufferPointer { xp in
                dw.data.withUnsafeMutableBufferPointer { wp in
                    BLAS.gemm(transA: true, m: outFeatures, n: inFeatures, k: rows, a: dp.baseAddress!, lda: outFeatures,
                              b: xp.baseAddress!, ldb: inFeatures, c: wp.baseAddress!, ldc: inFeatures)
                }
            }
        }
        var grads = ["weight": dw]
        if bias != nil {
            var db = Tensor(zeros: [outFeatures])           // (out) = Σ over rows of dy
            for i in 0 ..< rows { for o in 0 ..< outFeatures { db.data[o] += dy.data[i * outFeatures + o] } }
            grads["bias"] = db
        }
        return grads
    }
}

/// Y = alpha · op(A) · op(B) + beta · C, as ONNX Gemm: A is (M, K), or stored (K, M) with transA; B is (K, N), or
/// stored (N, K) with transB; C, optional, is broadcast one way to (M, N) from (), (1), (N), (1, N), (M, 1) or
/// (M, N). All operands are inputs, constants or not: the graph supplies initializers, and a gradient is computed
/// only for the inputs that need one (C's sums dY over its broadcast axes). For nn.Linear's export (transB=1 with
/// initializers) the importer rather builds a `Linear`, which keeps the weight's key names.
public final class Gemm: Layer {
    public let transA: Bool, transB: Bool
    public let alpha: Float, beta: Float

    public init(transA: Bool = false, transB: Bool = false, alpha: Float = 1, beta: Float = 1) {
        self.transA = transA
        self.transB = transB
        self.alpha = alpha
        self.beta = beta
    }

    public var kind: String { "Gemm" }
    public var summary: String {
        [transA ? "Aᵀ" : "", transB ? "Bᵀ" : "", alpha != 1 ? "alpha \(alpha)" : "", beta != 1 ? "beta \(beta)" : ""]
            .filter { !$0.isEmpty }.joined(separator: ", ")
    }

    /// M, N, K and C's (rows, columns) before broadcasting (each 1 or M, N), validated.
    func dims(_ inputs: [[Int]]) throws -> (m: Int, n: Int, k: Int, c: (Int, Int)?) {
        try expect(inputs.count == 2 || inputs.count == 3, "Gemm takes A, B and an optional C, got \(inputs.count) inputs")
        let a = inputs[0], b = inputs[1]
        try expect(a.count == 2 && b.count == 2, "Gemm expects rank-2 A and B, got \(a) and \(b)")
        let (m, k) = transA ? (a[1], a[0]) : (a[0], a[1]), (k2, n) = transB ? (b[1], b[0]) : (b[0], b[1])
        try expect(k == k2, "Gemm: A \(a)\(transA ? "ᵀ" : "") and B \(b)\(transB ? "ᵀ" : "") do not share their inner size")
        guard inputs.count == 3 else { return (m, n, k, nil) }
        let c = inputs[2], c2 = c.count == 0 ? [1, 1] : c.count == 1 ? [1, c[0]] : c
        try expect(c2.count == 2 && (c2[0] == 1 || c2[0] == m) && (c2[1] == 1 || c2[1] == n),
                   "Gemm: C \(c) does not broadcast to (\(m), \(n))")
        return (m, n, k, (c2[0], c2[1]))
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let d = try dims(inputs)
        return [d.m, d.n]
    }

    /// Batch item 0 is row 0 of A: N·K.
    public func macs(_ inputs: [[Int]], _ output: [Int]) -> Int {
        guard let d = try? dims(inputs) else { return 0 }
        return d.n * d.k
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let (m, n, k, c) = try! dims(inputs.map(\.shape))
        y.prepare([m, n])                                              // (M, N)
        if let (cm, cn) = c, beta != 0 {
            let cv = inputs[2].data
            for i in 0 ..< m { for j in 0 ..< n { y.data[i * n + j] = beta * cv[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)] } }
        }
        let accumulate = c != nil && beta != 0
        inputs[0].data.withUnsafeBufferPointer { ap in
            inputs[1].data.withUnsafeBufferPointer { bp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, lda: transA ? m : k,
                              b: bp.baseAddress!, ldb: transB ? k : n, beta: accumulate ? 1 : 0, c: yp.baseAddress!, ldc: n)
                }
            }
        }
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        let (m, n, k, c) = try! dims(inputs.map(\.shape))
        var grads: [Tensor?] = inputs.map { _ in nil }
        dy.data.withUnsafeBufferPointer { dyb in
            inputs[0].data.withUnsafeBufferPointer { ab in
                inputs[1].data.withUnsafeBufferPointer { bb in
                    let (d, a, b) = (dyb.baseAddress!, ab.baseAddress!, bb.baseAddress!)
                    if needed[0] {
                        var da = Tensor(uninitialized: inputs[0].shape)
                        da.data.withUnsafeMutableBufferPointer { p in
                            if transA {                                  // (K, M) = α·op(B) (K, N) · dYᵀ (N, M)
                                BLAS.gemm(transA: transB, transB: true, m: k, n: m, k: n, alpha: alpha, a: b, lda: transB ? k : n,
                                          b: d, ldb: n, c: p.baseAddress!, ldc: m)
                            } else {                                     // (M, K) = α·dY (M, N) · op(B)ᵀ (N, K)
                                BLAS.gemm(transB: !transB, m: m, n: k, k: n, alpha: alpha, a: d, lda: n, b: b, ldb: transB ? k : n,
                                          c: p.baseAddress!, ldc: k)
                            }
                        }
                        grads[0] = da
                    }
                    if needed[1] {
                        var db = Tensor(uninitialized: inputs[1].shape)
                        db.data.withUnsafeMutableBufferPointer { p in
                            if transB {                                  // (N, K) = α·dYᵀ (N, M) · op(A) (M, K)
                                BLAS.gemm(transA: true, transB: transA, m: n, n: k, k: m, alpha: alpha, a: d, lda: n, b: a, ldb: transA ? m : k,
                                          c: p.baseAddress!, ldc: k)
                            } else {                                     // (K, N) = α·op(A)ᵀ (K, M) · dY (M, N)
                                BLAS.gemm(transA: !transA, m: k, n: n, k: m, alpha: alpha, a: a, lda: transA ? m : k, b: d, ldb: n,
                                          c: p.baseAddress!, ldc: n)
                            }
                        }
                        grads[1] = db
                    }
                }
            }
        }
        if let (cm, cn) = c, needed[2] {
            var dc = Tensor(zeros: inputs[2].shape)                      // like C: β·dY summed over C's broadcast axes
            for i in 0 ..< m { for j in 0 ..< n { dc.data[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)] += beta * dy.data[i * n + j] } }
            grads[2] = dc
        }
        return grads
    }
}
