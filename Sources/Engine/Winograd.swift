import CKernels
import Foundation

/// Winograd's minimal filtering F(m×m, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
/// 2016, eq. 7 and 8): a 3×3 stride-1 convolution computed on (m+2)×(m+2) input tiles as Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A,
/// where the elementwise products summed over channels become (m+2)² GEMMs, (tiles, C)·(C, O). F(4×4, 3×3) takes 36
/// multiplies per 16 outputs and channel instead of 144; F(2×2, 3×3) 16 per 4 instead of 36, with filters (16, O, C)
/// rather than (36, O, C), where planes are small (`Conv2d.winogradTile`).
///
/// Layout: the input is first copied channels-last and zero-padded, (N, Hp, Wp, Cp) with Cp = C rounded up to 8, so
/// that every transform works on eight channels at once in a SIMD register with contiguous loads and stores:
/// V (P, tiles, Cp) · Uᵀ (P, Op, Cp) → M (P, tiles, Op) with P = (m+2)² points, or, in a pass that `fuses`, the same
/// for each share of `fusedTiles` tiles on its own.
enum Winograd {
    typealias V8 = SIMD8<Float>

    /// `n` rounded up to a multiple of 8.
    @inline(__always) static func up8(_ n: Int) -> Int { (n + 7) & ~7 }

    /// The transform points of F(m×m, 3×3): (m + 2)².
    @inline(__always) static func points(_ m: Int) -> Int { (m + 2) * (m + 2) }

    /// G of F(m×m, 3×3), (m + 2, 3), row-major.
    static func gMatrix(_ m: Int) -> [Double] {
        if m == 2 { return [1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1] }
        let (a, b, c, d, e): (Double, Double, Double, Double, Double) = (1.0 / 4, 1.0 / 6, 1.0 / 24, 1.0 / 12, 0)
        return [a, e, e, -b, -b, -b, -b, b, -b, c, d, b, c, -d, b, e, e, 1]
    }

    /// Transformed filters U = G g Gᵀ for every (o, c), stored (P, Op, Cp) with P = `points(m)`, zero where o ≥ O or
    /// c ≥ C.
    /// - Parameters:
    ///   - w: filters (O, C, 3, 3); with `flip`, read as the input-gradient pass needs them: w'[c][o] = w[o][c]
    ///     rotated by 180°, giving (P, Cp, Op).
    ///   - m: the output tile, 4 or 2.
    static func filters(_ w: [Float], o: Int, c: Int, flip: Bool = false, m: Int = 4) -> [Float] {
        let (rows, cols) = flip ? (c, o) : (o, c)
        let (rp, cp) = (up8(rows), up8(cols))
        let alpha = m + 2
        var u = [Float](repeating: 0, count: alpha * alpha * rp * cp)
        let g = gMatrix(m)                                                  // G, (alpha, 3)
        u.withUnsafeMutableBufferPointer { up in
            w.withUnsafeBufferPointer { wp in
                let ub = up.baseAddress!, wb = wp.baseAddress!
                parallelFor(rows, work: rows * cols * 200) { r in
                    var k = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
                    var tmp = [Double](repeating: 0, count: 3 * alpha)   // G k, (alpha, 3)
                    for s in 0 ..< cols {
                        withUnsafeMutableBytes(of: &k) { raw in
                            let kk = raw.bindMemory(to: Double.self)
                            for i in 0 ..< 3 {
                                for j in 0 ..< 3 {
                                    kk[i * 3 + j] = Double(flip ? wb[((s * c + r) * 3 + 2 - i) * 3 + 2 - j] : wb[((r * c + s) * 3 + i) * 3 + j])
                                }
                            }
                            for a in 0 ..< alpha {
                                for j in 0 ..< 3 { tmp[a * 3 + j] = g[a * 3] * kk[j] + g[a * 3 + 1] * kk[3 + j] + g[a * 3 + 2] * kk[6 + j] }
                            }
                        }
                        for a in 0 ..< alpha {
                            for b in 0 ..< alpha {
                                let v = tmp[a * 3] * g[b * 3] + tmp[a * 3 + 1] * g[b * 3 + 1] + tmp[a * 3 + 2] * g[b * 3 + 2]
                                ub[(a * alpha + b) * rp * cp + r * cp + s] = Float(v)
                            }
                        }
                    }
                }
            }
        }
        return u
    }

