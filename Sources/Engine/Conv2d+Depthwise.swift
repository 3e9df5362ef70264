/// Direct loops for depthwise convolution (groups == C == O): each channel has its own kH×kW filter, so a
/// GEMM would be a matrix-vector product per channel; a direct loop is faster and simpler.
enum Depthwise {
    /// y[n, c] = bias[c] + Σ w[c] ⋆ x[n, c], then the activation.
    /// - Parameters:
    ///   - g: per-channel geometry (c is 1). x: (N, C, H, W). weight: (C, 1, kH, kW). bias: (C).
    ///   - y: (N, C, Ho, Wo), already shaped.
    static func forward(_ g: ConvGeometry, x: Tensor, weight: Tensor, bias: Tensor?, activation: Activation, y: inout Tensor) {
        let channels = weight.shape[0], planes = x.shape[0] * channels
        let inPlane = g.h * g.w, outPlane = g.ho * g.wo, kk = g.kh * g.kw
        x.data.withUnsafeBufferPointer { xp in
            weight.data.withUnsafeBufferPointer { wp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    let xb = xp.baseAddress!, wb = wp.baseAddress!, yb = yp.baseAddress!
                    parallelFor(planes, work: planes * outPlane * kk) { p in
                        let c = p % channels
                        let src = xb + p * inPlane, dst = yb + p * outPlane, w = wb + c * kk
                        let b = bias?.data[c] ?? 0
                        for oh in 0 ..< g.ho {
                            for ow in 0 ..< g.wo {
                                var s = b
                                for ki in 0 ..< g.kh {
                                    let ih = oh * g.sh - g.ph + ki * g.dh
                                    if ih < 0 || ih >= g.h { continue }
                                    for kj in 0 ..< g.kw {
                                        let iw = ow * g.sw - g.pw + kj * g.dw
                                        if iw < 0 || iw >= g.w { continue }
                                        s += w[ki * g.kw + kj] * src[ih * g.w + iw]
                                    }
                                }
                                dst[oh * g.wo + ow] = s
                            }
                        }
                        activation.apply(dst, outPlane)
                    }
                }
            }
        }
    }

    /// dx[n, c] += wᵀ ⋆ dy[n, c] (the transposed convolution of one channel).
    /// - Parameters: dy: (N, C, Ho, Wo), already gated. weight: (C, 1, kH, kW). dx: (N, C, H, W), zeroed.
    static func backwardInput(_ g: ConvGeometry, dy: Tensor, weight: Tensor, dx: inout Tensor) {
        let channels = weight.shape[0], planes = dy.shape[0] * channels
        let inPlane = g.h * g.w, outPlane = g.ho * g.wo, kk = g.kh * g.kw
        dy.data.withUnsafeBufferPointer { dyp in
            weight.data.withUnsafeBufferPointer { wp in
                dx.data.withUnsafeMutableBufferPointer { dxp in
                    let dyb = dyp.baseAddress!, wb = wp.baseAddress!, dxb = dxp.baseAddress!
                    parallelFor(planes, work: planes * outPlane * kk) { p in
                        let c = p % channels
                        let src = dyb + p * outPlane, dst = dxb + p * inPlane, w = wb + c * kk
                        for oh in 0 ..< g.ho {
                            for ow in 0 ..< g.wo {
                                let d = src[oh * g.wo + ow]
                                if d == 0 { continue }
                                for ki in 0 ..< g.kh {
                                    let ih = oh * g.sh - g.ph + ki * g.dh
                                    if ih < 0 || ih >= g.h { continue }
                                    for kj in 0 ..< g.kw {
                                        let iw = ow * g.sw - g.pw + kj * g.dw
                                        if iw < 0 || iw >= g.w { continue }
                                        dst[ih * g.w + iw] += w[ki * g.kw + kj] * d
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// dw[c] += Σ_n dy[n, c] ⋆ x[n, c].
    /// - Parameters: x: (N, C, H, W). dy: (N, C, Ho, Wo), already gated. dw: (C, 1, kH, kW), zeroed.
    static func backwardWeight(_ g: ConvGeometry, x: Tensor, dy: Tensor, dw: inout Tensor) {
        let channels = dw.shape[0], n = x.shape[0]
        let inPlane = g.h * g.w, outPlane = g.ho * g.wo, kk = g.kh * g.kw
        for i in 0 ..< n {
            for c in 0 ..< channels {
                let p = i * channels + c
                for ki in 0 ..< g.kh {
                    for kj in 0 ..< g.kw {
                        var s: Float = 0
                        for oh in 0 ..< g.ho {
                            let ih = oh * g.sh - g.ph + ki * g.dh
                            if ih < 0 || ih >= g.h { continue }
                            for ow in 0 ..< g.wo {
                                let iw = ow * g.sw - g.pw + kj * g.dw
                                if iw < 0 || iw >= g.w { continue }
                                s += dy.data[p * outPlane + oh * g.wo + ow] * x.data[p * inPlane + ih * g.w + iw]
                            }
                        }
                        dw.data[c * kk + ki * g.kw + kj] += s
                    }
                }
            }
        }
    }
}
