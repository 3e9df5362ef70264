import CKernels

/// Max pooling over kH×kW windows, as PyTorch's MaxPool2d and ONNX's MaxPool: padding (possibly different on each
/// side) counts as −∞, ceil mode keeps a last partial window, and ties go to the first maximum in scan order.
public final class MaxPool2d: Layer {
    public let kernel: (h: Int, w: Int), stride: (h: Int, w: Int), padding: Padding, dilation: (h: Int, w: Int)
    public let ceilMode: Bool

    /// A square window with the same padding on every side (the zoo's pools).
    public convenience init(kernel: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1, ceilMode: Bool = false) {
        self.init(kernel: (kernel, kernel), stride: (stride ?? kernel, stride ?? kernel), padding: Padding(padding),
                  dilation: (dilation, dilation), ceilMode: ceilMode)
    }

    /// Any window, stride, dilation and padding on each side.
    public init(kernel: (Int, Int), stride: (Int, Int), padding: Padding = .zero, dilation: (Int, Int) = (1, 1), ceilMode: Bool = false) {
        self.kernel = (kernel.0, kernel.1)
        self.stride = (stride.0, stride.1)
        self.padding = padding
        self.dilation = (dilation.0, dilation.1)
        self.ceilMode = ceilMode
    }

    public var kind: String { "MaxPool2d" }
    public var summary: String { windowSummary(kernel, stride, padding, ceilMode) + (dilation != (1, 1) ? ", dilation \(dilation.h)x\(dilation.w)" : "") }

    func geometry(_ s: [Int]) -> ConvGeometry {
        .window(s, kernel: (kernel.h, kernel.w), stride: (stride.h, stride.w), padding: padding, dilation: (dilation.h, dilation.w), ceil: ceilMode)
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = inputs[0]
        try expect(s.count == 4, "MaxPool2d expects (N, C, H, W) input, got \(s)")
        try checkWindow("MaxPool2d", kernel, stride, padding, dilation)
        let g = geometry(s)
        try expect(g.ho > 0 && g.wo > 0, "MaxPool2d: input \(s[2])x\(s[3]) is smaller than its \(kernel.h)x\(kernel.w) window")
        return [s[0], s[1], g.ho, g.wo]
    }

