/// An 8-bit RGB image: rows top to bottom, pixels interleaved R, G, B.
public struct RGBImage: Equatable, Sendable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// Samples, (H, W, 3) row-major.
    public var pixels: [UInt8]

    /// Wraps interleaved RGB samples.
    /// - Parameters:
    ///   - width: pixels per row.
    ///   - height: number of rows.
    ///   - pixels: (H, W, 3) samples; the count must be `width * height * 3`.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3,
                     "RGBImage: \(pixels.count) samples do not fill \(width)x\(height)x3")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A uniformly coloured image.
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        var p = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0 ..< width * height { p[3 * i] = fill.0; p[3 * i + 1] = fill.1; p[3 * i + 2] = fill.2 }
        self.init(width: width, height: height, pixels: p)
    }
}
