import CJPEG
import CPNG
import Foundation
import Support

/// Reads PNG and JPEG files into `RGBImage` the way PIL's `Image.open(path).convert("RGB")` does, and writes PNG.
///
/// Decoding is a pure function of the bytes: the format is sniffed from them, the header is checked against a pixel
/// limit before any pixel buffer is allocated, and every libpng/libjpeg error or corrupt-data warning comes back as an
/// `ImageError` (the C shims catch libpng's and libjpeg's longjmps). Like PIL's `open` + `convert("RGB")`, decoding
/// ignores EXIF orientation, ICC profiles and gAMA: pixels come out as stored.
public enum ImageIO {
    /// The default pixel limit, 100 MP: about 300 MB of RGB.
    public static let defaultMaxPixels = 100_000_000

    /// Reads PNG or JPEG (sniffed from the bytes, not the extension) into RGB.
    /// - Parameters:
    ///   - path: the file to read; errors name it as given.
    ///   - maxPixels: refuse images with more pixels than this, before decoding them.
    public static func read(_ path: String, maxPixels: Int = defaultMaxPixels) throws -> RGBImage {
        let bytes = try readFile(path, maxPixels: maxPixels)
        return try decode(bytes, name: path, maxPixels: maxPixels)
    }

    /// Decodes PNG or JPEG bytes into RGB.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - name: the file name to put in errors.
    ///   - maxPixels: refuse images with more pixels than this, before decoding them.
    public static func decode(_ bytes: [UInt8], name: String, maxPixels: Int = defaultMaxPixels) throws -> RGBImage {
        let header = try probe(bytes, name: name)
        let sampleCount = try checkedSampleCount(header, name: name, maxPixels: maxPixels)
        let (width, height) = (UInt32(header.width), UInt32(header.height))
        var message = [CChar](repeating: 0, count: 256)
        var code: Int32 = 0
        let pixels = [UInt8](unsafeUninitializedCapacity: sampleCount) { out, initialized in  // (H, W, 3)
            code = bytes.withUnsafeBufferPointer { data in
                message.withUnsafeMutableBufferPointer { text in
                    switch header.format {
                    case .png:
                        cpng_decode_rgb8(data.baseAddress, data.count, width, height, out.baseAddress,
                                         text.baseAddress, text.count)
                    case .jpeg:
                        cjpeg_decode_rgb8(data.baseAddress, data.count, width, height, out.baseAddress,
                                          text.baseAddress, text.count)
                    }
                }
            }
            initialized = code == 0 ? sampleCount : 0
        }
        guard code == 0 else {
            let png = header.format == .png
            let (truncated, noMemory) = png ? (CPNG_TRUNCATED, CPNG_NO_MEMORY) : (CJPEG_TRUNCATED, CJPEG_NO_MEMORY)
            let (format, detail) = (header.format.rawValue, "\(png ? "libpng" : "libjpeg"): \(string(message))")
            switch Int(code) {
            case Int(truncated): throw ImageError(name, .truncated, "truncated \(format) (\(detail))")
            case Int(noMemory): throw ImageError(name, .outOfMemory, "out of memory decoding \(format) (\(detail))")
            case Int(CPNG_EXTRA_DATA) where png:
                throw ImageError(name, .corrupt, "corrupt PNG (\(string(message)); a real encoder ends them there)")
            case Int(CJPEG_UNSUPPORTED) where !png: throw ImageError(name, .unsupported, "unsupported JPEG (\(detail))")
            case Int(CJPEG_TOO_MANY_SCANS) where !png:
                throw ImageError(name, .corrupt, "corrupt JPEG (more than \(CJPEG_MAX_SCANS) scans; real photos have about 10)")
            default: throw ImageError(name, .corrupt, "corrupt \(format) (\(detail))")
            }
        }
        return RGBImage(width: header.width, height: header.height, pixels: pixels)
    }

    /// Encodes an image as an 8-bit RGB PNG (libpng's default compression and filters).
    /// - Parameters:
    ///   - image: the image; it must have at least one pixel.
    public static func encodePNG(_ image: RGBImage) throws -> [UInt8] {
        try encodePNG(image, name: "PNG")
    }

    /// Writes an image as an 8-bit RGB PNG; readers never see a half-written file (temporary file, then rename).
    /// - Parameters:
    ///   - image: the image; it must have at least one pixel.
    ///   - path: the destination; its directory must exist.
    public static func writePNG(_ image: RGBImage, to path: String) throws {
        let bytes = try encodePNG(image, name: path)
        do {
            try AtomicFile.write(bytes, to: path)
        } catch let error as FileError {
            throw ImageError(path, .writeFailed, error.message)
        }
    }

    static func encodePNG(_ image: RGBImage, name: String) throws -> [UInt8] {
        guard (1 ... 0x7FFF_FFFF).contains(image.width), (1 ... 0x7FFF_FFFF).contains(image.height) else {
            throw ImageError(name, .writeFailed, "cannot encode a \(image.width)x\(image.height) image as PNG")
        }
        var message = [CChar](repeating: 0, count: 256)
        var encoded: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let code = image.pixels.withUnsafeBufferPointer { pixels in
            message.withUnsafeMutableBufferPointer { text in
                cpng_encode_rgb8(pixels.baseAddress, UInt32(image.width), UInt32(image.height), &encoded, &size,
                                 text.baseAddress, text.count)
            }
        }
        defer { cpng_free(encoded) }
        guard code == 0, let encoded else {
            throw ImageError(name, code == CPNG_NO_MEMORY ? .outOfMemory : .writeFailed,
                             "cannot encode PNG (libpng: \(string(message)))")
        }
        return Array(UnsafeBufferPointer(start: encoded, count: size))
    }

    /// The whole file, through the input boundary: a regular file no larger than an image within the pixel limit
    /// can be. What its first 64 KiB already condemn (not an image, a size above the limit) is refused without
    /// reading on; a head that ends before the size is known (a JPEG's metadata can pass 64 KiB) is judged later,
    /// on the whole file.
    /// - Parameters:
    ///   - path: the file.
    ///   - maxPixels: the pixel limit, which also caps the file's size.
    static func readFile(_ path: String, maxPixels: Int) throws -> [UInt8] {
        do {
            return try InputFile.read(path, as: .image(maxPixels: maxPixels)) { head in
                do {
                    _ = try checkedSampleCount(probe(Array(head), name: path), name: path, maxPixels: maxPixels)
                } catch let error as ImageError where error.kind == .truncated {}
            }
        } catch let error as InputFileError {
            let kinds: [InputFileError.Reason: ImageError.Kind] = [.missing: .missing, .tooLarge: .tooLarge]
            throw ImageError(path, kinds[error.reason] ?? .unreadable, error.problem)
        }
    }

    private static func string(_ cString: [CChar]) -> String {
        String(decoding: cString.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