    /// Visits each output position of one plane with the flat input index of its window's maximum (−1 if empty):
    /// the first maximum in scan order, or the first NaN, as PyTorch picks it.
    @inline(__always)
    private func argmaxes(_ g: ConvGeometry, _ x: UnsafePointer<Float>, _ body: (Int, Int) -> Void) {
        for oh in 0 ..< g.ho {
            // The window's rows inside the image: ih = oh·sh − ph + ki·dh for ki in [k0, k1).
            let base = oh * g.sh - g.ph
            let k0 = base >= 0 ? 0 : (-base + g.dh - 1) / g.dh
            let k1 = Swift.min(g.kh, (g.h - base + g.dh - 1) / g.dh)
            for ow in 0 ..< g.wo {
                let cb = ow * g.sw - g.pw
                let j0 = cb >= 0 ? 0 : (-cb + g.dw - 1) / g.dw
                let j1 = Swift.min(g.kw, (g.w - cb + g.dw - 1) / g.dw)
                var best = -Float.infinity, at = -1
                search: for ki in k0 ..< Swift.max(k0, k1) {
                    let row = (base + ki * g.dh) * g.w + cb
                    for kj in j0 ..< Swift.max(j0, j1) {
                        let i = row + kj * g.dw, v = x[i]
                        if v > best || at < 0 { best = v; at = i }
                        if v.isNaN { at = i; break search }
                    }
                }
                body(oh * g.wo + ow, at)
            }
        }
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let x = inputs[0]                                   // (N, C, H, W)
        let g = geometry(x.shape)
        y.prepare([x.shape[0], g.c, g.ho, g.wo])            // (N, C, Ho, Wo)
        let planes = x.shape[0] * g.c, inPlane = g.h * g.w, outPlane = g.ho * g.wo
        withUnsafePointer(to: g.kernelWindow) { window in
            x.data.withUnsafeBufferPointer { xp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    let xb = xp.baseAddress!, yb = yp.baseAddress!
                    parallelChunks(planes, work: planes * outPlane * kernel.h * kernel.w) { range in
                        let row = UnsafeMutablePointer<Float>.allocate(capacity: ck_max_scratch(window))   // (W) and padding
                        defer { row.deallocate() }
                        for p in range {
                            let src = xb + p * inPlane, dst = yb + p * outPlane
                            if g.dh != 1 || g.dw != 1 || pairs(g) && hasNaN(src, inPlane) {
                                argmaxes(g, src) { o, i in dst[o] = i >= 0 ? src[i] : -.infinity }
                            } else if pairs(g) {
                                for oh in 0 ..< g.ho {                      // 2x2, stride 2: disjoint full windows
                                    let a = src + 2 * oh * g.w, b = a + g.w, out = dst + oh * g.wo
                                    for ow in 0 ..< g.wo { out[ow] = Swift.max(Swift.max(a[2 * ow], a[2 * ow + 1]), Swift.max(b[2 * ow], b[2 * ow + 1])) }
                                }
                            } else if ck_max_plane(window, src, dst, row) != 0 {   // NaN: the exact loop propagates it
                                argmaxes(g, src) { o, i in dst[o] = i >= 0 ? src[i] : -.infinity }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The input gradient routes each dy to its window's first maximum (PyTorch's choice). With NaN in a window,
    /// where the gradient goes is not PyTorch's (the forward propagates the NaN as PyTorch does).
    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        let x = inputs[0]                                   // (N, C, H, W)
        let g = geometry(x.shape)
        let disjoint = pairs(g)
        // 2x2 windows write every input position themselves (the remainder row and column are zeroed below).
        var dx = disjoint ? Tensor(uninitialized: x.shape) : Tensor(zeros: x.shape)   // (N, C, H, W)
        let planes = x.shape[0] * g.c, inPlane = g.h * g.w, outPlane = g.ho * g.wo
        let windows = Windows(g)
        x.data.withUnsafeBufferPointer { xp in
          y.data.withUnsafeBufferPointer { yp in
            dy.data.withUnsafeBufferPointer { dyp in
                dx.data.withUnsafeMutableBufferPointer { dxp in
                    let xb = xp.baseAddress!, yb = yp.baseAddress!, dyb = dyp.baseAddress!, dxb = dxp.baseAddress!
                    parallelChunks(planes, work: planes * outPlane * kernel.h * kernel.w) { range in
                        for p in range {
                            let src = xb + p * inPlane, d = dyb + p * outPlane, dst = dxb + p * inPlane
                            if g.dh != 1 || g.dw != 1 {
                                argmaxes(g, src) { o, i in if i >= 0 { dst[i] += d[o] } }
                            } else if disjoint {
                                for oh in 0 ..< g.ho {
                                    let a = 2 * oh * g.w, b = a + g.w, grad = d + oh * g.wo
                                    for ow in 0 ..< g.wo {
                                        let (i0, i1, i2, i3) = (a + 2 * ow, a + 2 * ow + 1, b + 2 * ow, b + 2 * ow + 1)
                                        var at = i0                          // the first maximum in scan order
                                        if src[i1] > src[at] { at = i1 }
                                        if src[i2] > src[at] { at = i2 }
                                        if src[i3] > src[at] { at = i3 }
                                        dst[i0] = 0; dst[i1] = 0; dst[i2] = 0; dst[i3] = 0
                                        dst[at] = grad[ow]
                                    }
                                    if g.w > 2 * g.wo { dst[a + g.w - 1] = 0; dst[b + g.w - 1] = 0 }
                                }
                                if g.h > 2 * g.ho { (dst + (g.h - 1) * g.w).update(repeating: 0, count: g.w) }
                            } else if g.kh == 3 && g.kw == 3 {
                                windows.scatter3(g, src, yb + p * outPlane, d, dst)
                            } else {
                                windows.scatter(g, src, d, dst)
                            }
                        }
                    }
                }
            }
        }
          }
        return [dx]
    }

    /// A 2x2, stride-2, unpadded, undilated pooling whose windows all lie inside the input (disjoint and full).
    @inline(__always)
    private func pairs(_ g: ConvGeometry) -> Bool {
        g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 && 2 * g.ho <= g.h && 2 * g.wo <= g.w
    }

    /// Whether any of `n` values is NaN (then the general loop keeps PyTorch's NaN propagation).
    @inline(__always)
    private func hasNaN(_ p: UnsafePointer<Float>, _ n: Int) -> Bool {
        var flags = SIMD8<Int32>.zero                       // branch-free, eight at a time
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
            flags |= SIMD8<Int32>(repeating: 1).replacing(with: 0, where: v .== v)
            i += 8
        }
        var tail = false
        while i < n { tail = tail || p[i].isNaN; i += 1 }
        return tail || flags != .zero
    }
}

/// The window of every output position of a pooling, clipped to the image (padding is −∞ for max pooling), for
/// undilated windows: rows [r0, r1) and columns [c0, c1).
struct Windows {
    let c0: [Int], c1: [Int]

    init(_ g: ConvGeometry) {
        c0 = (0 ..< g.wo).map { Swift.max($0 * g.sw - g.pw, 0) }
        c1 = (0 ..< g.wo).map { Swift.min($0 * g.sw - g.pw + g.kw, g.w) }
    }

    /// Whether output column ow's 3-wide window lies fully inside the image.
    @inline(__always) private func full3(_ ow: Int, _ lo: UnsafeBufferPointer<Int>, _ hi: UnsafeBufferPointer<Int>) -> Bool {
        hi[ow] - lo[ow] == 3
    }

    /// `scatter` for 3x3 windows, using the forward's output: the argmax is the first position in scan order that
    /// holds the window's maximum y[o], so the search stops there instead of comparing all nine values.
    func scatter3(_ g: ConvGeometry, _ src: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                  _ dx: UnsafeMutablePointer<Float>) {
        c0.withUnsafeBufferPointer { lo in
            c1.withUnsafeBufferPointer { hi in
                for oh in 0 ..< g.ho {
                    let r0 = Swift.max(oh * g.sh - g.ph, 0), r1 = Swift.min(oh * g.sh - g.ph + 3, g.h)
                    let (a, b, c) = (src + r0 * g.w, src + (r0 + 1) * g.w, src + (r0 + 2) * g.w)
                    for ow in 0 ..< g.wo {
                        let o = oh * g.wo + ow, m = y[o]
                        if r1 - r0 == 3 && full3(ow, lo, hi) {
                            // A whole window: which of the nine equal the maximum, as bits in scan order, without a
                            // branch per value; the lowest set bit is the first maximum. (NaN equals nothing: no bit.)
                            let j = lo[ow]
                            var bits: UInt32 = (a[j] == m ? 1 : 0) | (a[j + 1] == m ? 2 : 0) | (a[j + 2] == m ? 4 : 0)
                            bits |= (b[j] == m ? 8 : 0) | (b[j + 1] == m ? 16 : 0) | (b[j + 2] == m ? 32 : 0)
                            bits |= (c[j] == m ? 64 : 0) | (c[j + 1] == m ? 128 : 0) | (c[j + 2] == m ? 256 : 0)
                            if bits != 0 {
                                let t = bits.trailingZeroBitCount
                                dx[(r0 + t / 3) * g.w + j + t % 3] += dy[o]
                            }
                            continue
                        }
                        var at = -1
                        search: for r in r0 ..< r1 {
                            let row = r * g.w
                            for k in lo[ow] ..< hi[ow] where src[row + k] == m { at = row + k; break search }
                        }
                        if at >= 0 { dx[at] += dy[o] }
                    }
                }
            }
        }
    }

    /// dx[argmax of window o] += dy[o], the argmax being the first maximum in scan order.
    func scatter(_ g: ConvGeometry, _ src: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        c0.withUnsafeBufferPointer { lo in
            c1.withUnsafeBufferPointer { hi in
                for oh in 0 ..< g.ho {
                    let r0 = Swift.max(oh * g.sh - g.ph, 0), r1 = Swift.min(oh * g.sh - g.ph + g.kh, g.h)
                    for ow in 0 ..< g.wo {
                        var m = -Float.infinity, at = r0 * g.w + lo[ow]
                        var r = r0
                        while r < r1 {
                            var i = r * g.w + lo[ow]
                            let end = r * g.w + hi[ow]
                            while i < end {
                                if src[i] > m { m = src[i]; at = i }
                                i += 1
                            }
                            r += 1
                        }
                        dx[at] += dy[oh * g.wo + ow]
                    }
                }
            }
        }
    }
}

/// Average pooling over kH×kW windows, as PyTorch's AvgPool2d and ONNX's AveragePool: count_include_pad counts the
/// zero padding (on each side its own amount) but not the overhang of a ceil-mode window past it.
public final class AvgPool2d: Layer {
    public let kernel: (h: Int, w: Int), stride: (h: Int, w: Int), padding: Padding
    public let ceilMode: Bool, countIncludePad: Bool

    /// A square window with the same padding on every side.
    public convenience init(kernel: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false, countIncludePad: Bool = true) {
        self.init(kernel: (kernel, kernel), stride: (stride ?? kernel, stride ?? kernel), padding: Padding(padding),
                  ceilMode: ceilMode, countIncludePad: countIncludePad)
    }

    /// Any window and stride, and padding on each side.
    public init(kernel: (Int, Int), stride: (Int, Int), padding: Padding = .zero, ceilMode: Bool = false, countIncludePad: Bool = true) {
        self.kernel = (kernel.0, kernel.1)
        self.stride = (stride.0, stride.1)
        self.padding = padding
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
    }

    public var kind: String { "AvgPool2d" }
    public var summary: String { windowSummary(kernel, stride, padding, ceilMode) + (countIncludePad || padding == .zero ? "" : ", pad not counted") }

    func geometry(_ s: [Int]) -> ConvGeometry {
        .window(s, kernel: (kernel.h, kernel.w), stride: (stride.h, stride.w), padding: padding, dilation: (1, 1), ceil: ceilMode)
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = inputs[0]
        try expect(s.count == 4, "AvgPool2d expects (N, C, H, W) input, got \(s)")
        try checkWindow("AvgPool2d", kernel, stride, padding, (1, 1))
        let g = geometry(s)
        try expect(g.ho > 0 && g.wo > 0, "AvgPool2d: input \(s[2])x\(s[3]) is smaller than its window")
        return [s[0], s[1], g.ho, g.wo]
    }

    /// The clipped window [h0, h1) × [w0, w1) of output (oh, ow) and the divisor PyTorch uses for it.
    @inline(__always)
    private func window(_ oh: Int, _ ow: Int, _ h: Int, _ w: Int) -> (Int, Int, Int, Int, Float) {
        var h0 = oh * stride.h - padding.top, w0 = ow * stride.w - padding.left
        var h1 = Swift.min(h0 + kernel.h, h + padding.bottom), w1 = Swift.min(w0 + kernel.w, w + padding.right)
        let padded = (h1 - h0) * (w1 - w0)
        h0 = Swift.max(h0, 0); w0 = Swift.max(w0, 0); h1 = Swift.min(h1, h); w1 = Swift.min(w1, w)
        let count = countIncludePad ? padded : (h1 - h0) * (w1 - w0)
        return (h0, h1, w0, w1, Float(Swift.max(count, 1)))
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let x = inputs[0]                                   // (N, C, H, W)
        let g = geometry(x.shape), (h, w, ho, wo) = (g.h, g.w, g.ho, g.wo)
        y.prepare([x.shape[0], x.shape[1], ho, wo])         // (N, C, Ho, Wo)
        let planes = x.shape[0] * x.shape[1]
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                let (xb, yb) = (xp.baseAddress!, yp.baseAddress!)
                parallelFor(planes, work: planes * ho * wo * kernel.h * kernel.w) { p in
                    let src = xb + p * h * w, dst = yb + p * ho * wo
                    for oh in 0 ..< ho {
                        for ow in 0 ..< wo {
                            let (h0, h1, w0, w1, div) = window(oh, ow, h, w)
                            var s: Float = 0
                            for i in h0 ..< h1 { for j in w0 ..< w1 { s += src[i * w + j] } }
                            dst[oh * wo + ow] = s / div
                        }
                    }
                }
            }
        }
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        let x = inputs[0]
        let g = geometry(x.shape), (h, w, ho, wo) = (g.h, g.w, g.ho, g.wo)
        var dx = Tensor(zeros: x.shape)                     // (N, C, H, W)
        let planes = x.shape[0] * x.shape[1]
        dy.data.withUnsafeBufferPointer { dyp in
            dx.data.withUnsafeMutableBufferPointer { dxp in
                let (db, xb) = (dyp.baseAddress!, dxp.baseAddress!)
                parallelFor(planes, work: planes * ho * wo * kernel.h * kernel.w) { p in
                    let src = db + p * ho * wo, dst = xb + p * h * w
                    for oh in 0 ..< ho {
                        for ow in 0 ..< wo {
                            let (h0, h1, w0, w1, div) = window(oh, ow, h, w)
                            let d = src[oh * wo + ow] / div
                            for i in h0 ..< h1 { for j in w0 ..< w1 { dst[i * w + j] += d } }
                        }
                    }
                }
            }
        }
        return [dx]
    }
}

/// "3x3, stride 2, pad 1, ceil" for listings.
func windowSummary(_ k: (h: Int, w: Int), _ s: (h: Int, w: Int), _ p: Padding, _ ceil: Bool) -> String {
    "\(k.h)x\(k.w), stride \(s.h == s.w ? "\(s.h)" : "\(s.h)x\(s.w)")" + (p != .zero ? ", pad \(p)" : "") + (ceil ? ", ceil" : "")
}

/// Refuses a window no input fits: a size, stride or dilation below 1, or negative padding.
func checkWindow(_ op: String, _ k: (h: Int, w: Int), _ s: (h: Int, w: Int), _ p: Padding, _ d: (h: Int, w: Int)) throws {
    try expect(k.h >= 1 && k.w >= 1 && s.h >= 1 && s.w >= 1 && d.h >= 1 && d.w >= 1,
               "\(op): kernel \(k.h)x\(k.w), stride \(s.h)x\(s.w) and dilation \(d.h)x\(d.w) must be at least 1")
    try expect(Swift.min(p.top, p.left, p.bottom, p.right) >= 0, "\(op): negative padding \(p)")
}

/// Adaptive average pooling to a fixed (oH, oW), as PyTorch's AdaptiveAvgPool2d: output cell i averages input
/// rows floor(i·H/oH) ..< ceil((i+1)·H/oH). With (1, 1) it is global average pooling.
public final class AdaptiveAvgPool2d: Layer {
    public let outH: Int, outW: Int

