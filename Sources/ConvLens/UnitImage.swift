import Analysis
import Engine
import Imaging

/// Photos as `dream` and `style` optimise them: RGB in [0, 1], (1, 3, H, W), seen by the model through its
/// preprocessing (`ImageOp.toModel`).
enum UnitImage {
    /// (1, 3, H, W) RGB in [0, 1].
    static func tensor(_ image: RGBImage) -> Tensor {
        Tensor(shape: [1, 3, image.height, image.width], data: image.planarPixels().map { $0 / 255 })
    }

    /// Item `item` of (N, 3, H, W) RGB in [0, 1] as 8-bit pixels, rounded.
    static func image(_ t: Tensor, item: Int = 0) -> RGBImage {
        let (h, w) = (t.shape[2], t.shape[3]), per = 3 * h * w
        return RGBImage(planar: t.data[item * per ..< (item + 1) * per].map { $0 * 255 }, height: h, width: w)
    }

    /// The size of a photo whose longer side becomes `longerSide` (its own size when nil), to budget before resizing.
    static func size(_ photo: RGBImage, longerSide: Int?) -> (width: Int, height: Int) {
        guard let side = longerSide else { return (photo.width, photo.height) }
        let k = Double(side) / Double(max(photo.width, photo.height))
        return (max(1, Int((Double(photo.width) * k).rounded())), max(1, Int((Double(photo.height) * k).rounded())))
    }

    /// The photo resized with Pillow's bilinear filter, or itself when the size is its own.
    static func resized(_ photo: RGBImage, _ size: (width: Int, height: Int)) -> RGBImage {
        size == (photo.width, photo.height) ? photo : photo.resized(width: size.width, height: size.height)
    }

    /// The model's preprocessing as the last step of the image's way into the network.
    static func toModel(_ lm: LoadedModel) -> [ImageOp] {
        [.toModel(PatternsJob.inputSpace(lm.preprocessing))]
    }
}
