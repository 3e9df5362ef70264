import Imaging

/// An RGB image as a figure of its own, one point per pixel, with no margins or text: written as PNG at scale 1 it
/// is the image itself, pixel for pixel (a bare Grad-CAM overlay the size of the model's input).
public struct Picture: Figure {
    public var image: RGBImage
    public init(_ image: RGBImage) { self.image = image }
    public var size: Size { Size(width: Double(image.width), height: Double(image.height)) }
    public func draw(_ c: Canvas) {
        c.image(image, in: Rect(x: 0, y: 0, width: size.width, height: size.height), smooth: false)
    }
}