    /// Transformed filters as the P GEMMs read them: packed (`packs`), each point's Uᵀ (Cp, Rp) packed once by
    /// `ck_pack_b`, `stride` floats apart, for `ck_gemm_rows`; else U itself, (P, Rp, Cp), with stride 0, for OpenBLAS.
    struct Transformed: Sendable {
        let values: [Float]
        let stride: Int

        init(_ u: [Float], rows: Int, cols: Int, packed: Bool) {
            let (rp, cp) = (up8(rows), up8(cols))
            guard packed else { (values, stride) = (u, 0); return }
            let stride = ck_packed_b_count(Int32(cp), Int32(rp))
            let points = u.count / (rp * cp)
            values = [Float](unsafeUninitializedCapacity: points * stride) { buffer, count in
                var t = [Float](repeating: 0, count: cp * rp)                // Uᵀ of one point, (Cp, Rp)
                u.withUnsafeBufferPointer { up in
                    for xi in 0 ..< points {
                        let point = up.baseAddress! + xi * rp * cp
                        for r in 0 ..< rp { for c in 0 ..< cp { t[c * rp + r] = point[r * cp + c] } }
                        ck_pack_b(t, Int32(cp), Int32(rp), Int32(rp), buffer.baseAddress! + xi * stride, 0, Int32((rp + 15) / 16))
                    }
                }
                count = points * stride
            }
            self.stride = stride
        }
    }

    /// Whether a pass over this many tiles of m×m, from c channels to o, runs its GEMMs on the engine's AVX-512 kernel
    /// with packed filters: every pass that `fuses`, and the others under 128 tiles. OpenBLAS packs a point's filters
    /// again on every call, which costs little against many tiles and much against few: ResNet-50's 256-channel
    /// 14×14 layers (16 tiles) took 1.16–1.27 ms on OpenBLAS, 0.80–0.93 on the engine's kernel, and its 28×28 ones
    /// (49 tiles) 0.71–0.84 against 0.61–0.75; VGG16, whose big planes run thousands of tiles, took 112–117 ms with
    /// every one of its layers unfused on the engine's kernel against 102–106 on OpenBLAS.
    static func packs(tiles: Int, c: Int, o: Int, tile m: Int) -> Bool {
        PackedGEMM.wide && (tiles < 128 || fuses(tiles: tiles, c: c, o: o, tile: m))
    }

    /// Tiles per share of a fused pass: a multiple of the kernel's six rows, small enough that a share's V and M
    /// (2 · 36 · 12 · 64 floats for 64 channels, 221 KB) and the filters stay in a core's L2 together.
    static let fusedTiles = 12

    /// Whether a pass runs fused (`convolve`): each core transforms, multiplies and transforms back its own shares of
    /// tiles, so that no transform's output crosses to the other core, at the price of every core reading all 36
    /// points' filters for each share. That pays where the filters are small against the tiles: ResNet's 56×56
    /// 64-channel layers (590 KB of filters, 196 tiles per image), not its 28×28 ones (2.4 MB for 49 tiles; fused
    /// too, ResNet-18 ran no faster on one die: 17.24 ms against 16.99, each process's fastest forward). F(4×4, 3×3)
    /// only: F(2×2, 3×3) runs where there are many channels and few tiles.
    static func fuses(tiles: Int, c: Int, o: Int, tile m: Int) -> Bool {
        PackedGEMM.wide && m == 4 && up8(c) * up8(o) <= 64 * 64 && tiles >= 4 * fusedTiles
    }

    /// The output size and grid of m×m output tiles of an h×w input with padding p.
    static func grid(_ h: Int, _ w: Int, _ p: Int, m: Int = 4) -> (ho: Int, wo: Int, th: Int, tw: Int) {
        let ho = h + 2 * p - 2, wo = w + 2 * p - 2
        return (ho, wo, (ho + m - 1) / m, (wo + m - 1) / m)
    }

