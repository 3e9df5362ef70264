/// The two formats ImageIO decodes.
public enum ImageFormat: String, Sendable {
    case png = "PNG"
    case jpeg = "JPEG"
}

/// What a file's header says, read without decoding any pixels.
public struct ImageHeader: Equatable, Sendable {
    public let format: ImageFormat
    public let width: Int
    public let height: Int

    public init(format: ImageFormat, width: Int, height: Int) {
        self.format = format
        self.width = width
        self.height = height
    }
}

extension ImageIO {
    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    static let jpegSignature: [UInt8] = [0xFF, 0xD8, 0xFF]

    /// Reads the format (sniffed from the bytes, not the name) and the size, without decoding pixels.
    /// - Parameters:
    ///   - bytes: the file, or at least its beginning up to the PNG IHDR chunk or the JPEG frame header.
    ///   - name: the file name to put in errors.
    public static func probe(_ bytes: [UInt8], name: String) throws -> ImageHeader {
        if bytes.isEmpty { throw ImageError(name, .empty, "file is empty") }
        if bytes.starts(with: pngSignature) { return try probePNG(bytes, name: name) }
        if bytes.starts(with: jpegSignature) { return try probeJPEG(bytes, name: name) }
        throw ImageError(name, .notAnImage, notAnImageProblem(bytes))
    }

    /// The size in IHDR, which the PNG specification puts first, at a fixed offset.
    static func probePNG(_ bytes: [UInt8], name: String) throws -> ImageHeader {
        guard bytes.count >= 24 else { throw ImageError(name, .truncated, "truncated PNG (no complete IHDR chunk)") }
        guard bytes[12 ..< 16].elementsEqual("IHDR".utf8) else {
            throw ImageError(name, .corrupt, "corrupt PNG (the first chunk is not IHDR)")
        }
        let width = bigEndian32(bytes, 16), height = bigEndian32(bytes, 20)
        guard width > 0, height > 0, width <= 0x7FFF_FFFF, height <= 0x7FFF_FFFF else {
            throw ImageError(name, .corrupt, "corrupt PNG (IHDR gives a size of \(width)x\(height))")
        }
        return ImageHeader(format: .png, width: width, height: height)
    }

    /// The size in the first frame header (SOFn), found by walking the marker segments the way libjpeg does.
    static func probeJPEG(_ bytes: [UInt8], name: String) throws -> ImageHeader {
        let n = bytes.count
        var i = 2
        while true {
            while i < n && bytes[i] != 0xFF { i += 1 }  // libjpeg skips stray bytes too (and warns)
            while i < n && bytes[i] == 0xFF { i += 1 }  // fill bytes
            guard i < n else { throw ImageError(name, .truncated, "truncated JPEG (no frame header)") }
            let marker = bytes[i]
            i += 1
            switch marker {
            case 0x00, 0x01, 0xD0 ... 0xD8:
                continue  // stuffed zero, TEM, RSTn, SOI: no length field
            case 0xD9, 0xDA:
                throw ImageError(name, .corrupt, "corrupt JPEG (image data before any frame header)")
            case 0xC0 ... 0xCF where marker != 0xC4 && marker != 0xC8 && marker != 0xCC:
                // SOFn: length (2), precision (1), height (2), width (2), components (1)
                guard i + 7 <= n else { throw ImageError(name, .truncated, "truncated JPEG (frame header cut short)") }
                let height = bigEndian16(bytes, i + 3), width = bigEndian16(bytes, i + 5)
                guard width > 0, height > 0 else {
                    throw ImageError(name, .corrupt, "corrupt JPEG (frame header gives a size of \(width)x\(height))")
                }
                return ImageHeader(format: .jpeg, width: width, height: height)
            default:
                guard i + 2 <= n else { throw ImageError(name, .truncated, "truncated JPEG (no frame header)") }
                let length = bigEndian16(bytes, i)
                guard length >= 2 else { throw ImageError(name, .corrupt, "corrupt JPEG (bad marker length)") }
                i += length
            }
        }
    }

    /// The number of RGB samples to allocate, after refusing sizes above the caller's pixel limit.
    static func checkedSampleCount(_ header: ImageHeader, name: String, maxPixels: Int) throws -> Int {
        let (pixels, overflow) = header.width.multipliedReportingOverflow(by: header.height)
        let (samples, overflow3) = pixels.multipliedReportingOverflow(by: 3)
        guard !overflow, !overflow3, pixels <= maxPixels else {
            let shown = overflow ? "more than \(Int.max)" : megapixels(pixels)
            throw ImageError(name, .tooLarge, "image is \(header.width)x\(header.height) (\(shown)), above the limit of "
                + "\(megapixels(maxPixels)); pass --max-pixels to allow it")
        }
        guard header.width <= maxWidth(maxPixels) else {
            throw ImageError(name, .tooLarge, "image is \(header.width)x\(header.height), wider than the \(maxWidth(maxPixels)) "
                + "pixels allowed under a limit of \(megapixels(maxPixels)); pass --max-pixels to allow it")
        }
        return samples
    }

    /// The widest image decoded under a pixel limit: a sixteenth of it, and at least 65536. libpng keeps two rows of
    /// up to 8 bytes per pixel (16-bit RGBA) besides the RGB buffer, so a one-row image as wide as the limit would
    /// cost 5 times its RGB (a 44-byte file declaring 100,000,000x1 took 800 MB before its data was found missing);
    /// at a sixteenth those rows stay within a third of what the limit allows for RGB.
    static func maxWidth(_ maxPixels: Int) -> Int { max(1 << 16, maxPixels / 16) }

    /// "3600 MP", "2.5 MP", or "1000 pixels" for small limits (rounded half up, without overflow near Int.max).
    static func megapixels(_ n: Int) -> String {
        if n >= 10_000_000 { return "\((n / 500_000 + 1) / 2) MP" }
        if n >= 1_000_000 {
            let tenths = (n / 50_000 + 1) / 2
            return "\(tenths / 10).\(tenths % 10) MP"
        }
        return "\(n) pixels"
    }

    /// Names formats we recognise but do not read; otherwise quotes the first bytes.
    static func notAnImageProblem(_ bytes: [UInt8]) -> String {
        let known: [(magic: [UInt8], format: String)] = [
            (Array("GIF8".utf8), "GIF"), (Array("II*\u{0}".utf8), "TIFF"), (Array("MM\u{0}*".utf8), "TIFF"),
            (Array("RIFF".utf8), "RIFF (WebP?)"), (Array("BM".utf8), "BMP"),
        ]
        let head = bytes.prefix(8)
        let quoted = head.map { b -> String in
            (0x20 ... 0x7E).contains(b) && b != 0x27 && b != 0x5C ? String(UnicodeScalar(b)) : "\\x" + hex(b)
        }.joined()
        if let match = known.first(where: { bytes.starts(with: $0.magic) }), match.format != "BMP" || bytes.count > 26 {
            return "not a PNG or JPEG file (starts with '\(quoted)', which looks like \(match.format); convert it to PNG)"
        }
        return "not a PNG or JPEG file (starts with '\(quoted)')"
    }

    private static func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
    }

    private static func bigEndian16(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) << 8 | Int(b[i + 1]) }

    private static func bigEndian32(_ b: [UInt8], _ i: Int) -> Int {
        Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
    }
}
