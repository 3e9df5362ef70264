/// Matrix products with numpy's matmul semantics, as torch.matmul and ONNX MatMul: A (..., M, K) · B (..., K, N)
/// → (..., M, N), the batch axes broadcast against each other (each pair equal, or one of them 1). A rank-1 A is a
/// row (K) → (1, K) and a rank-1 B a column, and the added axis is dropped from the output; (K)·(K) gives a scalar.
/// Either input may be a graph constant, whose gradient is then not asked for.
///
/// When B has no batch (or only 1s), A's batch folds into M and the product is one GEMM: ConvNeXt's MatMul of
/// (N, H, W, C) by a constant (C, 4C) is (N·H·W, C)·(C, 4C). Otherwise one GEMM per output batch index, spread over
/// the cores.
public final class MatMul: Layer {
    public init() {}
    public var kind: String { "MatMul" }

    /// The shapes of a product: batch axes of the output, with A's and B's batch strides (in matrices; 0 where
    /// broadcast), M, K, N and the output shape.
    struct Plan {
        var batch: [Int], aStrides: [Int], bStrides: [Int]
        var m: Int, k: Int, n: Int, out: [Int]
        var count: Int { batch.reduce(1, *) }
        var aCount: Int, bCount: Int

        /// A's and B's matrix index for each output batch index.
        func offsets() -> (a: [Int], b: [Int]) {
            var a = [Int](repeating: 0, count: count), b = a, idx = [Int](repeating: 0, count: batch.count)
            var ao = 0, bo = 0
            for t in 0 ..< count {
                (a[t], b[t]) = (ao, bo)
                var d = batch.count - 1
                while d >= 0 {
                    idx[d] += 1; ao += aStrides[d]; bo += bStrides[d]
                    if idx[d] < batch[d] { break }
                    ao -= aStrides[d] * batch[d]; bo -= bStrides[d] * batch[d]; idx[d] = 0
                    d -= 1
                }
            }
            return (a, b)
        }
    }

    func plan(_ a: [Int], _ b: [Int]) throws -> Plan {
        try expect(a.count >= 1 && b.count >= 1, "MatMul: inputs \(a) and \(b) must have rank ≥ 1")
        let a2 = a.count == 1 ? [1, a[0]] : a, b2 = b.count == 1 ? [b[0], 1] : b
        let (m, k, k2, n) = (a2[a2.count - 2], a2[a2.count - 1], b2[b2.count - 2], b2[b2.count - 1])
        try expect(k == k2, "MatMul: \(a) · \(b): inner sizes \(k) and \(k2) differ")
        let r = Swift.max(a2.count, b2.count) - 2
        let ab = [Int](repeating: 1, count: r - (a2.count - 2)) + a2.dropLast(2)
        let bb = [Int](repeating: 1, count: r - (b2.count - 2)) + b2.dropLast(2)
        var batch = ab
        for d in 0 ..< r where ab[d] != bb[d] {
            try expect(ab[d] == 1 || bb[d] == 1, "MatMul: batch axes of \(a) and \(b) do not broadcast")
            batch[d] = Swift.max(ab[d], bb[d])
        }
        let sa = ShapeMath.strides(ab), sb = ShapeMath.strides(bb)
        let out = batch + (a.count == 1 ? [] : [m]) + (b.count == 1 ? [] : [n])
        return Plan(batch: batch, aStrides: (0 ..< r).map { ab[$0] == 1 ? 0 : sa[$0] },
                    bStrides: (0 ..< r).map { bb[$0] == 1 ? 0 : sb[$0] }, m: m, k: k, n: n, out: out,
                    aCount: ab.reduce(1, *), bCount: bb.reduce(1, *))
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        try expect(inputs.count == 2, "MatMul takes two inputs, got \(inputs.count)")
        let p = try plan(inputs[0], inputs[1])
        _ = try ShapeMath.count(p.batch + [p.m, p.n, p.k], "MatMul")      // the output and the work fit an Int
        return p.out
    }

