// Bilinear and bicubic resize, bit-exact with Pillow 13 `Image.resize((w, h), Image.BILINEAR)` (or `Image.BICUBIC`)
// on an RGB image (and with Pillow 7-12 wherever their pass order agrees, see 3. below).
//
// Pillow's libImaging/Resample.c, 8-bit path, which this file follows step by step:
//   1. per output sample, weights of a triangle filter (bilinear; Keys' cubic with a = -0.5 for bicubic) whose support
//      grows with the downscale factor (support = 1 or 2 times max(in / out, 1), so downscaling averages,
//      "antialiased"), normalised to sum 1
//      (precompute_coeffs), then rounded to fixed point with 22 fractional bits (normalize_coeffs_8bpc);
//   2. two passes, each skipped when its side is unchanged, with an 8-bit intermediate image between them;
//   3. horizontal pass first, except when the height shrinks by more than twice as many pixels as the width
//      ((h - newH) > 0 and (h - newH) > 2 * (w - newW)): then vertical first. That exception is Pillow 13's
//      (ImagingResampleInner, "run the vertical pass first, to make the horizontal pass faster"); Pillow 7 to 12
//      always go horizontal first, so for such sizes (tall photos, squashing resizes) their output differs from
//      Pillow 13's, and ours, by rounding. Aspect-preserving resizes of images less than about 2:1 tall agree in all.
// Each sum starts at 1 << 21 (one half), is shifted right by 22 and clipped to 0...255 (bicubic's negative lobes
// can take it outside).

/// The resampling filter of a resize, as Pillow names them.
public enum Resampling: String, Sendable {
    case bilinear, bicubic

    /// How far the filter reaches, in input samples at scale 1.
    var support: Double { self == .bilinear ? 1 : 2 }

    /// Pillow's bilinear_filter (1 - |x| inside (-1, 1)) and bicubic_filter (Keys' cubic convolution, a = -0.5).
    func weight(_ x: Double) -> Double {
        let x = abs(x)
        switch self {
        case .bilinear: return x < 1.0 ? 1.0 - x : 0.0
        case .bicubic:
            let a = -0.5
            if x < 1.0 { return ((a + 2.0) * x - (a + 3.0)) * x * x + 1 }
            if x < 2.0 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0.0
        }
    }
}

/// One axis of Pillow's resampling: which input samples each output sample reads, and with what weight.
struct ResampleAxis {
    static let precisionBits = 22  // Pillow's PRECISION_BITS = 32 - 8 - 2
    /// Coefficient slots per output sample (Pillow's ksize); `count` of them are used.
    let taps: Int
    /// (out) first input index read by each output sample.
    private(set) var first: [Int]
    /// (out) number of input samples read by each output sample.
    let count: [Int]
    /// (out, taps) fixed-point weights, `precisionBits` fractional bits.
    let weights: [Int32]

