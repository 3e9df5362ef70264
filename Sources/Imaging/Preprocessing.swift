// Shapes: images are (H, W, 3) UInt8 RGB; pixel planes and tensors are (3, H, W) Float32, one channel after another.

/// A model's input recipe: resize the shorter side (bilinear or bicubic), centre-crop, scale, channel order, mean/std.
///
/// In the model's input space a value is `(pixel * scale - mean[c]) / std[c]`, with `pixel` in 0...255 and `c`
/// counted in the tensor's channel order (B, G, R when `bgr`).
public struct Preprocessing: Sendable, Equatable {
    /// "caffe", "torchvision", "tf", "efficientnet-lite".
    public var name: String
    /// The shorter side after resizing (torchvision's `Resize(n)`).
    public var resizeShorterSide: Int
    /// The height of the centre crop (its side, for the zoo's square inputs).
    public var cropSize: Int
    /// The filter of the resize (Pillow's).
    public var resample: Resampling
    /// The width of the centre crop: `cropSize` unless the model's input is not square.
    public var cropWidth: Int
    /// Channel order of the tensor: B, G, R when true.
    public var bgr: Bool
    /// Applied to 0...255 pixel values first.
    public var scale: Float
    /// (3) subtracted after scaling, in the tensor's channel order.
    public var mean: [Float]
    /// (3) divided after that, in the tensor's channel order.
    public var std: [Float]

    public init(name: String, resizeShorterSide: Int, cropSize: Int, cropWidth: Int? = nil, resample: Resampling = .bilinear, bgr: Bool,
                scale: Float, mean: [Float], std: [Float]) {
        precondition(mean.count == 3 && std.count == 3, "Preprocessing: mean and std need 3 values each")
        self.name = name
        self.resizeShorterSide = resizeShorterSide
        self.cropSize = cropSize
        self.resample = resample
        self.cropWidth = cropWidth ?? cropSize
        self.bgr = bgr
        self.scale = scale
        self.mean = mean
        self.std = std
    }

