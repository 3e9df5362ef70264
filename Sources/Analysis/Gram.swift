import Engine

/// Gram matrices of feature maps, the style statistics of Gatys et al. ("A Neural Algorithm of Artistic Style",
/// 2015, eq. 3): for a layer's C channels over its M = h·w positions, Ĝ[i, j] = Σ_k F[i, k]·F[j, k] / M, how much
/// channels i and j fire together, wherever that happens. (Gatys's G is M·Ĝ; dividing by M makes Grams of images of
/// different sizes comparable.)
public enum Gram {
    /// Ĝ = F·Fᵀ / M of every batch item.
    /// - Parameters:
    ///   - a: (N, C, h, w) feature maps.
    /// - Returns: (N, C, C).
    public static func matrices(_ a: Tensor) -> Tensor {
        precondition(a.rank == 4, "Gram: expects (N, C, h, w) feature maps, got \(a.shape)")
        let (n, c, m) = (a.shape[0], a.shape[1], a.shape[2] * a.shape[3])
        var g = Tensor(zeros: [n, c, c])                                   // (N, C, C)
        a.data.withUnsafeBufferPointer { ap in
            g.data.withUnsafeMutableBufferPointer { gp in
                for i in 0 ..< n {
                    BLAS.gemm(transB: true, m: c, n: c, k: m, alpha: 1 / Float(m), a: ap.baseAddress! + i * c * m, lda: m,
                              b: ap.baseAddress! + i * c * m, ldb: m, c: gp.baseAddress! + i * c * c, ldc: c)
                }
            }
        }
        return g
    }

    /// The backward of `matrices`: dF = (dĜ + dĜᵀ)·F / M.
    /// - Parameters:
    ///   - a: (N, C, h, w) the feature maps the Grams came from.
    ///   - dG: (N, C, C) the gradient with respect to the Grams.
    /// - Returns: (N, C, h, w).
    public static func backward(_ a: Tensor, _ dG: Tensor) -> Tensor {
        let (n, c, m) = (a.shape[0], a.shape[1], a.shape[2] * a.shape[3])
        precondition(dG.shape == [n, c, c], "Gram.backward: gradient \(dG.shape) does not fit features \(a.shape)")
        var sym = dG                                                       // (N, C, C) dĜ + dĜᵀ
        for i in 0 ..< n {
            for p in 0 ..< c { for q in 0 ..< c { sym.data[(i * c + p) * c + q] = dG.data[(i * c + p) * c + q] + dG.data[(i * c + q) * c + p] } }
        }
        var da = Tensor(zeros: a.shape)                                    // (N, C, h, w)
        a.data.withUnsafeBufferPointer { ap in
            sym.data.withUnsafeBufferPointer { sp in
                da.data.withUnsafeMutableBufferPointer { dp in
                    for i in 0 ..< n {
                        BLAS.gemm(m: c, n: m, k: c, alpha: 1 / Float(m), a: sp.baseAddress! + i * c * c, lda: c,
                                  b: ap.baseAddress! + i * c * m, ldb: m, c: dp.baseAddress! + i * c * m, ldc: m)
                    }
                }
            }
        }
        return da
    }

    /// The style distance between every pair of Grams: Σ(Ĝᵢ − Ĝⱼ)² over the mean of Σ Ĝᵢ² and Σ Ĝⱼ². It is Gatys's
    /// layer loss E_l (eq. 4) measured against the two Grams' own size, so it reads the same on every layer and
    /// model: 0 for the same statistics, at most 2 for the non-negative Grams of ReLU features.
    /// - Parameters:
    ///   - grams: (n, C, C).
    /// - Returns: (n, n) row-major, symmetric, zero on the diagonal.
    public static func distances(_ grams: Tensor) -> [Float] {
        let n = grams.shape[0], per = grams.count / max(n, 1)
        let energy = (0 ..< n).map { i in grams.data[i * per ..< (i + 1) * per].reduce(0.0) { $0 + Double($1) * Double($1) } }
        var d = [Float](repeating: 0, count: n * n)
        for i in 0 ..< n {
            for j in i + 1 ..< max(i + 1, n) {
                var s = 0.0
                for k in 0 ..< per { let e = Double(grams.data[i * per + k]) - Double(grams.data[j * per + k]); s += e * e }
                let v = Float(s / max((energy[i] + energy[j]) / 2, 1e-30))
                d[i * n + j] = v
                d[j * n + i] = v
            }
        }
        return d
    }
}