    /// Pillow's precompute_coeffs + normalize_coeffs_8bpc for the whole axis (box 0...inSize), or for a window of
    /// its outputs: output `outputs.lowerBound + i` of the full axis is stored as output `i`.
    /// - Parameters:
    ///   - inSize: input samples along the axis.
    ///   - outSize: output samples along the full axis.
    ///   - outputs: the outputs wanted, a subrange of 0..<outSize; all of them when nil.
    ///   - filter: the resampling filter.
    init(inSize: Int, outSize: Int, outputs: Range<Int>? = nil, filter: Resampling = .bilinear) {
        let outputs = outputs ?? 0 ..< outSize
        // Pillow passes the box edges as C floats: (in1 - in0) is a float, then widened to double.
        let scale = Double(Float(inSize)) / Double(outSize)
        let filterScale = max(scale, 1.0)
        let support = filter.support * filterScale
        let taps = Int(support.rounded(.up)) * 2 + 1
        let inverseScale = 1.0 / filterScale
        var first = [Int](repeating: 0, count: outputs.count)
        var count = [Int](repeating: 0, count: outputs.count)
        var weights = [Int32](repeating: 0, count: outputs.count * taps)  // (outputs, taps)
        var k = [Double](repeating: 0, count: taps)
        for (j, xx) in outputs.enumerated() {
            let center = (Double(xx) + 0.5) * scale
            let xmin = max(Int(center - support + 0.5), 0)        // C's (int) truncates toward zero
            let xmax = min(Int(center + support + 0.5), inSize) - xmin
            var sum = 0.0
            for x in 0 ..< xmax {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * inverseScale)
                k[x] = w
                sum += w
            }
            for x in 0 ..< xmax {
                let w = sum != 0 ? k[x] / sum : k[x]
                let fixed = w * Double(1 << Self.precisionBits)
                weights[j * taps + x] = Int32(w < 0 ? fixed - 0.5 : fixed + 0.5)
            }
            first[j] = xmin
            count[j] = xmax
        }
        self.taps = taps
        self.first = first
        self.count = count
        self.weights = weights
    }

    /// The input samples the outputs read, first to last.
    var inputSpan: Range<Int> {
        let used = first.indices.filter { count[$0] > 0 }
        guard let lo = used.map({ first[$0] }).min(), let hi = used.map({ first[$0] + count[$0] }).max() else {
            return first[0] ..< first[0] + 1
        }
        return lo ..< hi
    }

    /// The same axis reading from an input that starts `offset` samples later (a crop of the original).
    func reading(from offset: Int) -> ResampleAxis {
        var axis = self
        axis.first = first.map { $0 - offset }
        return axis
    }

    /// Pillow's clip8: drop the fraction, clamp to a byte.
    @inline(__always)
    static func clip(_ sum: Int32) -> UInt8 { UInt8(clamping: sum >> Int32(precisionBits)) }
}

extension RGBImage {
    /// Resizes with Pillow's BILINEAR (or BICUBIC) filter, bit-exact with `Image.resize((width, height), Image.BILINEAR)`
    /// in Pillow 13 (and in Pillow 7 to 12 except where Pillow 13 changed the pass order; see the top of this file).
    /// Downscaling widens the filter, so it averages instead of skipping pixels.
    /// - Parameters:
    ///   - width: output width, at least 1.
    ///   - height: output height, at least 1.
    ///   - filter: the resampling filter.
    public func resized(width newWidth: Int, height newHeight: Int, filter: Resampling = .bilinear) -> RGBImage {
        resized(width: newWidth, height: newHeight, columns: 0 ..< newWidth, rows: 0 ..< newHeight, filter: filter)
    }

    /// The window `columns` x `rows` of `resized(width:height:)`, bit-exact, computed without the rest of the resized
    /// image: each pass evaluates only the output samples the window needs.
    /// - Parameters:
    ///   - width: width of the whole resized image, at least 1.
    ///   - height: height of the whole resized image, at least 1.
    ///   - columns: the window's columns, a non-empty subrange of 0..<width.
    ///   - rows: the window's rows, a non-empty subrange of 0..<height.
    ///   - filter: the resampling filter.
    public func resized(width newWidth: Int, height newHeight: Int, columns: Range<Int>, rows: Range<Int>,
                        filter: Resampling = .bilinear) -> RGBImage {
        precondition(newWidth > 0 && newHeight > 0, "resized: target \(newWidth)x\(newHeight) must be at least 1x1")
        precondition(width > 0 && height > 0, "resized: cannot resize an empty \(width)x\(height) image")
        precondition(!columns.isEmpty && !rows.isEmpty && columns.clamped(to: 0 ..< newWidth) == columns
                     && rows.clamped(to: 0 ..< newHeight) == rows,
                     "resized: window \(columns) x \(rows) is not inside \(newWidth)x\(newHeight)")
        // The window's outputs on each axis (none where the side keeps its size), and the input samples they read:
        // each pass is independent across the other axis, so the input can be cut to those first, exactly.
        let horizontal = newWidth != width ? ResampleAxis(inSize: width, outSize: newWidth, outputs: columns, filter: filter) : nil
        let vertical = newHeight != height ? ResampleAxis(inSize: height, outSize: newHeight, outputs: rows, filter: filter) : nil
        let xs = horizontal?.inputSpan ?? columns, ys = vertical?.inputSpan ?? rows
        var image = xs == 0 ..< width && ys == 0 ..< height
            ? self : cropped(left: xs.lowerBound, top: ys.lowerBound, width: xs.count, height: ys.count)
        let h = horizontal?.reading(from: xs.lowerBound), v = vertical?.reading(from: ys.lowerBound)
        if Self.verticalPassFirst(from: (width, height), to: (newWidth, newHeight)) {
            if let v { image = image.resampledVertically(v) }
            if let h { image = image.resampledHorizontally(h) }
        } else {
            if let h { image = image.resampledHorizontally(h) }
            if let v { image = image.resampledVertically(v) }
        }
        return image
    }

