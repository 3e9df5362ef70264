import CKernels

/// Zero (or −∞, for max pooling) padding of a 2-D window op, possibly different on each side, as ONNX's
/// pads [top, left, bottom, right] and TensorFlow's SAME padding (which puts the odd pixel at the bottom and right).
public struct Padding: Equatable, Sendable, CustomStringConvertible {
    public var top: Int, left: Int, bottom: Int, right: Int

    public init(top: Int, left: Int, bottom: Int, right: Int) {
        self.top = top
        self.left = left
        self.bottom = bottom
        self.right = right
    }

    /// The same padding on both sides of each axis, as PyTorch's `padding=(h, w)`.
    public init(_ h: Int, _ w: Int) { self.init(top: h, left: w, bottom: h, right: w) }

    /// The same padding on all four sides.
    public init(_ p: Int) { self.init(p, p) }

    public static let zero = Padding(0)

    /// Whether every side has the same padding.
    public var isUniform: Bool { top == left && top == bottom && top == right }
    /// Whether each axis is padded the same at both ends.
    public var isSymmetric: Bool { top == bottom && left == right }

    /// TensorFlow's SAME padding for one axis: the output is ceil(size / stride), and the total padding is split with
    /// the odd pixel at the end (SAME_UPPER) or, with `lower`, at the beginning (ONNX's SAME_LOWER).
    /// - Returns: (begin, end).
    public static func same(_ size: Int, kernel: Int, stride: Int, dilation: Int = 1, lower: Bool = false) -> (Int, Int) {
        let out = (size + stride - 1) / stride
        let total = Swift.max(0, (out - 1) * stride + dilation * (kernel - 1) + 1 - size)
        return lower ? ((total + 1) / 2, total / 2) : (total / 2, (total + 1) / 2)
    }

    public var description: String {
        if isUniform { return "\(top)" }
        if isSymmetric { return "\(top)x\(left)" }
        return "[t\(top) l\(left) b\(bottom) r\(right)]"
    }
}

/// The sizes of one convolution or pooling window over one image: input (C, H, W), kernel, stride, padding
/// (top ph, left pw; the bottom and right padding only change the output size), dilation, and the output (Ho, Wo).
public struct ConvGeometry: Equatable, Sendable {
    public var c: Int, h: Int, w: Int
    public var kh: Int, kw: Int
    public var sh: Int, sw: Int
    public var ph: Int, pw: Int
    public var dh: Int, dw: Int
    public var ho: Int, wo: Int

    /// Rows of the im2col matrix: C·kH·kW.
    @inlinable public var colRows: Int { c * kh * kw }
    /// Columns of the im2col matrix: Ho·Wo.
    @inlinable public var colCols: Int { ho * wo }

    /// Output size of a sliding window, as PyTorch computes it (and ONNX, whose pads may differ at the two ends).
    /// - Parameters:
    ///   - size: input extent. kernel, stride, dilation: the window.
    ///   - padding: at the beginning of the axis; `end` at its end (default: the same).
    ///   - ceil: round up (ceil_mode), keeping the last window starting inside the input or the beginning padding.
    public static func outputSize(_ size: Int, kernel: Int, stride: Int, padding: Int, end: Int? = nil, dilation: Int, ceil: Bool) -> Int {
        let span = size + padding + (end ?? padding) - dilation * (kernel - 1) - 1
        if span < 0 || stride < 1 { return 0 }
        var out = (ceil ? (span + stride - 1) / stride : span / stride) + 1
        if ceil && (out - 1) * stride >= size + padding { out -= 1 }
        return out
    }

    /// The geometry of a window op over an (N, C, H, W) input.
    /// - Parameters:
    ///   - shape: the input shape; `c` is the channels per group (default all).
    ///   - kernel, stride, dilation: (h, w) each. padding: the four sides.
    public static func window(_ shape: [Int], c: Int? = nil, kernel: (Int, Int), stride: (Int, Int), padding: Padding,
                              dilation: (Int, Int), ceil: Bool) -> ConvGeometry {
        let (h, w) = (shape[2], shape[3])
        return ConvGeometry(c: c ?? shape[1], h: h, w: w, kh: kernel.0, kw: kernel.1, sh: stride.0, sw: stride.1,
                            ph: padding.top, pw: padding.left, dh: dilation.0, dw: dilation.1,
                            ho: outputSize(h, kernel: kernel.0, stride: stride.0, padding: padding.top, end: padding.bottom,
                                           dilation: dilation.0, ceil: ceil),
                            wo: outputSize(w, kernel: kernel.1, stride: stride.1, padding: padding.left, end: padding.right,
                                           dilation: dilation.1, ceil: ceil))
    }
}