    /// Convolves a batch with transformed filters: y (N, O, Ho, Wo) = conv3x3(x (N, C, H, W), pad p) + bias (+ a
    /// residual laid out as y), then the activation.
    /// - Parameters:
    ///   - u: filters from `filters` for the same `tile`, (P, Op, Cp), or packed as `Transformed` lays them out when
    ///     `uStride` > 0.
    ///   - tile: the output tile m, 4 or 2.
    static func convolve(_ x: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int, pad p: Int, u: UnsafePointer<Float>, uStride: Int, o: Int,
                         bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>? = nil, activation: Activation,
                         y: UnsafeMutablePointer<Float>, tile mt: Int = 4) {
        let (ho, wo, th, tw) = grid(h, w, p, m: mt)
        let (cp, op) = (up8(c), up8(o))
        let (hp, wp) = (mt * th + 2, mt * tw + 2)                                // padded input covering every tile
        let tiles = n * th * tw, pts = points(mt)
        let geometry = TileGrid(m: mt, hp: hp, wp: wp, th: th, tw: tw, ho: ho, wo: wo)
        Workspace.shared.borrow(n * hp * wp * cp, slot: 0) { xt in              // (N, Hp, Wp, Cp)
            Workspace.shared.borrow(pts * tiles * cp, slot: 1) { v in           // (P, tiles, Cp)
                Workspace.shared.borrow(pts * tiles * op, slot: 2) { m in       // (P, tiles, Op)
                    channelsLast(x, n: n, c: c, h: h, w: w, pad: p, hp: hp, wp: wp, cp: cp, into: xt)
                    if uStride > 0 && fuses(tiles: tiles, c: c, o: o, tile: mt) {
                        // Share by share of `fusedTiles` tiles, each laid out on its own: V (36, len, Cp), M (36, len, Op).
                        let shares = (tiles + fusedTiles - 1) / fusedTiles
                        parallelFor(shares, work: 36 * tiles * op * cp) { q in
                            let range = q * fusedTiles ..< Swift.min(tiles, (q + 1) * fusedTiles), len = range.count
                            let (vq, mq) = (v + 36 * range.lowerBound * cp, m + 36 * range.lowerBound * op)
                            inputTransform(xt, geometry, cp: cp, tiles: range, v: vq, pointStride: len * cp)
                            for xi in 0 ..< 36 {
                                ck_gemm_rows(vq + xi * len * cp, Int32(cp), u + xi * uStride, Int32(len), Int32(op), Int32(cp),
                                             mq + xi * len * op, Int32(op))
                            }
                            outputTransform(mq, geometry, pointStride: len * op, o: o, op: op, tiles: range,
                                            bias: bias, residual: residual, activation: activation, y: y)
                        }
                        return
                    }
                    parallelChunks(tiles, work: tiles * cp * pts) { range in
                        inputTransform(xt, geometry, cp: cp, tiles: range, v: v + range.lowerBound * cp, pointStride: tiles * cp)
                    }
                    // One GEMM per point of the transform. On the engine's kernel or with Dispatch threads, they
                    // run side by side, each on one core: split GEMMs this small (tiles×Op×Cp) would spend more on
                    // waking threads than on work.
                    let inParallel = uStride > 0 || BLAS.dispatchThreads
                    parallelFor(inParallel ? pts : 1, work: pts * tiles * op * cp) { part in
                        for xi in inParallel ? part ..< part + 1 : 0 ..< pts {
                            if uStride > 0 {
                                ck_gemm_rows(v + xi * tiles * cp, Int32(cp), u + xi * uStride, Int32(tiles), Int32(op), Int32(cp),
                                             m + xi * tiles * op, Int32(op))
                            } else {
                                BLAS.gemm(transB: true, m: tiles, n: op, k: cp, a: v + xi * tiles * cp, lda: cp,
                                          b: u + xi * op * cp, ldb: cp, c: m + xi * tiles * op, ldc: op, split: !inParallel)
                            }
                        }
                    }
                    parallelChunks(tiles, work: tiles * op * pts) { range in
                        outputTransform(m + range.lowerBound * op, geometry, pointStride: tiles * op, o: o, op: op, tiles: range,
                                        bias: bias, residual: residual, activation: activation, y: y)
                    }
                }
            }
        }
    }

    /// Copies (N, C, H, W) into (N, Hp, Wp, Cp) with the image at offset (p, p) and zeros around it
    /// (`ck_channels_last`), a share of the rows on each core.
    static func channelsLast(_ x: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int, pad p: Int, hp: Int, wp: Int, cp: Int,
                             into xt: UnsafeMutablePointer<Float>) {
        parallelChunks(n * hp, work: n * hp * wp * cp) { rows in
            ck_channels_last(x, Int32(c), Int32(h), Int32(w), Int32(p), Int32(hp), Int32(wp), Int32(cp), Int32(rows.lowerBound),
                             Int32(rows.upperBound), xt)
        }
    }

