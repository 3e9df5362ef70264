extension Heatmap {
    /// Bilinear resampling with half-pixel centres, as `cv2.resize(cam, (W, H))` (INTER_LINEAR) does, which is
    /// how pytorch-grad-cam brings a CAM to the input's size.
    /// - Parameters:
    ///   - width: new W.
    ///   - height: new H.
    public func resized(width newW: Int, height newH: Int) -> Heatmap {
        if newW == width && newH == height { return self }
        precondition(width > 0 && height > 0 && newW > 0 && newH > 0, "Heatmap.resized: (\(height), \(width)) -> (\(newH), \(newW))")
        var out = [Float](repeating: 0, count: newW * newH)  // (newH, newW)
        let sx = Float(width) / Float(newW), sy = Float(height) / Float(newH)
        // Source position and weight of each destination column, computed once.
        var x0 = [Int](repeating: 0, count: newW), x1 = x0, fx = [Float](repeating: 0, count: newW)
        for x in 0 ..< newW {
            let p = min(max((Float(x) + 0.5) * sx - 0.5, 0), Float(width - 1))
            x0[x] = Int(p); x1[x] = min(x0[x] + 1, width - 1); fx[x] = p - Float(x0[x])
        }
        for y in 0 ..< newH {
            let p = min(max((Float(y) + 0.5) * sy - 0.5, 0), Float(height - 1))
            let y0 = Int(p), y1 = min(y0 + 1, height - 1), fy = p - Float(y0)
            for x in 0 ..< newW {
                let a = values[y0 * width + x0[x]], b = values[y0 * width + x1[x]]
                let c = values[y1 * width + x0[x]], d = values[y1 * width + x1[x]]
                let top = a + (b - a) * fx[x], bottom = c + (d - c) * fx[x]
                out[y * newW + x] = top + (bottom - top) * fy
            }
        }
        var h = self
        h.width = newW
        h.height = newH
        h.values = out
        return h
    }
}