extension ConvGeometry {
    /// This window as the C kernels take it (convolutions and max-pooling).
    var kernelWindow: ck_window {
        ck_window(c: Int32(c), h: Int32(h), w: Int32(w), kh: Int32(kh), kw: Int32(kw), sh: Int32(sh), sw: Int32(sw),
                  ph: Int32(ph), pw: Int32(pw), dh: Int32(dh), dw: Int32(dw), ho: Int32(ho), wo: Int32(wo))
    }
}

/// im2col and col2im: unfold each kH×kW window of a (C, H, W) image into a column of a (C·kH·kW, Ho·Wo) matrix
/// (zero outside the image), and fold such a matrix back by summing into the image.
enum Im2col {
    /// dst[j] = src[2·j] for j in lo..<hi, four at a time from eight loaded values (a stride-2 row: the stems of
    /// ResNet and EfficientNet, whose unfold otherwise cost as much as their GEMM).
    @inline(__always)
    static func evens(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int) {
        var j = lo
        while j + 4 < hi {                                  // the load reads src[2j ..< 2j + 8], all below 2·hi - 1
            let v = UnsafeRawPointer(src + 2 * j).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(dst + j).storeBytes(of: v.evenHalf, as: SIMD4<Float>.self)
            j += 4
        }
        while j < hi { dst[j] = src[2 * j]; j += 1 }
    }

    /// Fills `cols` (C·kH·kW, Ho·Wo) from `x` (C, H, W).
    /// - Parameter ld: the row stride of `cols` (its width, or more when several images share the matrix).
    /// - Parameter parallel: spread the rows over the cores (off when the caller already runs images in parallel).
    static func unfold(_ g: ConvGeometry, _ x: UnsafePointer<Float>, _ cols: UnsafeMutablePointer<Float>, ld: Int? = nil,
                       parallel: Bool = true) {
        let plane = g.ho * g.wo, ld = ld ?? plane
        // One task per (channel, kernel row), so that an image with few channels (RGB) still fills the cores.
        parallelFor(g.c * g.kh, work: parallel ? g.colRows * plane : 0) { cki in
            let (c, ki) = (cki / g.kh, cki % g.kh)
            do {
                for kj in 0 ..< g.kw {
                    let row = cols + ((c * g.kh + ki) * g.kw + kj) * ld
                    let (lo, hi) = validRange(g, kj)
                    for oh in 0 ..< g.ho {
                        let dst = row + oh * g.wo
                        let ih = oh * g.sh - g.ph + ki * g.dh
                        if ih < 0 || ih >= g.h || lo >= hi {
                            dst.update(repeating: 0, count: g.wo)
                            continue
                        }
                        let src = x + (c * g.h + ih) * g.w + (kj * g.dw - g.pw)
                        if lo > 0 { dst.update(repeating: 0, count: lo) }
                        if g.sw == 1 {
                            (dst + lo).update(from: src + lo, count: hi - lo)
                        } else if g.sw == 2 {
                            Im2col.evens(src, dst, lo, hi)
                        } else {
                            for ow in lo ..< hi { dst[ow] = src[ow * g.sw] }
                        }
                        if hi < g.wo { (dst + hi).update(repeating: 0, count: g.wo - hi) }
                    }
                }
            }
        }
    }

    /// Adds `cols` (C·kH·kW, Ho·Wo) back into `dx` (C, H, W); the caller zeroes `dx` first.
    /// - Parameter ld: the row stride of `cols`.
    static func fold(_ g: ConvGeometry, _ cols: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, ld: Int? = nil,
                     parallel: Bool = true) {
        let plane = g.ho * g.wo, ld = ld ?? plane
        parallelFor(g.c, work: parallel ? g.colRows * plane : 0) { c in
            for ki in 0 ..< g.kh {
                for kj in 0 ..< g.kw {
                    let row = cols + ((c * g.kh + ki) * g.kw + kj) * ld
                    let (lo, hi) = validRange(g, kj)
                    if lo >= hi { continue }
                    for oh in 0 ..< g.ho {
                        let ih = oh * g.sh - g.ph + ki * g.dh
                        if ih < 0 || ih >= g.h { continue }
                        let src = row + oh * g.wo
                        let dst = dx + (c * g.h + ih) * g.w + (kj * g.dw - g.pw)
                        if g.sw == 1 {
                            for ow in lo ..< hi { dst[ow] += src[ow] }
                        } else {
                            for ow in lo ..< hi { dst[ow * g.sw] += src[ow] }
                        }
                    }
                }
            }
        }
    }

    /// The output columns [lo, hi) whose input column for kernel column `kj` lies inside the image.
    @inline(__always)
    static func validRange(_ g: ConvGeometry, _ kj: Int) -> (Int, Int) {
        let off = kj * g.dw - g.pw                 // iw = ow * sw + off
        let lo = off >= 0 ? 0 : (-off + g.sw - 1) / g.sw
        let hi = g.w - off <= 0 ? 0 : Swift.min(g.wo, (g.w - off + g.sw - 1) / g.sw)
        return (Swift.min(lo, g.wo), hi)
    }
}
