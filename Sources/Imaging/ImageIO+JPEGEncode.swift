import CJPEG

extension ImageIO {
    /// The JPEG quality figures are written at: high enough that text and thin lines show no visible ringing.
    public static let defaultJPEGQuality = 92

    /// Encodes an image as a baseline 8-bit RGB JPEG (libjpeg, YCbCr 4:2:0, optimised Huffman tables).
    /// - Parameters:
    ///   - image: the image; each side 1 to 65500 pixels.
    ///   - quality: libjpeg's quality, 1 to 100 (clamped).
    ///   - name: the file name to put in errors.
    public static func encodeJPEG(_ image: RGBImage, quality: Int = defaultJPEGQuality, name: String = "JPEG") throws -> [UInt8] {
        guard (1 ... 65500).contains(image.width), (1 ... 65500).contains(image.height) else {
            throw ImageError(name, .writeFailed, "cannot encode a \(image.width)x\(image.height) image as JPEG (sides 1 to 65500)")
        }
        var message = [CChar](repeating: 0, count: 256)
        var encoded: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let code = image.pixels.withUnsafeBufferPointer { pixels in  // (H, W, 3)
            message.withUnsafeMutableBufferPointer { text in
                cjpeg_encode_rgb8(pixels.baseAddress, UInt32(image.width), UInt32(image.height), Int32(quality),
                                  &encoded, &size, text.baseAddress, text.count)
            }
        }
        defer { cjpeg_free(encoded) }
        guard code == 0, let encoded else {
            let detail = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ImageError(name, code == CJPEG_NO_MEMORY ? .outOfMemory : .writeFailed,
                             "cannot encode JPEG (libjpeg: \(detail))")
        }
        return Array(UnsafeBufferPointer(start: encoded, count: size))
    }
}
