/// Resizes the trailing axes by nearest or (multi)linear interpolation, as ONNX Resize (opsets 11–21 without roi,
/// cubic or antialias) and Upsample, and torch's F.interpolate(mode='nearest'|'linear'|'bilinear'|'trilinear').
///
/// `sizes` and `scales` list the last k axes (k ≤ rank; ONNX's full lists, with 1 for N and C, work as they are).
/// Output sizes are `sizes`, else floor(in · scale) as ONNX computes them (onnxruntime multiplies in Float32 and
/// truncates; torch's F.interpolate(scale_factor=s) gives the same sizes). Each output coordinate x_out maps to an
/// input coordinate with scale = the given scale, else out / in (onnxruntime's Float32 formulas):
/// - halfPixel: (x_out + 0.5) / scale − 0.5;
/// - pytorchHalfPixel: the same, but 0 when the output axis has length 1;
/// - alignCorners: x_out · (in − 1) / (out − 1), 0 when out = 1;
/// - asymmetric: x_out / scale.
/// Because torch computes the source coordinate with the scale factor it was given (not out / in) unless
/// recompute_scale_factor=True, an export with scales must keep them: Resize(sizes:scales:) takes both.
///
/// nearest rounds that coordinate (roundPreferFloor: halves down, roundPreferCeil: halves up, floor, ceil) and
/// clamps it into the axis; linear clamps it into [0, in − 1] and mixes the two neighbours, y = (1 − λ)·x[i] + λ·x[i+1]
/// with λ = x − i, axis by axis from the last (so bilinear is torch's h0λ·(w0λ·x00 + w1λ·x01) + h1λ·(...)).
/// torch's exports: F.interpolate(mode='nearest') is asymmetric + floor; mode='bilinear' is pytorchHalfPixel
/// (align_corners=False) or alignCorners. The backward is the adjoint of the same interpolation.
public final class Resize: Layer {
    public enum Mode: String, Sendable { case nearest, linear }
    public enum CoordinateTransform: String, Sendable {
        case halfPixel = "half_pixel", pytorchHalfPixel = "pytorch_half_pixel", alignCorners = "align_corners", asymmetric
    }
    public enum NearestMode: String, Sendable {
        case roundPreferFloor = "round_prefer_floor", roundPreferCeil = "round_prefer_ceil", floor, ceil
    }

    /// Output sizes of the last k axes, or nil to take floor(in · scale).
    public let sizes: [Int]?
    /// Scales of the last k axes, used for the coordinates (and the sizes, when `sizes` is nil).
    public let scales: [Float]?
    public let mode: Mode
    public let coordinateTransform: CoordinateTransform
    public let nearestMode: NearestMode

    /// Give `sizes`, `scales` or both (same count). ONNX's defaults: nearest, halfPixel, roundPreferFloor.
    public init(sizes: [Int]? = nil, scales: [Float]? = nil, mode: Mode = .nearest,
                coordinateTransform: CoordinateTransform = .halfPixel, nearestMode: NearestMode = .roundPreferFloor) {
        self.sizes = sizes
        self.scales = scales
        self.mode = mode
        self.coordinateTransform = coordinateTransform
        self.nearestMode = nearestMode
    }

    public var kind: String { "Resize" }
    public var summary: String {
        let rule = mode == .nearest ? "\(coordinateTransform.rawValue), \(nearestMode.rawValue)" : coordinateTransform.rawValue
        return "\(mode.rawValue) (\(rule))" + (sizes.map { ", sizes \($0)" } ?? "") + (scales.map { ", scales \($0)" } ?? "")
    }

    /// One axis's interpolation: output o reads x[i0[o]] (nearest, w1 empty) or w0[o]·x[i0[o]] + w1[o]·x[i1[o]].
    struct AxisMap {
        var i0: [Int] = [], i1: [Int] = [], w0: [Float] = [], w1: [Float] = []
    }

    /// The output shape, checked without allocating.
    func outputSizes(_ shape: [Int]) throws -> [Int] {
        let k = sizes?.count ?? scales?.count ?? 0
        try expect(k > 0, "Resize: neither sizes nor scales given")
        try expect(k <= shape.count, "Resize: \(k) sizes or scales for a rank-\(shape.count) input \(shape)")
        try expect(scales == nil || sizes == nil || scales!.count == sizes!.count, "Resize: sizes \(sizes!) and scales \(scales!) differ in length")
        try expect(scales?.allSatisfy { $0.isFinite && $0 > 0 } ?? true, "Resize: scales \(scales!) must be positive")
        var out = shape
        for j in 0 ..< k {
            let a = shape.count - k + j
            try expect(shape[a] >= 1, "Resize: cannot interpolate the empty axis \(a) of input \(shape)")
            if let s = sizes {
                try expect(s[j] >= 1, "Resize: sizes \(s) must be at least 1")
                out[a] = s[j]
            } else {
                let size = (Float(shape[a]) * scales![j]).rounded(.down)
                try expect(size >= 1 && size < Float(1 << 40), "Resize: scale \(scales![j]) gives \(size) values on axis \(a) of input \(shape)")
                out[a] = Int(size)
            }
        }
        _ = try ShapeMath.count(out, "Resize")
        return out
    }

