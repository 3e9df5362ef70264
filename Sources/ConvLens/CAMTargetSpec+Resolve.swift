import Analysis
import Imaging

extension CAMTargetSpec {
    /// The target, with a mask file read: 1 where a pixel is not black, 0 elsewhere.
    /// - Throws: an `ImageError` naming a mask file that cannot be read.
    public func resolve() throws -> CAMTarget {
        switch self {
        case let .value(t): return t
        case let .mask(c, file):
            let image = try ImageIO.read(file)
            let values = (0 ..< image.width * image.height).map { p -> Float in       // (H, W)
                image.pixels[3 * p] != 0 || image.pixels[3 * p + 1] != 0 || image.pixels[3 * p + 2] != 0 ? 1 : 0
            }
            return .mask(class: c, CAMTarget.Mask(height: image.height, width: image.width, values: values))
        }
    }
}