    public init(_ outH: Int, _ outW: Int) {
        self.outH = outH
        self.outW = outW
    }

    public var kind: String { outH == 1 && outW == 1 ? "GlobalAvgPool2d" : "AdaptiveAvgPool2d" }
    public var summary: String { "→ \(outH)x\(outW)" }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = inputs[0]
        try expect(s.count == 4, "AdaptiveAvgPool2d expects (N, C, H, W) input, got \(s)")
        return [s[0], s[1], outH, outW]
    }

    @inline(__always)
    private func span(_ i: Int, _ n: Int, _ out: Int) -> Range<Int> { (i * n / out) ..< ((i + 1) * n + out - 1) / out }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let x = inputs[0]                                   // (N, C, H, W)
        let (h, w) = (x.shape[2], x.shape[3])
        y.prepare([x.shape[0], x.shape[1], outH, outW])     // (N, C, oH, oW)
        let planes = x.shape[0] * x.shape[1]
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                for p in 0 ..< planes {
                    let src = xp.baseAddress! + p * h * w
                    for oi in 0 ..< outH {
                        for oj in 0 ..< outW {
                            let rows = span(oi, h, outH), cols = span(oj, w, outW)
                            var s: Float = 0
                            for i in rows { for j in cols { s += src[i * w + j] } }
                            yp[(p * outH + oi) * outW + oj] = s / Float(rows.count * cols.count)
                        }
                    }
                }
            }
        }
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        let x = inputs[0]
        let (h, w) = (x.shape[2], x.shape[3])
        var dx = Tensor(zeros: x.shape)                     // (N, C, H, W)
        for p in 0 ..< x.shape[0] * x.shape[1] {
            for oi in 0 ..< outH {
                for oj in 0 ..< outW {
                    let rows = span(oi, h, outH), cols = span(oj, w, outW)
                    let g = dy.data[(p * outH + oi) * outW + oj] / Float(rows.count * cols.count)
                    for i in rows { for j in cols { dx.data[(p * h + i) * w + j] += g } }
                }
            }
        }
        return [dx]
    }
}