    /// Where the tiles of a pass lie: output tiles m×m on a th×tw grid per image, over the channels-last input
    /// padded to Hp×Wp and an Ho×Wo output.
    struct TileGrid {
        let m, hp, wp, th, tw, ho, wo: Int
    }

    /// (Bᵀ d B)[ξ] for the (m+2)×(m+2) patch d of each tile in `range`, eight channels at a time, written at
    /// v[ξ · pointStride + (tile − range.lowerBound) · Cp + c].
    static func inputTransform(_ xt: UnsafePointer<Float>, _ grid: TileGrid, cp: Int, tiles range: Range<Int>,
                               v: UnsafeMutablePointer<Float>, pointStride: Int) {
        // Each tile size compiled on its own, its loops unrolled over constant bounds.
        if grid.m == 2 {
            inputTransform(xt, grid, m: 2, cp: cp, tiles: range, v: v, pointStride: pointStride)
        } else {
            inputTransform(xt, grid, m: 4, cp: cp, tiles: range, v: v, pointStride: pointStride)
        }
    }

    @inline(__always) static func inputTransform(_ xt: UnsafePointer<Float>, _ grid: TileGrid, m mt: Int, cp: Int,
                                                 tiles range: Range<Int>, v: UnsafeMutablePointer<Float>, pointStride: Int) {
        let (th, tw, wp) = (grid.th, grid.tw, grid.wp)
        let alpha = mt + 2
        let blocks = cp / 8
        let d = UnsafeMutablePointer<V8>.allocate(capacity: 36), t = UnsafeMutablePointer<V8>.allocate(capacity: 36)
        defer { d.deallocate(); t.deallocate() }
        for tile in range {
            let img = tile / (th * tw), ty = tile / tw % th, tx = tile % tw
            let origin = xt + ((img * grid.hp + mt * ty) * wp + mt * tx) * cp
            for b in 0 ..< blocks {
                for k in 0 ..< alpha {
                    for j in 0 ..< alpha {
                        d[k * alpha + j] = UnsafeRawPointer(origin + (k * wp + j) * cp + 8 * b).loadUnaligned(as: V8.self)
                    }
                }
                let out = v + (tile - range.lowerBound) * cp + 8 * b
                if mt == 2 { inputTransformF2(d, t, out, pointStride); continue }
                for j in 0 ..< 6 {                                          // t = Bᵀ d, column by column
                    let (d0, d1, d2, d3, d4, d5) = (d[j], d[6 + j], d[12 + j], d[18 + j], d[24 + j], d[30 + j])
                    t[j] = 4 * d0 - 5 * d2 + d4
                    t[6 + j] = -4 * d1 - 4 * d2 + d3 + d4
                    t[12 + j] = 4 * d1 - 4 * d2 - d3 + d4
                    t[18 + j] = -2 * d1 - d2 + 2 * d3 + d4
                    t[24 + j] = 2 * d1 - d2 - 2 * d3 + d4
                    t[30 + j] = 4 * d1 - 5 * d3 + d5
                }
                for i in 0 ..< 6 {                                          // (Bᵀ d) B, row by row
                    let (a0, a1, a2, a3, a4, a5) = (t[i * 6], t[i * 6 + 1], t[i * 6 + 2], t[i * 6 + 3], t[i * 6 + 4], t[i * 6 + 5])
                    let row = out + i * 6 * pointStride
                    store(4 * a0 - 5 * a2 + a4, row)
                    store(-4 * a1 - 4 * a2 + a3 + a4, row + pointStride)
                    store(4 * a1 - 4 * a2 - a3 + a4, row + 2 * pointStride)
                    store(-2 * a1 - a2 + 2 * a3 + a4, row + 3 * pointStride)
                    store(2 * a1 - a2 - 2 * a3 + a4, row + 4 * pointStride)
                    store(4 * a1 - 5 * a3 + a5, row + 5 * pointStride)
                }
            }
        }
    }

