/// Bilinear resampling of single-channel maps: the package's one resize, shared by the analyses (CAM maps at the
/// input's size, Score-CAM's masks) and the figures (a heatmap over its picture or over the whole photo). It is a
/// target of its own, depending on nothing, because Analysis sits on Engine and Render on Imaging and neither may
/// import the other; Engine's `Resize` is a graph layer with ONNX's coordinate modes, not a map utility.
public enum Resample {
    /// Where one output index reads: the two source indices and the weight of the second.
    public struct Tap: Equatable, Sendable {
        public let i0: Int, i1: Int
        public let t: Float
    }

    /// Resizes an (h, w) map to (outH, outW) bilinearly.
    /// - Parameters:
    ///   - map: (h, w) values, row-major.
    ///   - alignCorners: false gives OpenCV's `cv2.resize(INTER_LINEAR)` (half-pixel centres, edges clamped), which
    ///     pytorch-grad-cam uses to upsample maps; true gives torch's `UpsamplingBilinear2d` (corner pixels aligned),
    ///     which Score-CAM uses to upsample activations.
    /// - Returns: (outH, outW) values.
    public static func bilinear(_ map: [Float], h: Int, w: Int, outH: Int, outW: Int, alignCorners: Bool = false) -> [Float] {
        precondition(map.count == h * w, "Resample.bilinear: \(map.count) values do not fill \(h)x\(w)")
        if h == outH && w == outW { return map }
        return bilinear(map, h: h, w: w, rows: taps(h, outH, alignCorners: alignCorners), columns: taps(w, outW, alignCorners: alignCorners))
    }

    /// Resamples an (h, w) map at the given taps, rows first, then columns, as cv2 does (its horizontal pass
    /// precedes the vertical one).
    /// - Returns: (rows.count, columns.count) values.
    public static func bilinear(_ map: [Float], h: Int, w: Int, rows ys: [Tap], columns xs: [Tap]) -> [Float] {
        precondition(map.count == h * w, "Resample.bilinear: \(map.count) values do not fill \(h)x\(w)")
        let outW = xs.count
        var rows = [Float](repeating: 0, count: h * outW)              // (h, outW)
        for i in 0 ..< h {
            for (j, t) in xs.enumerated() { rows[i * outW + j] = map[i * w + t.i0] * (1 - t.t) + map[i * w + t.i1] * t.t }
        }
        var out = [Float](repeating: 0, count: ys.count * outW)        // (outH, outW)
        for (i, t) in ys.enumerated() {
            for j in 0 ..< outW { out[i * outW + j] = rows[t.i0 * outW + j] * (1 - t.t) + rows[t.i1 * outW + j] * t.t }
        }
        return out
    }

    /// The taps of an axis of `n` values resized to `out`: half-pixel centres (OpenCV) or aligned corners (torch).
    public static func taps(_ n: Int, _ out: Int, alignCorners: Bool = false) -> [Tap] {
        if alignCorners { return taps(n, at: (0 ..< out).map { out > 1 ? Double(Float($0) * Float(n - 1) / Float(out - 1)) : 0 }) }
        return taps(n, at: (0 ..< out).map { Double((Float($0) + 0.5) * Float(n) / Float(out) - 0.5) })
    }

    /// The taps reading an axis of `n` values at source positions (pixel centres at integers), clamped to its ends.
    public static func taps(_ n: Int, at positions: [Double]) -> [Tap] {
        positions.map { s in
            let p = Swift.min(Swift.max(s, 0), Double(n - 1))
            let i0 = Int(p)
            return Tap(i0: i0, i1: Swift.min(i0 + 1, n - 1), t: Float(p - Double(i0)))
        }
    }
}