    /// Per batch item 0 (the output's first axis) when the output has rank ≥ 2.
    public func macs(_ inputs: [[Int]], _ output: [Int]) -> Int {
        guard let p = try? plan(inputs[0], inputs[1]) else { return 0 }
        let total = p.count * p.m * p.k * p.n
        return output.count >= 2 && output[0] > 0 ? total / output[0] : total
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let p = try! plan(inputs[0].shape, inputs[1].shape)
        y.prepare(p.out, zero: p.k == 0)                                 // (batch..., M, N)
        if y.count == 0 || p.k == 0 { return }
        let (m, k, n) = (p.m, p.k, p.n)
        inputs[0].data.withUnsafeBufferPointer { ab in
            inputs[1].data.withUnsafeBufferPointer { bb in
                y.data.withUnsafeMutableBufferPointer { yb in
                    let (a, b, c) = (ab.baseAddress!, bb.baseAddress!, yb.baseAddress!)
                    if p.bCount == 1 {                                   // (batch·M, K) · (K, N)
                        BLAS.gemm(m: p.count * m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: c, ldc: n)
                        return
                    }
                    let (ao, bo) = p.offsets()
                    parallelFor(p.count, work: p.count * m * n * k) { t in
                        BLAS.gemm(m: m, n: n, k: k, a: a + ao[t] * m * k, lda: k, b: b + bo[t] * k * n, ldb: n,
                                  c: c + t * m * n, ldc: n, split: false)
                    }
                }
            }
        }
    }

    /// dA = dY · Bᵀ and dB = Aᵀ · dY per batch index, summed over the batch axes each input was broadcast along.
    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        let p = try! plan(inputs[0].shape, inputs[1].shape)
        let (m, k, n) = (p.m, p.k, p.n), (ao, bo) = p.offsets()
        var da = needed[0] ? Tensor(zeros: inputs[0].shape) : nil          // like A
        var db = needed[1] ? Tensor(zeros: inputs[1].shape) : nil          // like B
        if dy.count == 0 || k == 0 { return [da, db] }
        dy.data.withUnsafeBufferPointer { gb in
            inputs[0].data.withUnsafeBufferPointer { ab in
                inputs[1].data.withUnsafeBufferPointer { bb in
                    let (g, a, b) = (gb.baseAddress!, ab.baseAddress!, bb.baseAddress!)
                    if p.bCount == 1 {                                   // A's batch folded into M, as in forward
                        da?.data.withUnsafeMutableBufferPointer { d in   // (batch·M, K) = dY (batch·M, N) · Bᵀ
                            BLAS.gemm(transB: true, m: p.count * m, n: k, k: n, a: g, lda: n, b: b, ldb: n, c: d.baseAddress!, ldc: k)
                        }
                        db?.data.withUnsafeMutableBufferPointer { d in   // (K, N) = Aᵀ (K, batch·M) · dY (batch·M, N)
                            BLAS.gemm(transA: true, m: k, n: n, k: p.count * m, a: a, lda: k, b: g, ldb: n, c: d.baseAddress!, ldc: n)
                        }
                        return
                    }
                    da?.data.withUnsafeMutableBufferPointer { d in
                        let dp = d.baseAddress!
                        MatMul.each(p.count, injective: p.aCount == p.count, work: p.count * m * n * k) { t, beta in
                            BLAS.gemm(transB: true, m: m, n: k, k: n, a: g + t * m * n, lda: n, b: b + bo[t] * k * n, ldb: n,
                                      beta: beta, c: dp + ao[t] * m * k, ldc: k, split: beta == 1)
                        }
                    }
                    db?.data.withUnsafeMutableBufferPointer { d in
                        let dp = d.baseAddress!
                        MatMul.each(p.count, injective: p.bCount == p.count, work: p.count * m * n * k) { t, beta in
                            BLAS.gemm(transA: true, m: k, n: n, k: m, a: a + ao[t] * m * k, lda: k, b: g + t * m * n, ldb: n,
                                      beta: beta, c: dp + bo[t] * k * n, ldc: n, split: beta == 1)
                        }
                    }
                }
            }
        }
        return [da, db]
    }

    /// Runs body(t, beta) for every batch index: in parallel with beta 0 when each t writes its own gradient
    /// matrix, else one after another with beta 1, accumulating into the zeroed gradient.
    static func each(_ count: Int, injective: Bool, work: Int, _ body: (Int, Float) -> Void) {
        if injective { parallelFor(count, work: work) { body($0, 0) } } else { for t in 0 ..< count { body(t, 1) } }
    }
}