    /// F(2×2, 3×3)'s input transform Bᵀ d B of one 4×4 patch d (eight channels), its 16 points written pointStride
    /// floats apart from `out`; t holds Bᵀ d.
    @inline(__always) static func inputTransformF2(_ d: UnsafeMutablePointer<V8>, _ t: UnsafeMutablePointer<V8>,
                                             _ out: UnsafeMutablePointer<Float>, _ pointStride: Int) {
        for j in 0 ..< 4 {                                                  // t = Bᵀ d, column by column
            let (d0, d1, d2, d3) = (d[j], d[4 + j], d[8 + j], d[12 + j])
            t[j] = d0 - d2
            t[4 + j] = d1 + d2
            t[8 + j] = d2 - d1
            t[12 + j] = d1 - d3
        }
        for i in 0 ..< 4 {                                                  // (Bᵀ d) B, row by row
            let (a0, a1, a2, a3) = (t[i * 4], t[i * 4 + 1], t[i * 4 + 2], t[i * 4 + 3])
            let row = out + i * 4 * pointStride
            store(a0 - a2, row)
            store(a1 + a2, row + pointStride)
            store(a2 - a1, row + 2 * pointStride)
            store(a1 - a3, row + 3 * pointStride)
        }
    }

    @inline(__always) static func store(_ x: V8, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: x, as: V8.self)
    }

    /// y = Aᵀ M A for each tile in `range`, M[ξ] read at m[ξ · pointStride + (tile − range.lowerBound) · Op + o], plus
    /// the bias (and the residual), and the activation, written where the tile lies inside the output.
    static func outputTransform(_ m: UnsafePointer<Float>, _ grid: TileGrid, pointStride: Int, o: Int, op: Int,
                                tiles range: Range<Int>, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                                activation: Activation, y: UnsafeMutablePointer<Float>) {
        // Each tile size compiled on its own, its loops unrolled over constant bounds.
        if grid.m == 2 {
            outputTransform(m, grid, m: 2, pointStride: pointStride, o: o, op: op, tiles: range, bias: bias, residual: residual,
                            activation: activation, y: y)
        } else {
            outputTransform(m, grid, m: 4, pointStride: pointStride, o: o, op: op, tiles: range, bias: bias, residual: residual,
                            activation: activation, y: y)
        }
    }

    @inline(__always) static func outputTransform(_ m: UnsafePointer<Float>, _ grid: TileGrid, m mt: Int, pointStride: Int, o: Int,
                                                  op: Int, tiles range: Range<Int>, bias: UnsafePointer<Float>?,
                                                  residual: UnsafePointer<Float>?, activation: Activation,
                                                  y: UnsafeMutablePointer<Float>) {
        let (ho, wo, th, tw) = (grid.ho, grid.wo, grid.th, grid.tw)
        let blocks = op / 8, pts = points(mt)
        let s = UnsafeMutablePointer<V8>.allocate(capacity: 36), t = UnsafeMutablePointer<V8>.allocate(capacity: 24)
        let out = UnsafeMutablePointer<V8>.allocate(capacity: 16)       // the m×m tile, row-major, m = 4 or 2
        defer { s.deallocate(); t.deallocate(); out.deallocate() }
        for tile in range {
            let img = tile / (th * tw), ty = tile / tw % th, tx = tile % tw
            let rows = Swift.min(mt, ho - mt * ty), cols = Swift.min(mt, wo - mt * tx)
            for b in 0 ..< blocks {
                var bv = V8.zero
                if let bias { for l in 0 ..< 8 where 8 * b + l < o { bv[l] = bias[8 * b + l] } }
                let src = m + (tile - range.lowerBound) * op + 8 * b
                for xi in 0 ..< pts { s[xi] = UnsafeRawPointer(src + xi * pointStride).loadUnaligned(as: V8.self) }
                if mt == 2 {
                    for j in 0 ..< 4 {                                      // t = Aᵀ M, (2, 4)
                        let (m0, m1, m2, m3) = (s[j], s[4 + j], s[8 + j], s[12 + j])
                        t[j] = m0 + m1 + m2
                        t[4 + j] = m1 - m2 - m3
                    }
                    for i in 0 ..< 2 {                                      // (Aᵀ M) A
                        let (a0, a1, a2, a3) = (t[i * 4], t[i * 4 + 1], t[i * 4 + 2], t[i * 4 + 3])
                        out[i * 2] = a0 + a1 + a2 + bv
                        out[i * 2 + 1] = a1 - a2 - a3 + bv
                    }
                } else {
                    for j in 0 ..< 6 {                                      // t = Aᵀ M, (4, 6)
                        let (m0, m1, m2, m3, m4, m5) = (s[j], s[6 + j], s[12 + j], s[18 + j], s[24 + j], s[30 + j])
                        t[j] = m0 + m1 + m2 + m3 + m4
                        t[6 + j] = m1 - m2 + 2 * m3 - 2 * m4
                        t[12 + j] = m1 + m2 + 4 * m3 + 4 * m4
                        t[18 + j] = m1 - m2 + 8 * m3 - 8 * m4 + m5
                    }
                    for i in 0 ..< 4 {                                      // (Aᵀ M) A
                        let (a0, a1, a2, a3, a4, a5) = (t[i * 6], t[i * 6 + 1], t[i * 6 + 2], t[i * 6 + 3], t[i * 6 + 4], t[i * 6 + 5])
                        out[i * 4] = a0 + a1 + a2 + a3 + a4 + bv
                        out[i * 4 + 1] = a1 - a2 + 2 * a3 - 2 * a4 + bv
                        out[i * 4 + 2] = a1 + a2 + 4 * a3 + 4 * a4 + bv
                        out[i * 4 + 3] = a1 - a2 + 8 * a3 - 8 * a4 + a5 + bv
                    }
                }
                if let residual {                       // added as the values are scattered, then the activation
                    for l in 0 ..< Swift.min(8, o - 8 * b) {
                        let at = ((img * o + 8 * b + l) * ho + mt * ty) * wo + mt * tx
                        let (plane, shortcut) = (y + at, residual + at)
                        for i in 0 ..< rows {
                            for j in 0 ..< cols { plane[i * wo + j] = activation.apply(out[i * mt + j][l] + shortcut[i * wo + j]) }
                        }
                    }
                    continue
                }
                switch activation {
                case .none: break
                case .relu: for k in 0 ..< mt * mt { out[k] = out[k].replacing(with: 0, where: out[k] .< 0) }
                case .relu6: for k in 0 ..< mt * mt { out[k] = out[k].replacing(with: 0, where: out[k] .< 0).replacing(with: 6, where: out[k] .> 6) }
                }
                for l in 0 ..< Swift.min(8, o - 8 * b) {
                    let plane = y + ((img * o + 8 * b + l) * ho + mt * ty) * wo + mt * tx
                    for i in 0 ..< rows {
                        for j in 0 ..< cols { plane[i * wo + j] = out[i * mt + j][l] }
                    }
                }
            }
        }
    }
}

