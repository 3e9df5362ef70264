/// Max pooling over kH×kW windows, as PyTorch's MaxPool2d: padding counts as −∞, ceil mode keeps a last
/// partial window, and ties go to the first maximum in scan order.
public final class MaxPool2d: Layer {
    public let kernel: Int, stride: Int, padding: Int, dilation: Int, ceilMode: Bool

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1, ceilMode: Bool = false) {
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
        self.dilation = dilation
        self.ceilMode = ceilMode
    }

    public var kind: String { "MaxPool2d" }
    public var summary: String { "\(kernel)x\(kernel), stride \(stride)" + (padding > 0 ? ", pad \(padding)" : "") + (ceilMode ? ", ceil" : "") }

    func geometry(_ s: [Int]) -> ConvGeometry {
        ConvGeometry(c: s[1], h: s[2], w: s[3], kh: kernel, kw: kernel, sh: stride, sw: stride, ph: padding, pw: padding,
                     dh: dilation, dw: dilation,
                     ho: ConvGeometry.outputSize(s[2], kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceil: ceilMode),
                     wo: ConvGeometry.outputSize(s[3], kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceil: ceilMode))
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = inputs[0]
        try expect(s.count == 4, "MaxPool2d expects (N, C, H, W) input, got \(s)")
        let g = geometry(s)
        try expect(g.ho > 0 && g.wo > 0, "MaxPool2d: input \(s[2])x\(s[3]) is smaller than its \(kernel)x\(kernel) window")
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
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                let xb = xp.baseAddress!, yb = yp.baseAddress!
                parallelFor(planes, work: planes * outPlane * kernel * kernel) { p in
                    maxPlane(g, xb + p * inPlane, yb + p * outPlane)
                }
            }
        }
    }

    /// The forward for one plane: a separable max (over each window's columns, then its rows), windows clipped to
    /// the image since padding is −∞. Max is exact, so the order does not change the result; a plane with NaN takes
    /// the general loop, which propagates it as PyTorch does.
    private func maxPlane(_ g: ConvGeometry, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>) {
        if g.dh != 1 || g.dw != 1 || (0 ..< g.h * g.w).contains(where: { src[$0].isNaN }) {
            argmaxes(g, src) { o, i in dst[o] = i >= 0 ? src[i] : -.infinity }
            return
        }
        // Row maxima over each window's columns: (H, Wo), clipped at the right edge.
        let rows = UnsafeMutablePointer<Float>.allocate(capacity: g.h * g.wo)
        defer { rows.deallocate() }
        for r in 0 ..< g.h {
            let line = src + r * g.w, out = rows + r * g.wo
            for ow in 0 ..< g.wo {
                let c0 = Swift.max(ow * g.sw - g.pw, 0), c1 = Swift.min(ow * g.sw - g.pw + g.kw, g.w)
                var m = line[c0]
                for c in c0 + 1 ..< c1 { m = Swift.max(m, line[c]) }
                out[ow] = m
            }
        }
        for oh in 0 ..< g.ho {
            let r0 = Swift.max(oh * g.sh - g.ph, 0), r1 = Swift.min(oh * g.sh - g.ph + g.kh, g.h), out = dst + oh * g.wo
            out.update(from: rows + r0 * g.wo, count: g.wo)
            for r in r0 + 1 ..< r1 {
                let line = rows + r * g.wo
                for ow in 0 ..< g.wo { out[ow] = Swift.max(out[ow], line[ow]) }
            }
        }
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        let x = inputs[0]                                   // (N, C, H, W)
        let g = geometry(x.shape)
        var dx = Tensor(zeros: x.shape)                     // (N, C, H, W)
        let planes = x.shape[0] * g.c, inPlane = g.h * g.w, outPlane = g.ho * g.wo
        x.data.withUnsafeBufferPointer { xp in
            dy.data.withUnsafeBufferPointer { dyp in
                dx.data.withUnsafeMutableBufferPointer { dxp in
                    let xb = xp.baseAddress!, dyb = dyp.baseAddress!, dxb = dxp.baseAddress!
                    parallelFor(planes, work: planes * outPlane * kernel * kernel) { p in
                        let d = dyb + p * outPlane, dst = dxb + p * inPlane
                        argmaxes(g, xb + p * inPlane) { o, i in if i >= 0 { dst[i] += d[o] } }
                    }
                }
            }
        }
        return [dx]
    }
}

