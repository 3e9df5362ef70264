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
        let geometry = TileGrid(m: Int32(mt), hp: Int32(hp), wp: Int32(wp), th: Int32(th), tw: Int32(tw), ho: Int32(ho), wo: Int32(wo))
        Workspace.shared.borrow(n * hp * wp * cp, slot: 0) { xt in              // (N, Hp, Wp, Cp)
            Workspace.shared.borrow(pts * tiles * cp, slot: 1) { v in           // (P, tiles, Cp)
                Workspace.shared.borrow(pts * tiles * op, slot: 2) { m in       // (P, tiles, Op)
                    channelsLast(x, n: n, c: c, h: h, w: w, pad: p, hp: hp, wp: wp, cp: cp, into: xt)
                    if uStride > 0 && fuses(tiles: tiles, c: c, o: o, tile: mt) {
                        // Share by share of `fusedTiles` tiles, each laid out on its own: V (P, len, Cp), M (P, len, Op).
                        let shares = (tiles + fusedTiles - 1) / fusedTiles
                        parallelFor(shares, work: pts * tiles * op * cp) { q in
                            let range = q * fusedTiles ..< Swift.min(tiles, (q + 1) * fusedTiles), len = range.count
                            let (vq, mq) = (v + pts * range.lowerBound * cp, m + pts * range.lowerBound * op)
                            inputTransform(xt, geometry, cp: cp, tiles: range, v: vq, pointStride: len * cp)
                            for xi in 0 ..< pts {
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
    typealias TileGrid = ck_tile_grid

    /// (Bᵀ d B)[ξ] for the (m+2)×(m+2) patch d of each tile in `range`, eight channels at a time, written at
    /// v[ξ · pointStride + (tile − range.lowerBound) · Cp + c] (`ck_wino_input`).
    static func inputTransform(_ xt: UnsafePointer<Float>, _ grid: TileGrid, cp: Int, tiles range: Range<Int>,
                               v: UnsafeMutablePointer<Float>, pointStride: Int) {
        withUnsafePointer(to: grid) { g in
            ck_wino_input(xt, g, Int32(cp), Int32(range.lowerBound), Int32(range.upperBound), v, pointStride)
        }
    }

    /// y = Aᵀ M A for each tile in `range`, M[ξ] read at m[ξ · pointStride + (tile − range.lowerBound) · Op + o], plus
    /// the bias (and the residual), and the activation, written where the tile lies inside the output
    /// (`ck_wino_output`).
    static func outputTransform(_ m: UnsafePointer<Float>, _ grid: TileGrid, pointStride: Int, o: Int, op: Int,
                                tiles range: Range<Int>, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                                activation: Activation, y: UnsafeMutablePointer<Float>) {
        withUnsafePointer(to: grid) { g in
            ck_wino_output(m, g, pointStride, Int32(o), Int32(op), Int32(range.lowerBound), Int32(range.upperBound), bias, residual,
                           PackedGEMM.code(activation), y)
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