    /// The output shape and the map of each axis that changes, by axis.
    func plan(_ shape: [Int]) -> (shape: [Int], maps: [Int: AxisMap]) {
        let out = try! outputSizes(shape), k = sizes?.count ?? scales!.count
        var maps: [Int: AxisMap] = [:]
        for j in 0 ..< k {
            let a = shape.count - k + j, n = shape[a]
            let m = map(in: n, out: out[a], scale: scales?[j] ?? Float(out[a]) / Float(n))
            if !(out[a] == n && m.i0 == Array(0 ..< n) && m.w1.allSatisfy { $0 == 0 }) { maps[a] = m }
        }
        return (out, maps)
    }

    /// The interpolation of an axis of `n` inputs onto `out` outputs.
    func map(in n: Int, out: Int, scale: Float) -> AxisMap {
        var m = AxisMap()
        for o in 0 ..< out {
            let xo = Float(o)
            var x: Float
            switch coordinateTransform {
            case .halfPixel: x = (xo + 0.5) / scale - 0.5
            case .pytorchHalfPixel: x = out > 1 ? (xo + 0.5) / scale - 0.5 : 0
            case .alignCorners: x = out == 1 ? 0 : xo * Float(n - 1) / Float(out - 1)
            case .asymmetric: x = xo / scale
            }
            x = Swift.min(Swift.max(x, -1), Float(n))                   // keeps Int(x) defined for any scale
            if mode == .nearest {
                switch nearestMode {
                case .roundPreferFloor: x = (x - 0.5).rounded(.up)
                case .roundPreferCeil: x = (x + 0.5).rounded(.down)
                case .floor: x = x.rounded(.down)
                case .ceil: x = x.rounded(.up)
                }
                m.i0.append(Swift.min(Swift.max(Int(x), 0), n - 1))
            } else {
                x = Swift.min(Swift.max(x, 0), Float(n - 1))
                let i = Int(x), w1 = x - Float(i)
                m.i0.append(i); m.i1.append(Swift.min(i + 1, n - 1)); m.w1.append(w1); m.w0.append(1 - w1)
            }
        }
        return m
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { try outputSizes(inputs[0]) }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let x = inputs[0], (outShape, maps) = plan(x.shape)
        var current = x, shape = x.shape                                 // x with the axes done so far resized
        let order = maps.keys.sorted(by: >)
        if order.isEmpty { y = x; return }
        for (step, a) in order.enumerated() {
            shape[a] = outShape[a]
            var next = Tensor(zeros: [0])
            if step == order.count - 1 { swap(&next, &y) }
            next.prepare(shape)                                          // x resized on axes ≥ a
            Resize.pass(current, &next, axis: a, maps[a]!, adjoint: false)
            if step == order.count - 1 { swap(&next, &y) } else { current = next }
        }
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        let x = inputs[0], (_, maps) = plan(x.shape)
        var grad = dy                                                    // like y, then like x resized on fewer axes
        for a in maps.keys.sorted() {
            var shape = grad.shape
            shape[a] = x.shape[a]
            var next = Tensor(zeros: shape)
            Resize.pass(grad, &next, axis: a, maps[a]!, adjoint: true)
            grad = next
        }
        return [grad]
    }

    /// One axis of the interpolation, y (outer, out, inner) from x (outer, in, inner); or its adjoint, which adds
    /// each output row's gradient into the input rows it read (y zeroed, shaped like the input then).
    static func pass(_ x: Tensor, _ y: inout Tensor, axis: Int, _ m: AxisMap, adjoint: Bool) {
        let big = adjoint ? y.shape : x.shape, small = adjoint ? x.shape : y.shape  // the input side, the output side
        let outer = big[..<axis].reduce(1, *), inner = big[(axis + 1)...].reduce(1, *)
        let n = big[axis], out = small[axis], linear = !m.w1.isEmpty
        x.data.withUnsafeBufferPointer { xb in
            y.data.withUnsafeMutableBufferPointer { yb in
                let (xp, yp) = (xb.baseAddress!, yb.baseAddress!)
                parallelChunks(outer, work: outer * out * inner) { range in
                    for b in range {
                        let src = adjoint ? xp + b * out * inner : xp + b * n * inner
                        let dst = adjoint ? yp + b * n * inner : yp + b * out * inner
                        for o in 0 ..< out {
                            let i0 = m.i0[o] * inner
                            if adjoint {
                                let g = src + o * inner
                                if linear {
                                    let (w0, w1, i1) = (m.w0[o], m.w1[o], m.i1[o] * inner)
                                    for j in 0 ..< inner { dst[i0 + j] += w0 * g[j] }    // two loops: i0 may be i1
                                    for j in 0 ..< inner { dst[i1 + j] += w1 * g[j] }
                                } else {
                                    for j in 0 ..< inner { dst[i0 + j] += g[j] }
                                }
                            } else {
                                let row = dst + o * inner
                                if linear {
                                    let (w0, w1, i1) = (m.w0[o], m.w1[o], m.i1[o] * inner)
                                    for j in 0 ..< inner { row[j] = w0 * src[i0 + j] + w1 * src[i1 + j] }
                                } else {
                                    for j in 0 ..< inner { row[j] = src[i0 + j] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