/// Average pooling over kH×kW windows, as PyTorch's AvgPool2d (count_include_pad counts the zero padding but
/// not the overhang of a ceil-mode window).
public final class AvgPool2d: Layer {
    public let kernel: Int, stride: Int, padding: Int, ceilMode: Bool, countIncludePad: Bool

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false, countIncludePad: Bool = true) {
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
    }

    public var kind: String { "AvgPool2d" }
    public var summary: String { "\(kernel)x\(kernel), stride \(stride)" + (padding > 0 ? ", pad \(padding)" : "") + (ceilMode ? ", ceil" : "") }

    func outSize(_ n: Int) -> Int {
        ConvGeometry.outputSize(n, kernel: kernel, stride: stride, padding: padding, dilation: 1, ceil: ceilMode)
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = inputs[0]
        try expect(s.count == 4, "AvgPool2d expects (N, C, H, W) input, got \(s)")
        try expect(outSize(s[2]) > 0 && outSize(s[3]) > 0, "AvgPool2d: input \(s[2])x\(s[3]) is smaller than its window")
        return [s[0], s[1], outSize(s[2]), outSize(s[3])]
    }

    /// The clipped window [h0, h1) × [w0, w1) of output (oh, ow) and the divisor PyTorch uses for it.
    @inline(__always)
    private func window(_ oh: Int, _ ow: Int, _ h: Int, _ w: Int) -> (Int, Int, Int, Int, Float) {
        var h0 = oh * stride - padding, w0 = ow * stride - padding
        var h1 = Swift.min(h0 + kernel, h + padding), w1 = Swift.min(w0 + kernel, w + padding)
        let padded = (h1 - h0) * (w1 - w0)
        h0 = Swift.max(h0, 0); w0 = Swift.max(w0, 0); h1 = Swift.min(h1, h); w1 = Swift.min(w1, w)
        let count = countIncludePad ? padded : (h1 - h0) * (w1 - w0)
        return (h0, h1, w0, w1, Float(Swift.max(count, 1)))
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let x = inputs[0]                                   // (N, C, H, W)
        let (h, w) = (x.shape[2], x.shape[3]), (ho, wo) = (outSize(h), outSize(w))
        y.prepare([x.shape[0], x.shape[1], ho, wo])         // (N, C, Ho, Wo)
        for p in 0 ..< x.shape[0] * x.shape[1] {
            for oh in 0 ..< ho {
                for ow in 0 ..< wo {
                    let (h0, h1, w0, w1, div) = window(oh, ow, h, w)
                    var s: Float = 0
                    for i in h0 ..< h1 { for j in w0 ..< w1 { s += x.data[(p * h + i) * w + j] } }
                    y.data[(p * ho + oh) * wo + ow] = s / div
                }
            }
        }
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        let x = inputs[0]
        let (h, w) = (x.shape[2], x.shape[3]), (ho, wo) = (outSize(h), outSize(w))
        var dx = Tensor(zeros: x.shape)                     // (N, C, H, W)
        for p in 0 ..< x.shape[0] * x.shape[1] {
            for oh in 0 ..< ho {
                for ow in 0 ..< wo {
                    let (h0, h1, w0, w1, div) = window(oh, ow, h, w)
                    let g = dy.data[(p * ho + oh) * wo + ow] / div
                    for i in h0 ..< h1 { for j in w0 ..< w1 { dx.data[(p * h + i) * w + j] += g } }
                }
            }
        }
        return [dx]
    }
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
