/// Winograd's minimal filtering F(4×4, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
/// 2016, eq. 7): a 3×3 stride-1 convolution computed on 6×6 input tiles as Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, where the
/// elementwise products over all channels and tiles become 36 GEMMs, (O, C)·(C, tiles). It takes 36 multiplies per
/// 16 outputs and channel instead of 144. Transforms run eight tiles at a time in SIMD registers.
enum Winograd {
    typealias V8 = SIMD8<Float>

    /// Transformed filters U = G g Gᵀ for every (o, c), stored (36, O, C).
    /// - Parameters:
    ///   - w: filters (O, C, 3, 3); with `flip`, read as the backward pass needs them: w'[c][o] = w[o][c] rotated
    ///     by 180°, giving (36, C, O).
    static func filters(_ w: [Float], o: Int, c: Int, flip: Bool = false) -> [Float] {
        let (rows, cols) = flip ? (c, o) : (o, c)
        var u = [Float](repeating: 0, count: 36 * rows * cols)
        let g: [[Double]] = [[1.0 / 4, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6],
                             [1.0 / 24, 1.0 / 12, 1.0 / 6], [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1]]
        for r in 0 ..< rows {
            for s in 0 ..< cols {
                var k = [[Double]](repeating: [0, 0, 0], count: 3)     // the 3x3 kernel for output r, input s
                for i in 0 ..< 3 {
                    for j in 0 ..< 3 {
                        k[i][j] = Double(flip ? w[((s * c + r) * 3 + 2 - i) * 3 + 2 - j] : w[((r * c + s) * 3 + i) * 3 + j])
                    }
                }
                for a in 0 ..< 6 {
                    for b in 0 ..< 6 {
                        var v = 0.0
                        for i in 0 ..< 3 { for j in 0 ..< 3 { v += g[a][i] * k[i][j] * g[b][j] } }
                        u[(a * 6 + b) * rows * cols + r * cols + s] = Float(v)
                    }
                }
            }
        }
        return u
    }

    /// The output size and tile grid of an h×w input with padding p.
    static func grid(_ h: Int, _ w: Int, _ p: Int) -> (ho: Int, wo: Int, th: Int, tw: Int) {
        let ho = h + 2 * p - 2, wo = w + 2 * p - 2
        return (ho, wo, (ho + 3) / 4, (wo + 3) / 4)
    }

    /// Convolves a batch with transformed filters: y (N, O, Ho, Wo) = conv3x3(x (N, C, H, W), pad p) + bias, then
    /// the activation.
    /// - Parameters:
    ///   - u: filters from `filters`, (36, O, C).
    static func convolve(_ x: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int, pad p: Int, u: UnsafePointer<Float>, o: Int,
                         bias: UnsafePointer<Float>?, activation: Activation, y: UnsafeMutablePointer<Float>) {
        let (ho, wo, th, tw) = grid(h, w, p)
        let tiles = n * th * tw
        Workspace.shared.borrow(36 * c * tiles, slot: 1) { v in                  // (36, C, tiles)
            Workspace.shared.borrow(36 * o * tiles, slot: 2) { m in              // (36, O, tiles)
                inputTransform(x, n: n, c: c, h: h, w: w, pad: p, th: th, tw: tw, v: v)
                for xi in 0 ..< 36 {
                    BLAS.gemm(m: o, n: tiles, k: c, a: u + xi * o * c, lda: c, b: v + xi * c * tiles, ldb: tiles,
                              c: m + xi * o * tiles, ldc: tiles)
                }
                outputTransform(m, n: n, o: o, ho: ho, wo: wo, th: th, tw: tw, bias: bias, activation: activation, y: y)
            }
        }
    }

