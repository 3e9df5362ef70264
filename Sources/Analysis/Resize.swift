/// Bilinear resampling of single-channel maps, in the two conventions the references use.
public enum Resample {
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
        let ys = taps(h, outH, alignCorners), xs = taps(w, outW, alignCorners)
        var out = [Float](repeating: 0, count: outH * outW)
        // Interpolate rows first, then columns, as cv2 does (its horizontal pass precedes the vertical one).
        var rows = [Float](repeating: 0, count: h * outW)             // (h, outW)
        for i in 0 ..< h {
            for (j, t) in xs.enumerated() {
                rows[i * outW + j] = map[i * w + t.0] * (1 - t.2) + map[i * w + t.1] * t.2
            }
        }
        for (i, t) in ys.enumerated() {
            for j in 0 ..< outW {
                out[i * outW + j] = rows[t.0 * outW + j] * (1 - t.2) + rows[t.1 * outW + j] * t.2
            }
        }
        return out
    }

    /// For each output index: the two source indices and the weight of the second.
    static func taps(_ n: Int, _ out: Int, _ alignCorners: Bool) -> [(Int, Int, Float)] {
        (0 ..< out).map { d in
            var s: Float
            if alignCorners {
                s = out > 1 ? Float(d) * Float(n - 1) / Float(out - 1) : 0
            } else {
                s = (Float(d) + 0.5) * Float(n) / Float(out) - 0.5
            }
            var i0 = Int(s.rounded(.down))
            var f = s - Float(i0)
            if i0 < 0 { i0 = 0; f = 0 }
            if i0 >= n - 1 { i0 = n - 1; f = 0 }
            return (i0, Swift.min(i0 + 1, n - 1), f)
        }
    }
}
