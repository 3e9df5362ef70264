import Resampling

extension Heatmap {
    /// Bilinear resampling with half-pixel centres, as `cv2.resize(cam, (W, H))` (INTER_LINEAR) does, which is
    /// how pytorch-grad-cam brings a CAM to the input's size (`Resample.bilinear`).
    /// - Parameters:
    ///   - width: new W.
    ///   - height: new H.
    public func resized(width newW: Int, height newH: Int) -> Heatmap {
        if newW == width && newH == height { return self }
        precondition(width > 0 && height > 0 && newW > 0 && newH > 0, "Heatmap.resized: (\(height), \(width)) -> (\(newH), \(newW))")
        var h = self
        h.values = Resample.bilinear(values, h: height, w: width, outH: newH, outW: newW)   // (newH, newW)
        h.width = newW
        h.height = newH
        return h
    }
}