    /// V[ξ][c][tile] = (Bᵀ d B)[ξ] for the 6×6 patch d of every tile, eight tiles of a row at a time.
    static func inputTransform(_ x: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int, pad p: Int, th: Int, tw: Int,
                               v: UnsafeMutablePointer<Float>) {
        let tiles = n * th * tw, stride = 4 * tw + 2                            // a padded band of 6 rows
        parallelFor(n * c, work: 36 * n * c * th * tw) { nc in
            let (img, ch) = (nc / c, nc % c)
            let plane = x + nc * h * w
            let band = UnsafeMutablePointer<Float>.allocate(capacity: 6 * stride + 32)
            let d = UnsafeMutablePointer<V8>.allocate(capacity: 36), t = UnsafeMutablePointer<V8>.allocate(capacity: 36)
            defer { band.deallocate(); d.deallocate(); t.deallocate() }
            for ty in 0 ..< th {
                // Copy rows 4·ty − p ..< 4·ty − p + 6 into the band, zero outside the image.
                band.update(repeating: 0, count: 6 * stride + 32)
                for k in 0 ..< 6 {
                    let r = 4 * ty - p + k
                    if r < 0 || r >= h { continue }
                    let lo = Swift.max(0, p), hi = Swift.min(stride, w + p)   // band column j is image column j − p
                    if lo < hi { (band + k * stride + lo).update(from: plane + r * w + lo - p, count: hi - lo) }
                }
                var t0 = 0
                while t0 < tw {
                    let lanes = Swift.min(8, tw - t0)
                    for k in 0 ..< 6 {
                        let row = band + k * stride + 4 * t0
                        for j in 0 ..< 6 {
                            var e = V8.zero
                            for l in 0 ..< lanes { e[l] = row[4 * l + j] }
                            d[k * 6 + j] = e
                        }
                    }
                    for j in 0 ..< 6 {                                          // t = Bᵀ d, by columns
                        let (d0, d1, d2, d3, d4, d5) = (d[j], d[6 + j], d[12 + j], d[18 + j], d[24 + j], d[30 + j])
                        t[j] = 4 * d0 - 5 * d2 + d4
                        t[6 + j] = -4 * d1 - 4 * d2 + d3 + d4
                        t[12 + j] = 4 * d1 - 4 * d2 - d3 + d4
                        t[18 + j] = -2 * d1 - d2 + 2 * d3 + d4
                        t[24 + j] = 2 * d1 - d2 - 2 * d3 + d4
                        t[30 + j] = 4 * d1 - 5 * d3 + d5
                    }
                    let base = (img * th + ty) * tw + t0
                    for i in 0 ..< 6 {                                          // (Bᵀ d) B, by rows
                        let (a0, a1, a2, a3, a4, a5) = (t[i * 6], t[i * 6 + 1], t[i * 6 + 2], t[i * 6 + 3], t[i * 6 + 4], t[i * 6 + 5])
                        d[0] = 4 * a0 - 5 * a2 + a4                              // d is free again: reuse it for the row
                        d[1] = -4 * a1 - 4 * a2 + a3 + a4
                        d[2] = 4 * a1 - 4 * a2 - a3 + a4
                        d[3] = -2 * a1 - a2 + 2 * a3 + a4
                        d[4] = 2 * a1 - a2 - 2 * a3 + a4
                        d[5] = 4 * a1 - 5 * a3 + a5
                        for j in 0 ..< 6 {
                            let dst = v + ((i * 6 + j) * c + ch) * tiles + base
                            if lanes == 8 {
                                UnsafeMutableRawPointer(dst).storeBytes(of: d[j], as: V8.self)
                            } else {
                                for l in 0 ..< lanes { dst[l] = d[j][l] }
                            }
                        }
                    }
                    t0 += 8
                }
            }
        }
    }

    /// y = Aᵀ M A for every tile, plus the bias and the activation, written where the tile lies inside the output.
    static func outputTransform(_ m: UnsafePointer<Float>, n: Int, o: Int, ho: Int, wo: Int, th: Int, tw: Int,
                                bias: UnsafePointer<Float>?, activation: Activation, y: UnsafeMutablePointer<Float>) {
        let tiles = n * th * tw
        parallelFor(n * o, work: 36 * n * o * th * tw) { no in
            let (img, oc) = (no / o, no % o)
            let b = V8(repeating: bias?[oc] ?? 0)
            let plane = y + no * ho * wo
            let s = UnsafeMutablePointer<V8>.allocate(capacity: 36), t = UnsafeMutablePointer<V8>.allocate(capacity: 28)
            defer { s.deallocate(); t.deallocate() }
            for ty in 0 ..< th {
                var t0 = 0
                while t0 < tw {
                    let lanes = Swift.min(8, tw - t0)
                    let base = (img * th + ty) * tw + t0
                    for xi in 0 ..< 36 {
                        let src = m + (xi * o + oc) * tiles + base
                        if lanes == 8 {
                            s[xi] = UnsafeRawPointer(src).loadUnaligned(as: V8.self)
                        } else {
                            var e = V8.zero
                            for l in 0 ..< lanes { e[l] = src[l] }
                            s[xi] = e
                        }
                    }
                    for j in 0 ..< 6 {                                          // t = Aᵀ M, (4, 6)
                        let (m0, m1, m2, m3, m4, m5) = (s[j], s[6 + j], s[12 + j], s[18 + j], s[24 + j], s[30 + j])
                        t[j] = m0 + m1 + m2 + m3 + m4
                        t[6 + j] = m1 - m2 + 2 * m3 - 2 * m4
                        t[12 + j] = m1 + m2 + 4 * m3 + 4 * m4
                        t[18 + j] = m1 - m2 + 8 * m3 - 8 * m4 + m5
                    }
                    for i in 0 ..< 4 {
                        let r = 4 * ty + i
                        if r >= ho { break }
                        let (a0, a1, a2, a3, a4, a5) = (t[i * 6], t[i * 6 + 1], t[i * 6 + 2], t[i * 6 + 3], t[i * 6 + 4], t[i * 6 + 5])
                        let out = t + 24                                        // the row's 4 outputs
                        out[0] = a0 + a1 + a2 + a3 + a4 + b
                        out[1] = a1 - a2 + 2 * a3 - 2 * a4 + b
                        out[2] = a1 + a2 + 4 * a3 + 4 * a4 + b
                        out[3] = a1 - a2 + 8 * a3 - 8 * a4 + a5 + b
                        switch activation {
                        case .none: break
                        case .relu: for j in 0 ..< 4 { out[j] = out[j].replacing(with: 0, where: out[j] .< 0) }
                        case .relu6:
                            for j in 0 ..< 4 {
                                out[j] = out[j].replacing(with: 0, where: out[j] .< 0).replacing(with: 6, where: out[j] .> 6)
                            }
                        }
                        let row = plane + r * wo
                        for l in 0 ..< lanes {
                            let col = 4 * (t0 + l)
                            for j in 0 ..< Swift.min(4, wo - col) { row[col + j] = out[j][l] }
                        }
                    }
                    t0 += 8
                }
            }
        }
    }
}
