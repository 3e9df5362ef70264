import CKernels

/// Direct loops for depthwise convolution (groups == C == O): each channel has its own kH×kW filter, so a
/// GEMM would be a matrix-vector product per channel; a direct loop is faster and simpler.
///
/// Each (image, channel) plane is first copied into a zero-padded scratch plane, its columns split by stride phase,
/// so the loops carry no bounds checks: per output row and per filter tap, one multiply-add over the whole row,
/// contiguous at any stride, eight lanes at a time. With per-element bounds checks, EfficientNet-Lite0's depthwise
/// layers ran at 0.14 GMAC/s and took 90% of its forward pass.
enum Depthwise {
    /// A zero-padded copy of one (H, W) plane, covering every row and column a window reads, with each row's columns
    /// split by phase (column j at (j mod stride)·phase + j / stride): the columns one tap reads across a row of
    /// outputs are then contiguous at any stride.
    struct Plane {
        /// Rows and columns up to the last one any output reads.
        let rows: Int, columns: Int
        let stride: Int
        /// Columns per phase, ⌈columns / stride⌉; a row holds stride × phase values.
        let phase: Int
        var rowLength: Int { stride * phase }
        var count: Int { rows * rowLength }

        init(_ g: ConvGeometry) {
            rows = (g.ho - 1) * g.sh + (g.kh - 1) * g.dh + 1
            columns = (g.wo - 1) * g.sw + (g.kw - 1) * g.dw + 1
            stride = g.sw
            phase = (columns + g.sw - 1) / g.sw
        }

        /// Where padded column j sits in a row.
        @inline(__always) func column(_ j: Int) -> Int { (j % stride) * phase + j / stride }

        /// The first value tap (ki, kj) reads for output row oh; outputs along the row follow contiguously.
        @inline(__always) func tap(_ g: ConvGeometry, _ oh: Int, _ ki: Int, _ kj: Int) -> Int {
            (oh * g.sh + ki * g.dh) * rowLength + column(kj * g.dw)
        }

        /// Copies an (H, W) plane in at offset (top ph, left pw), zero elsewhere.
        func fill(_ g: ConvGeometry, _ src: UnsafePointer<Float>, _ pad: UnsafeMutablePointer<Float>) {
            let first = Swift.min(g.pw, columns), last = Swift.min(g.pw + g.w, columns)   // padded columns holding pixels
            for r in 0 ..< rows {
                let dst = pad + r * rowLength, ih = r - g.ph
                guard ih >= 0 && ih < g.h && first < last else { dst.update(repeating: 0, count: rowLength); continue }
                let pixels = src + ih * g.w + (first - g.pw)                                  // the row's first used pixel
                if stride == 1 {
                    dst.update(repeating: 0, count: first)
                    (dst + first).update(from: pixels, count: last - first)
                    (dst + last).update(repeating: 0, count: rowLength - last)
                } else if stride == 2 {                    // eight pixels at a time into the two phases
                    dst.update(repeating: 0, count: rowLength)
                    var j = first
                    if j % 2 == 1 && j < last { dst[column(j)] = pixels[0]; j += 1 }
                    while j + 8 <= last {
                        let v = UnsafeRawPointer(pixels + (j - first)).loadUnaligned(as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(dst + j / 2).storeBytes(of: v.evenHalf, as: SIMD4<Float>.self)
                        UnsafeMutableRawPointer(dst + phase + j / 2).storeBytes(of: v.oddHalf, as: SIMD4<Float>.self)
                        j += 8
                    }
                    while j < last { dst[column(j)] = pixels[j - first]; j += 1 }
                } else {
                    dst.update(repeating: 0, count: rowLength)
                    forEachColumn(first, last) { j, at in dst[at] = pixels[j - first] }
                }
            }
        }

        /// Calls `body(j, column(j))` for j in first..<last, phase by phase (no division per column).
        @inline(__always)
        func forEachColumn(_ first: Int, _ last: Int, _ body: (Int, Int) -> Void) {
            for q in 0 ..< stride {
                var j = first + (q - first % stride + stride) % stride, at = q * phase + j / stride
                while j < last { body(j, at); j += stride; at += 1 }
            }
        }

        /// Reads an (H, W) plane back out of a padded one (the inverse of `fill` where pixels were), zero where no
        /// window reached.
        func extract(_ g: ConvGeometry, _ pad: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
            let first = Swift.min(g.pw, columns), last = Swift.min(g.pw + g.w, columns)   // padded columns holding pixels
            for ih in 0 ..< g.h {
                let r = ih + g.ph, row = out + ih * g.w
                row.update(repeating: 0, count: g.w)
                guard r < rows && first < last else { continue }
                let src = pad + r * rowLength, pixels = row + (first - g.pw)
                if stride == 1 {
                    pixels.update(from: src + first, count: last - first)
                } else {
                    forEachColumn(first, last) { j, at in pixels[j - first] = src[at] }
                }
            }
        }
    }

