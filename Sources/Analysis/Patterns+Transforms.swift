import Engine
import Foundation

/// Lucid's random transforms (Olah et al., "Feature Visualization", Distill 2017, §Transformation robustness): the
/// network sees a slightly different crop, size and angle of the image at every step, so the pattern cannot rely
/// on pixel-exact high-frequency tricks. Each draws its own numbers per batch item. Lucid's standard list is
///     [pad(12), jitter(8), scale(0.9...1.1), rotate(−10...10°), jitter(4)].
extension ImageOp {
    /// Pads every side by `p` pixels of `value` (lucid pads with grey, 0.5). (N, C, H, W) → (N, C, H+2p, W+2p).
    /// Backward: the centre crop of dy.
    public static func pad(_ p: Int, value: Float = 0.5) -> ImageOp {
        ImageOp("pad(\(p))") { x, _ in
            let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            var y = Tensor(shape: [n, c, h + 2 * p, w + 2 * p], repeating: value)
            copyWindow(from: x, to: &y, offsets: [(p, p)], intoLarger: true)
            return (y, { dy in
                var dx = Tensor(uninitialized: x.shape)
                copyWindow(from: dy, to: &dx, offsets: [(p, p)], intoLarger: false)
                return dx
            })
        }
    }

    /// A random crop `d` pixels smaller in each direction, offset 0...d per item. (N, C, H, W) → (N, C, H−d, W−d).
    /// Backward: dy placed back at the offset, zeros elsewhere.
    public static func jitter(_ d: Int) -> ImageOp {
        ImageOp("jitter(\(d))") { x, rng in
            let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            precondition(h > d && w > d, "jitter(\(d)): image \(h)x\(w) is too small")
            let offsets = (0 ..< n).map { i in (Int(rng[i].next() % UInt64(d + 1)), Int(rng[i].next() % UInt64(d + 1))) }
            var y = Tensor(uninitialized: [n, c, h - d, w - d])
            copyWindow(from: x, to: &y, offsets: offsets, intoLarger: false)
            return (y, { dy in
                var dx = Tensor(zeros: x.shape)
                copyWindow(from: dy, to: &dx, offsets: offsets, intoLarger: true)
                return dx
            })
        }
    }

    /// A random zoom about the centre by one of `factors` per item (bilinear; outside the image reads `fill`).
    public static func scale(_ factors: [Float], fill: Float = 0.5) -> ImageOp {
        let label = "scale(\(factors.min()!.rounded(2))...\(factors.max()!.rounded(2)))"
        return warp(label, fill: fill) { rng in
            let s = factors[Int(rng.next() % UInt64(factors.count))]
            return (1 / s, 0, 0, 1 / s)
        }
    }

    /// A random rotation about the centre by one of `degrees` per item (bilinear; outside the image reads `fill`).
    public static func rotate(_ degrees: [Float], fill: Float = 0.5) -> ImageOp {
        warp("rotate(\(Int(degrees.min()!))...\(Int(degrees.max()!))°)", fill: fill) { rng in
            let a = degrees[Int(rng.next() % UInt64(degrees.count))] * .pi / 180
            return (cos(a), sin(a), -sin(a), cos(a))
        }
    }