    /// Caffe models (SqueezeNet): BGR, 0...255 minus the ImageNet mean pixel (B, G, R), 227 x 227.
    public static let caffe = Preprocessing(name: "caffe", resizeShorterSide: 227, cropSize: 227, bgr: true, scale: 1,
                                            mean: [104.006, 116.669, 122.679], std: [1, 1, 1])
    /// torchvision models: RGB, `ToTensor()` (/255) then `Normalize` with the ImageNet statistics, 256 -> 224.
    public static let torchvision = Preprocessing(name: "torchvision", resizeShorterSide: 256, cropSize: 224,
                                                  bgr: false, scale: 1 / 255, mean: [0.485, 0.456, 0.406],
                                                  std: [0.229, 0.224, 0.225])
    /// Keras "tf" mode: x / 127.5 - 1, RGB, 224 x 224.
    public static let tf = Preprocessing(name: "tf", resizeShorterSide: 224, cropSize: 224, bgr: false,
                                         scale: 1 / 127.5, mean: [1, 1, 1], std: [1, 1, 1])
    /// EfficientNet-Lite as TensorFlow's eval pipeline feeds it (efficientnet/lite: MEAN_RGB 127, STDDEV_RGB 128 in
    /// pixel units; preprocessing.py's centre crop of 224 / (224 + 32) of the shorter side, resized BICUBIC), done
    /// the torchvision way: shorter side to 256 with Pillow's BICUBIC, centre crop 224. EfficientNet-Lite-PyTorch
    /// itself ships no preprocessing (its docstring's ImageNet mean/std is not what the weights were trained with).
    public static let efficientNetLite = Preprocessing(name: "efficientnet-lite", resizeShorterSide: 256, cropSize: 224, resample: .bicubic,
                                                       bgr: false, scale: 1, mean: [127, 127, 127], std: [128, 128, 128])
    /// Pixels / 255 and nothing else (no mean, no std), for models that normalise inside; 224 x 224.
    public static let raw = Preprocessing(name: "raw", resizeShorterSide: 224, cropSize: 224, bgr: false,
                                          scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1])
    /// Every preset, in the order they are listed to users.
    public static let presets = [caffe, torchvision, tf, raw, efficientNetLite]

    /// The same recipe for a model input of `height` x `width`: the crop takes that size, and the shorter side is
    /// resized in the preset's proportion to the longer crop side (torchvision's 256 for 224 becomes 110 for 96), so
    /// the crop always fits.
    public func sized(height: Int, width: Int) -> Preprocessing {
        var p = self
        p.cropSize = height
        p.cropWidth = width
        p.resizeShorterSide = Int((Double(Swift.max(height, width)) * Double(resizeShorterSide) / Double(cropSize)).rounded())
        return p
    }

    /// The preset called `name`.
    /// - Parameters:
    ///   - name: "caffe", "torchvision", "tf" or "efficientnet-lite".
    public static func named(_ name: String) throws -> Preprocessing {
        guard let preset = presets.first(where: { $0.name == name }) else {
            throw PreprocessingError(message: "unknown preprocessing '\(name)'; valid names are: "
                + presets.map(\.name).joined(separator: ", "))
        }
        return preset
    }

    /// Resizes the shorter side to `resizeShorterSide` with `resample`, then centre-crops `cropSize` x `cropSize`
    /// (torchvision's Resize + CenterCrop on a PIL image), computing only the pixels the crop keeps. An image already
    /// `cropSize` x `cropSize` passes through untouched, and one whose shorter side is already `resizeShorterSide`
    /// is only cropped.
    /// - Parameters:
    ///   - image: any size, any aspect ratio.
    public func prepare(_ image: RGBImage) -> RGBImage {
        if image.width == cropWidth && image.height == cropSize { return image }
        return image.resizedShorterSide(to: resizeShorterSide, centerCropped: cropWidth, height: cropSize, filter: resample)
    }

    /// The model input for an already prepared image.
    /// - Parameters:
    ///   - image: (H, W, 3), usually the output of `prepare`.
    /// - Returns: (3, H, W) in the model's input space and channel order.
    public func tensor(_ image: RGBImage) -> [Float] {
        tensor(pixels: image.planarPixels(), height: image.height, width: image.width)
    }

    /// The model input for float pixel values (noise images, optimised images).
    /// - Parameters:
    ///   - pixels: (3, H, W) RGB values on the 0...255 scale; not clamped.
    ///   - height: H.
    ///   - width: W.
    /// - Returns: (3, H, W) in the model's input space and channel order.
    public func tensor(pixels: [Float], height: Int, width: Int) -> [Float] {
        let plane = height * width
        precondition(pixels.count == 3 * plane, "tensor: \(pixels.count) values do not fill (3, \(height), \(width))")
        var out = [Float](repeating: 0, count: 3 * plane)  // (3, H, W) tensor channel order
        for c in 0 ..< 3 {
            let source = (bgr ? 2 - c : c) * plane  // RGB plane feeding tensor channel c
            let (m, s, k) = (mean[c], std[c], scale)
            for i in 0 ..< plane { out[c * plane + i] = (pixels[source + i] * k - m) / s }
        }
        return out
    }

    /// The inverse of `tensor`: from model space back to RGB pixel values.
    /// - Parameters:
    ///   - tensor: (3, H, W) in the model's input space and channel order.
    ///   - height: H.
    ///   - width: W.
    /// - Returns: (3, H, W) RGB on the 0...255 scale, not clamped.
    public func pixels(_ tensor: [Float], height: Int, width: Int) -> [Float] {
        let plane = height * width
        precondition(tensor.count == 3 * plane, "pixels: \(tensor.count) values do not fill (3, \(height), \(width))")
        var out = [Float](repeating: 0, count: 3 * plane)  // (3, H, W) RGB
        for c in 0 ..< 3 {
            let target = (bgr ? 2 - c : c) * plane
            let (m, s, k) = (mean[c], std[c], scale)
            for i in 0 ..< plane { out[target + i] = (tensor[c * plane + i] * s + m) / k }
        }
        return out
    }

    /// The inverse of `tensor` as an image: pixel values rounded half to even (like numpy's round) and clamped to
    /// 0...255; NaN becomes 0.
    /// - Parameters:
    ///   - tensor: (3, H, W) in the model's input space and channel order.
    ///   - height: H.
    ///   - width: W.
    public func image(_ tensor: [Float], height: Int, width: Int) -> RGBImage {
        RGBImage(planar: pixels(tensor, height: height, width: width), height: height, width: width)
    }
}

/// A preprocessing name that is not one of the presets.
public struct PreprocessingError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

extension RGBImage {
    /// The samples as float planes.
    /// - Returns: (3, H, W) R, G, B values 0...255.
    public func planarPixels() -> [Float] {
        let plane = width * height
        var out = [Float](repeating: 0, count: 3 * plane)  // (3, H, W)
        pixels.withUnsafeBufferPointer { src in  // (H, W, 3)
            for i in 0 ..< plane {
                out[i] = Float(src[3 * i])
                out[plane + i] = Float(src[3 * i + 1])
                out[2 * plane + i] = Float(src[3 * i + 2])
            }
        }
        return out
    }

    /// An image from float planes, rounded half to even and clamped to 0...255; NaN becomes 0.
    /// - Parameters:
    ///   - planar: (3, H, W) R, G, B values on the 0...255 scale.
    ///   - height: H.
    ///   - width: W.
    public init(planar: [Float], height: Int, width: Int) {
        let plane = width * height
        precondition(planar.count == 3 * plane, "RGBImage(planar:): \(planar.count) values do not fill (3, \(height), \(width))")
        var out = [UInt8](repeating: 0, count: 3 * plane)  // (H, W, 3)
        for c in 0 ..< 3 {
            for i in 0 ..< plane {
                let v = planar[c * plane + i]
                out[3 * i + c] = v.isNaN ? 0 : UInt8(min(max(v.rounded(.toNearestOrEven), 0), 255))
            }
        }
        self.init(width: width, height: height, pixels: out)
    }
}
