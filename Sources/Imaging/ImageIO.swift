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
        let bytes = try readFile(path) { head in
            // What the first bytes already condemn (not an image, above the limit) is refused without reading on.
            do {
                _ = try checkedSampleCount(probe(head, name: path), name: path, maxPixels: maxPixels)
            } catch let error as ImageError where error.kind != .truncated {
                throw error
            }
        }
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

    /// The whole file, with errors a user can act on ("no such file"; "file is empty" comes from the probe).
    /// - Parameters:
    ///   - path: the file.
    ///   - checkHead: called with the first 64 KiB of a larger file before the rest is read.
    static func readFile(_ path: String, checkHead: ([UInt8]) throws -> Void) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            if e == ENOENT || e == ENOTDIR { throw ImageError(path, .missing, "no such file") }
            throw ImageError(path, .unreadable, "cannot open: \(String(cString: strerror(e)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw ImageError(path, .unreadable, "cannot stat: \(String(cString: strerror(errno)))")
        }
        if info.st_mode & S_IFMT == S_IFDIR { throw ImageError(path, .unreadable, "is a directory, not an image") }
        // Only regular files have a size; a pipe or device reads as empty rather than forever.
        let size = info.st_mode & S_IFMT == S_IFREG ? Int(info.st_size) : 0
        var bytes = [UInt8](repeating: 0, count: size)
        let headSize = min(size, 1 << 16)
        var done = 0
        while done < size {
            let end = done < headSize ? headSize : size
            let n = bytes.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress! + done, end - done) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw ImageError(path, .unreadable, "read failed: \(String(cString: strerror(errno)))") }
            if n == 0 { break }  // the file shrank while we read it
            done += n
            if done == headSize && headSize < size { try checkHead(Array(bytes[..<done])) }
        }
        return done == size ? bytes : Array(bytes[..<done])
    }

    private static func string(_ cString: [CChar]) -> String {
        String(decoding: cString.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