    /// y[i] += a·x[i] for i < n, eight lanes at a time.
    @inline(__always)
    static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        let av = SIMD8<Float>(repeating: a)
        while i + 8 <= n {
            let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: yv + av * xv, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { y[i] += a * x[i]; i += 1 }
    }

    /// Σ x[i]·y[i] for i < n, eight lanes at a time.
    @inline(__always)
    static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
        var i = 0
        var acc = SIMD8<Float>(repeating: 0)
        while i + 8 <= n {
            acc += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var s = acc.sum()
        while i < n { s += x[i] * y[i]; i += 1 }
        return s
    }

    /// y[n, c] = bias[c] + Σ w[c] ⋆ x[n, c], then the activation. Eight outputs of a row at a time are summed over
    /// every tap in registers and stored once; the last, partial group reads into slack past the plane's end.
    /// - Parameters:
    ///   - g: per-channel geometry (c is 1). x: (N, C, H, W). weight: (C, 1, kH, kW). bias: (C).
    ///   - y: (N, C, Ho, Wo), already shaped.
    static func forward(_ g: ConvGeometry, x: Tensor, weight: Tensor, bias: Tensor?, activation: Activation, y: inout Tensor) {
        let channels = weight.shape[0], planes = x.shape[0] * channels
        let inPlane = g.h * g.w, outPlane = g.ho * g.wo, kk = g.kh * g.kw, plane = Plane(g)
        // (kH·kW) where each tap starts reading, relative to an output's top-left window corner in the padded plane.
        let taps = (0 ..< kk).map { t in (t / g.kw) * g.dh * plane.rowLength + plane.column((t % g.kw) * g.dw) }
        let rowStep = g.sh * plane.rowLength
        let taps32 = taps.map { Int32($0) }
        x.data.withUnsafeBufferPointer { xp in
            weight.data.withUnsafeBufferPointer { wp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    taps.withUnsafeBufferPointer { tp in taps32.withUnsafeBufferPointer { tp32 in
                        let xb = xp.baseAddress!, wb = wp.baseAddress!, yb = yp.baseAddress!, off = tp.baseAddress!
                        let off32 = tp32.baseAddress!
                        parallelChunks(planes, work: planes * outPlane * kk) { range in
                            let pad = UnsafeMutablePointer<Float>.allocate(capacity: plane.count + 8)   // (Hp, Wp) by phase, + slack
                            defer { pad.deallocate() }
                            (pad + plane.count).update(repeating: 0, count: 8)
                            for p in range {
                                let c = p % channels
                                plane.fill(g, xb + p * inPlane, pad)
                                let dst = yb + p * outPlane, w = wb + c * kk
                                if PackedGEMM.enabled {                 // the same loop in C, with FMA on AVX2
                                    ck_depthwise_plane(pad, Int32(rowStep), off32, Int32(kk), w, bias?.data[c] ?? 0, dst,
                                                       Int32(g.ho), Int32(g.wo), PackedGEMM.code(activation))
                                    continue
                                }
                                let b = SIMD8<Float>(repeating: bias?.data[c] ?? 0)
                                func store(_ acc: SIMD8<Float>, _ row: UnsafeMutablePointer<Float>, _ ow: Int) {
                                    if ow + 8 <= g.wo {
                                        UnsafeMutableRawPointer(row + ow).storeBytes(of: acc, as: SIMD8<Float>.self)
                                    } else {
                                        for i in 0 ..< g.wo - ow { row[ow + i] = acc[i] }
                                    }
                                }
                                var oh = 0
                                while oh < g.ho {
                                    let row = dst + oh * g.wo, src = pad + oh * rowStep
                                    var ow = 0
                                    if oh + 1 < g.ho {                 // two rows at once: two independent chains of adds
                                        while ow < g.wo {
                                            var acc = b, acc1 = b
                                            for t in 0 ..< kk {
                                                let wt = SIMD8(repeating: w[t]), at = src + off[t] + ow
                                                acc += wt * UnsafeRawPointer(at).loadUnaligned(as: SIMD8<Float>.self)
                                                acc1 += wt * UnsafeRawPointer(at + rowStep).loadUnaligned(as: SIMD8<Float>.self)
                                            }
                                            store(acc, row, ow)
                                            store(acc1, row + g.wo, ow)
                                            ow += 8
                                        }
                                        oh += 2
                                        continue
                                    }
                                    while ow < g.wo {
                                        var acc = b
                                        for t in 0 ..< kk {
                                            acc += SIMD8(repeating: w[t]) * UnsafeRawPointer(src + off[t] + ow).loadUnaligned(as: SIMD8<Float>.self)
                                        }
                                        store(acc, row, ow)
                                        ow += 8
                                    }
                                    oh += 1
                                }
                                activation.apply(dst, outPlane)
                            }
                        }
                    } }
                }
            }
        }
    }