    /// Resizes so the shorter side becomes `size`, as torchvision's `transforms.Resize(size)` does on a PIL image:
    /// the long side becomes `int(size * long / short)` and the resampling is Pillow's BILINEAR (or `filter`).
    /// - Parameters:
    ///   - size: the new length of the shorter side. An image already that size comes back unchanged.
    ///   - filter: the resampling filter.
    public func resizedShorterSide(to size: Int, filter: Resampling = .bilinear) -> RGBImage {
        let (newWidth, newHeight) = sizeWithShorterSide(size)
        if newWidth == width && newHeight == height { return self }
        return resized(width: newWidth, height: newHeight, filter: filter)
    }

    /// `resizedShorterSide(to: size).centerCropped(width: crop, height: crop)`, bit-exact, computing only the pixels
    /// the crop keeps: a 1x100000 strip (a few hundred bytes of PNG) would otherwise become a 227x22700000 image.
    /// - Parameters:
    ///   - size: the new length of the shorter side.
    ///   - crop: the side of the square centre crop, at least 1.
    ///   - filter: the resampling filter.
    public func resizedShorterSide(to size: Int, centerCropped crop: Int, filter: Resampling = .bilinear) -> RGBImage {
        resizedShorterSide(to: size, centerCropped: crop, height: crop, filter: filter)
    }

    /// `resizedShorterSide(to: size).centerCropped(width: cropWidth, height: cropHeight)`, for models whose input is
    /// not square; bit-exact, computing only the pixels the crop keeps.
    public func resizedShorterSide(to size: Int, centerCropped cropWidth: Int, height cropHeight: Int,
                                   filter: Resampling = .bilinear) -> RGBImage {
        precondition(cropWidth > 0 && cropHeight > 0, "resizedShorterSide: crop \(cropWidth)x\(cropHeight) must be positive")
        let (w, h) = sizeWithShorterSide(size)
        if w == width && h == height { return centerCropped(width: cropWidth, height: cropHeight) }
        let left = Self.centerCropOffset(size: w, crop: cropWidth), top = Self.centerCropOffset(size: h, crop: cropHeight)
        let columns = max(left, 0) ..< min(left + cropWidth, w), rows = max(top, 0) ..< min(top + cropHeight, h)
        let part = resized(width: w, height: h, columns: columns, rows: rows, filter: filter)
        if part.width == cropWidth && part.height == cropHeight { return part }
        return part.cropped(left: left - columns.lowerBound, top: top - rows.lowerBound, width: cropWidth, height: cropHeight)
    }

    /// The size torchvision's `Resize(size)` gives: the shorter side `size`, the longer `int(size * long / short)`.
    func sizeWithShorterSide(_ size: Int) -> (width: Int, height: Int) {
        Self.sizeWithShorterSide(size, width: width, height: height)
    }

    /// `sizeWithShorterSide` for an image of `width` x `height`.
    static func sizeWithShorterSide(_ size: Int, width: Int, height: Int) -> (width: Int, height: Int) {
        precondition(size > 0, "resizedShorterSide: size \(size) must be positive")
        let (short, long) = width <= height ? (width, height) : (height, width)
        // Python's int(size * long / short): exact product, correctly rounded true division, truncation.
        let newLong = Int(Double(size * long) / Double(short))
        return width <= height ? (size, newLong) : (newLong, size)
    }

