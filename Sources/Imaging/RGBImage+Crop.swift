extension RGBImage {
    /// Cuts the centre out, as torchvision's `transforms.CenterCrop((height, width))` does on a PIL image:
    /// top = int(round((h - th) / 2.0)) with Python's round-half-to-even, left likewise. Where the crop is larger
    /// than the image, torchvision first pads with black, (crop - size) // 2 before; so do we.
    /// - Parameters:
    ///   - width: crop width, at least 1.
    ///   - height: crop height, at least 1.
    public func centerCropped(width cropWidth: Int, height cropHeight: Int) -> RGBImage {
        precondition(cropWidth > 0 && cropHeight > 0, "centerCropped: crop \(cropWidth)x\(cropHeight) must be positive")
        if cropWidth == width && cropHeight == height { return self }
        let top = Self.centerCropOffset(size: height, crop: cropHeight)
        let left = Self.centerCropOffset(size: width, crop: cropWidth)
        return cropped(left: left, top: top, width: cropWidth, height: cropHeight)
    }

    /// A `width` x `height` window whose top-left corner is at (`left`, `top`) in this image; the parts of the window
    /// outside the image are black.
    /// - Parameters:
    ///   - left: first column, may be negative.
    ///   - top: first row, may be negative.
    ///   - width: window width, at least 1.
    ///   - height: window height, at least 1.
    public func cropped(left: Int, top: Int, width cropWidth: Int, height cropHeight: Int) -> RGBImage {
        precondition(cropWidth > 0 && cropHeight > 0, "cropped: window \(cropWidth)x\(cropHeight) must be positive")
        var out = [UInt8](repeating: 0, count: cropWidth * cropHeight * 3)  // (cropH, cropW, 3)
        let x0 = max(0, -left), x1 = min(cropWidth, width - left)  // window columns that fall inside the image
        let y0 = max(0, -top), y1 = min(cropHeight, height - top)   // window rows that fall inside the image
        if x0 < x1 && y0 < y1 {
            for y in y0 ..< y1 {
                let source = ((y + top) * width + x0 + left) * 3
                out.replaceSubrange((y * cropWidth + x0) * 3 ..< (y * cropWidth + x1) * 3,
                                    with: pixels[source ..< source + (x1 - x0) * 3])
            }
        }
        return RGBImage(width: cropWidth, height: cropHeight, pixels: out)
    }

    /// torchvision's centre offset along one side; negative (the padding) when the crop is larger than the image.
    static func centerCropOffset(size: Int, crop: Int) -> Int {
        if crop > size { return -((crop - size) / 2) }
        return Int((Double(size - crop) / 2.0).rounded(.toNearestOrEven))
    }
}