    /// Resamples each item through a 2×2 map about the image centre, drawn per item: the output pixel at offset
    /// (dy, dx) from the centre reads the input at (m00·dy + m01·dx, m10·dy + m11·dx) from the centre, bilinearly;
    /// taps outside the image read `fill`. Same shape out. Backward: each tap's weight times dy, scattered back.
    static func warp(_ name: String, fill: Float, _ draw: @escaping @Sendable (inout PatternRandom) -> (Float, Float, Float, Float)) -> ImageOp {
        ImageOp(name) { x, rng in
            let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]), plane = h * w
            let taps = (0 ..< n).map { i in BilinearTaps(h: h, w: w, map: draw(&rng[i])) }
            var y = Tensor(uninitialized: x.shape)
            x.data.withUnsafeBufferPointer { xp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    for i in 0 ..< n {
                        taps[i].index.withUnsafeBufferPointer { ip in
                            taps[i].weight.withUnsafeBufferPointer { wp in
                                taps[i].outside.withUnsafeBufferPointer { op in
                                    for ch in 0 ..< c {
                                        let src = xp.baseAddress! + (i * c + ch) * plane, dst = yp.baseAddress! + (i * c + ch) * plane
                                        for p in 0 ..< plane {
                                            let k = 4 * p
                                            dst[p] = wp[k] * src[Int(ip[k])] + wp[k + 1] * src[Int(ip[k + 1])]
                                                + wp[k + 2] * src[Int(ip[k + 2])] + wp[k + 3] * src[Int(ip[k + 3])] + op[p] * fill
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return (y, { dy in
                var dx = Tensor(zeros: x.shape)
                dy.data.withUnsafeBufferPointer { gp in
                    dx.data.withUnsafeMutableBufferPointer { dp in
                        for i in 0 ..< n {
                            taps[i].index.withUnsafeBufferPointer { ip in
                                taps[i].weight.withUnsafeBufferPointer { wp in
                                    for ch in 0 ..< c {
                                        let src = gp.baseAddress! + (i * c + ch) * plane, dst = dp.baseAddress! + (i * c + ch) * plane
                                        for p in 0 ..< plane {
                                            let g = src[p], k = 4 * p
                                            dst[Int(ip[k])] += wp[k] * g
                                            dst[Int(ip[k + 1])] += wp[k + 1] * g
                                            dst[Int(ip[k + 2])] += wp[k + 2] * g
                                            dst[Int(ip[k + 3])] += wp[k + 3] * g
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                return dx
            })
        }
    }
}

/// The four bilinear taps of every output pixel of one (H, W) plane. A tap outside the image has weight 0 (and
/// index 0); its weight goes to `outside`, the share of the fill value, so the loops need no branches.
struct BilinearTaps {
    var index: [Int32]                                                    // (H·W·4)
    var weight: [Float]                                                   // (H·W·4)
    var outside: [Float]                                                  // (H·W)

    init(h: Int, w: Int, map m: (Float, Float, Float, Float)) {
        var index = [Int32](repeating: 0, count: h * w * 4), weight = [Float](repeating: 0, count: h * w * 4)
        var outside = [Float](repeating: 0, count: h * w)
        let cy = Float(h - 1) / 2, cx = Float(w - 1) / 2
        index.withUnsafeMutableBufferPointer { ip in
            weight.withUnsafeMutableBufferPointer { wp in
                outside.withUnsafeMutableBufferPointer { op in
                    for oy in 0 ..< h {
                        for ox in 0 ..< w {
                            let (dy, dx) = (Float(oy) - cy, Float(ox) - cx)
                            let sy = cy + m.0 * dy + m.1 * dx, sx = cx + m.2 * dy + m.3 * dx
                            let fy0 = floorf(sy), fx0 = floorf(sx)
                            let fy = sy - fy0, fx = sx - fx0, y0 = Int(fy0), x0 = Int(fx0)
                            let p = oy * w + ox
                            for k in 0 ..< 4 {
                                let (yy, xx) = (y0 + k / 2, x0 + k % 2)
                                let wt = (k / 2 == 0 ? 1 - fy : fy) * (k % 2 == 0 ? 1 - fx : fx)
                                if yy >= 0 && yy < h && xx >= 0 && xx < w { ip[4 * p + k] = Int32(yy * w + xx); wp[4 * p + k] = wt } else { op[p] += wt }
                            }
                        }
                    }
                }
            }
        }
        self.index = index
        self.weight = weight
        self.outside = outside
    }
}

/// Copies between a (N, C, h, w) tensor and windows of a larger (N, C, H, W) one at per-item (top, left)
/// offsets (one offset for all items if only one is given): small → window when `intoLarger`, else window → small.
private func copyWindow(from src: Tensor, to dst: inout Tensor, offsets: [(Int, Int)], intoLarger: Bool) {
    let big = intoLarger ? dst.shape : src.shape, small = intoLarger ? src.shape : dst.shape
    let (n, c, bh, bw, sh, sw) = (big[0], big[1], big[2], big[3], small[2], small[3])
    for i in 0 ..< n {
        let (top, left) = offsets.count == 1 ? offsets[0] : offsets[i]
        for ch in 0 ..< c {
            for r in 0 ..< sh {
                let b = ((i * c + ch) * bh + top + r) * bw + left, s = ((i * c + ch) * sh + r) * sw
                if intoLarger { dst.data.replaceSubrange(b ..< b + sw, with: src.data[s ..< s + sw]) }
                else { dst.data.replaceSubrange(s ..< s + sw, with: src.data[b ..< b + sw]) }
            }
        }
    }
}

extension Float {
    /// Rounded to `digits` decimals, for labels.
    func rounded(_ digits: Int) -> Float {
        let k = pow(10, Float(digits))
        return (self * k).rounded() / k
    }
}