    /// Pillow 13's pass order: vertical first when the height loses more than twice as many pixels as the width.
    static func verticalPassFirst(from old: (width: Int, height: Int), to new: (width: Int, height: Int)) -> Bool {
        let (dh, dw) = (old.height - new.height, old.width - new.width)
        return dh > 0 && dh > dw * 2
    }

    /// Pillow's ImagingResampleHorizontal_8bpc: every row, one output column per entry of `axis`.
    func resampledHorizontally(_ axis: ResampleAxis) -> RGBImage {
        let newWidth = axis.first.count
        let (rows, inWidth, taps) = (height, width, axis.taps)
        var out = [UInt8](repeating: 0, count: rows * newWidth * 3)  // (H, newW, 3)
        let half = Int32(1 << (ResampleAxis.precisionBits - 1))
        pixels.withUnsafeBufferPointer { src in  // (H, W, 3)
        out.withUnsafeMutableBufferPointer { dst in
        axis.weights.withUnsafeBufferPointer { kk in  // (newW, taps)
        axis.first.withUnsafeBufferPointer { first in
        axis.count.withUnsafeBufferPointer { count in
            for y in 0 ..< rows {
                let srcRow = src.baseAddress! + y * inWidth * 3
                let dstRow = dst.baseAddress! + y * newWidth * 3
                for xx in 0 ..< newWidth {
                    let k = kk.baseAddress! + xx * taps
                    var p = srcRow + first[xx] * 3
                    var (s0, s1, s2) = (half, half, half)
                    for x in 0 ..< count[xx] {
                        let w = k[x]
                        s0 &+= Int32(p[0]) &* w
                        s1 &+= Int32(p[1]) &* w
                        s2 &+= Int32(p[2]) &* w
                        p += 3
                    }
                    dstRow[xx * 3] = ResampleAxis.clip(s0)
                    dstRow[xx * 3 + 1] = ResampleAxis.clip(s1)
                    dstRow[xx * 3 + 2] = ResampleAxis.clip(s2)
                }
            }
        }}}}}
        return RGBImage(width: newWidth, height: rows, pixels: out)
    }

    /// Pillow's ImagingResampleVertical_8bpc: every column, one output row per entry of `axis`. The sums run over
    /// whole rows at a time (same integer sums as Pillow's per-pixel loop, in an order that reads memory in sequence).
    func resampledVertically(_ axis: ResampleAxis) -> RGBImage {
        let newHeight = axis.first.count
        let (rowLength, taps) = (width * 3, axis.taps)
        var out = [UInt8](repeating: 0, count: newHeight * rowLength)  // (newH, W, 3)
        var sums = [Int32](repeating: 0, count: rowLength)            // (W, 3) one output row in fixed point
        let half = Int32(1 << (ResampleAxis.precisionBits - 1))
        pixels.withUnsafeBufferPointer { src in  // (H, W, 3)
        out.withUnsafeMutableBufferPointer { dst in
        sums.withUnsafeMutableBufferPointer { acc in
        axis.weights.withUnsafeBufferPointer { kk in  // (newH, taps)
            for yy in 0 ..< newHeight {
                for i in 0 ..< rowLength { acc[i] = half }
                for y in 0 ..< axis.count[yy] {
                    let w = kk[yy * taps + y]
                    let row = src.baseAddress! + (axis.first[yy] + y) * rowLength
                    for i in 0 ..< rowLength { acc[i] &+= Int32(row[i]) &* w }
                }
                let dstRow = dst.baseAddress! + yy * rowLength
                for i in 0 ..< rowLength { dstRow[i] = ResampleAxis.clip(acc[i]) }
            }
        }}}}
        return RGBImage(width: width, height: newHeight, pixels: out)
    }
}