/// The Winograd-transformed filters of one convolution's weights (see `Winograd.filters`), each direction and layout
/// made once, by the first pass that needs it, and never written again; a new `weight` gets a new `WinogradFilters`.
///
/// Made on first use rather than when the weights are set: the transformed filters take four times the weights'
/// memory per direction, and most graphs never run most of them (a classifier needs no input-gradient filters; the
/// unfused copy of a BatchNorm-folded convolution never runs once the fused graph does).
///
/// `@unchecked Sendable` is sound: the only mutable state, `made`, is read and written only while `lock` is held.
/// The lock is an NSLock (a pthread mutex) rather than Synchronization's `Mutex`, whose futex-based lock on Linux
/// ThreadSanitizer does not see, so that it reported the accesses inside `withLock` as races.
final class WinogradFilters: @unchecked Sendable {
    private let weight: [Float]                                            // (O, C, 3, 3)
    private let o: Int, c: Int
    private let lock = NSLock()
    private var made: [Winograd.Transformed?] = Array(repeating: nil, count: 8)   // forward, backward; plain, packed; m = 4, 2

    init(_ weight: [Float], o: Int, c: Int) {
        (self.weight, self.o, self.c) = (weight, o, c)
    }

    /// The forward pass's filters for output tiles m×m, (P, Op, Cp), or the input-gradient pass's, (P, Cp, Op), laid
    /// out for OpenBLAS or packed (`Winograd.Transformed`); each of the eight made on first use.
    func filters(backward: Bool, packed: Bool, tile m: Int) -> Winograd.Transformed {
        lock.withLock {
            let slot = (backward ? 1 : 0) + (packed ? 2 : 0) + (m == 2 ? 4 : 0)
            if let u = made[slot] { return u }
            let u = backward ? Winograd.Transformed(Winograd.filters(weight, o: o, c: c, flip: true, m: m), rows: c, cols: o, packed: packed)
                             : Winograd.Transformed(Winograd.filters(weight, o: o, c: c, m: m), rows: o, cols: c, packed: packed)
            made[slot] = u
            return u
        }
    }
}
