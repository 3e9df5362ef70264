/// How an image of any shape becomes the model's square input.
public enum Fit: String, Sendable, CaseIterable {
    /// torchvision's Resize + CenterCrop: the shorter side resized, then the centre cut out; the sides are lost.
    case crop
    /// Keras's `load_img(path, target_size=(S, S))`: the whole image resized to S x S, its aspect ratio not kept
    /// (with Pillow's bilinear filter; Keras's default is nearest-neighbour).
    case squash
}

/// The part of an original image the model sees, in the original's pixel coordinates (x right, y down, edges of
/// pixels at integers). A crop that pads reaches outside the image.
public struct InputRegion: Sendable, Equatable {
    public var x: Double, y: Double, width: Double, height: Double
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
}

extension Preprocessing {
    /// The fit a preset's models were trained with: squash for Keras's "tf" preset and for Keras models' recipes
    /// (named "keras-…"), crop for torchvision and Caffe.
    public var defaultFit: Fit { name == "tf" || name.hasPrefix("keras-") ? .squash : .crop }

    /// The model's input for `image` with the given fit, and the region of `image` it shows.
    /// - Parameters:
    ///   - image: any size, any aspect ratio.
    ///   - fit: crop (as `prepare(_:)`) or squash.
    /// - Returns: the input, (cropSize, cropWidth) RGB, and where it lies in `image`.
    public func prepare(_ image: RGBImage, fit: Fit) -> (input: RGBImage, region: InputRegion) {
        let region = region(width: image.width, height: image.height, fit: fit)
        switch fit {
        case .crop: return (prepare(image), region)
        case .squash: return (squashed(image), region)
        }
    }

    /// The whole image resized to the model's input, `cropWidth` x `cropSize` (Pillow's bilinear, as `Image.resize`).
    public func squashed(_ image: RGBImage) -> RGBImage {
        if image.width == cropWidth && image.height == cropSize { return image }
        return image.resized(width: cropWidth, height: cropSize, filter: resample)
    }

    /// The region of a `width` x `height` image that `prepare(_:fit:)` shows the model. For a crop it is the centre
    /// square torchvision cuts from the resized image, mapped back through the resize (Pillow maps the whole
    /// image's box onto the whole output, so each axis scales by old / new).
    public func region(width: Int, height: Int, fit: Fit) -> InputRegion {
        let whole = InputRegion(x: 0, y: 0, width: Double(width), height: Double(height))
        guard fit == .crop, !(width == cropWidth && height == cropSize) else { return whole }
        let resized = RGBImage.sizeWithShorterSide(resizeShorterSide, width: width, height: height)
        let sx = Double(width) / Double(resized.width), sy = Double(height) / Double(resized.height)
        let left = RGBImage.centerCropOffset(size: resized.width, crop: cropWidth)
        let top = RGBImage.centerCropOffset(size: resized.height, crop: cropSize)
        return InputRegion(x: Double(left) * sx, y: Double(top) * sy, width: Double(cropWidth) * sx, height: Double(cropSize) * sy)
    }
}