    /// dx[n, c] = wᵀ ⋆ dy[n, c] (the transposed convolution of one channel), accumulated in a padded plane whose
    /// pixels are then read out.
    /// - Parameters: dy: (N, C, Ho, Wo), already gated. weight: (C, 1, kH, kW). dx: (N, C, H, W), overwritten.
    static func backwardInput(_ g: ConvGeometry, dy: Tensor, weight: Tensor, dx: inout Tensor) {
        let channels = weight.shape[0], planes = dy.shape[0] * channels
        let inPlane = g.h * g.w, outPlane = g.ho * g.wo, kk = g.kh * g.kw, plane = Plane(g)
        dy.data.withUnsafeBufferPointer { dyp in
            weight.data.withUnsafeBufferPointer { wp in
                dx.data.withUnsafeMutableBufferPointer { dxp in
                    let dyb = dyp.baseAddress!, wb = wp.baseAddress!, dxb = dxp.baseAddress!
                    parallelFor(planes, work: planes * outPlane * kk) { p in
                        let c = p % channels
                        let pad = UnsafeMutablePointer<Float>.allocate(capacity: plane.count)     // (Hp, Wp) by phase
                        defer { pad.deallocate() }
                        pad.update(repeating: 0, count: plane.count)
                        let src = dyb + p * outPlane, w = wb + c * kk
                        for oh in 0 ..< g.ho {
                            for ki in 0 ..< g.kh {
                                for kj in 0 ..< g.kw { axpy(w[ki * g.kw + kj], src + oh * g.wo, pad + plane.tap(g, oh, ki, kj), g.wo) }
                            }
                        }
                        plane.extract(g, pad, dxb + p * inPlane)
                    }
                }
            }
        }
    }

    /// dw[c] = Σ_n dy[n, c] ⋆ x[n, c], one channel per task.
    /// - Parameters: x: (N, C, H, W). dy: (N, C, Ho, Wo), already gated. dw: (C, 1, kH, kW), zeroed.
    static func backwardWeight(_ g: ConvGeometry, x: Tensor, dy: Tensor, dw: inout Tensor) {
        let channels = dw.shape[0], n = x.shape[0]
        let inPlane = g.h * g.w, outPlane = g.ho * g.wo, kk = g.kh * g.kw, plane = Plane(g)
        x.data.withUnsafeBufferPointer { xp in
            dy.data.withUnsafeBufferPointer { dyp in
                dw.data.withUnsafeMutableBufferPointer { dwp in
                    let xb = xp.baseAddress!, dyb = dyp.baseAddress!, dwb = dwp.baseAddress!
                    parallelFor(channels, work: n * channels * outPlane * kk) { c in
                        let pad = UnsafeMutablePointer<Float>.allocate(capacity: plane.count)     // (Hp, Wp) by phase
                        defer { pad.deallocate() }
                        for i in 0 ..< n {
                            let p = i * channels + c
                            plane.fill(g, xb + p * inPlane, pad)
                            for ki in 0 ..< g.kh {
                                for kj in 0 ..< g.kw {
                                    var s: Float = 0
                                    for oh in 0 ..< g.ho { s += dot(dyb + p * outPlane + oh * g.wo, pad + plane.tap(g, oh, ki, kj), g.wo) }
                                    dwb[c * kk + ki * g.kw + kj] += s
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
