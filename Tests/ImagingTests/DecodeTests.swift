import Foundation
import Imaging
import Testing

/// Decoding compared with Pillow. Expected bytes come from Scripts/make_imaging_fixtures.py:
///     rgb = np.asarray(Image.open(f).convert("RGB"))          # Pillow 13.0.0, libjpeg-turbo 3.2.0
/// Each manifest entry says how its file was made (Pillow save, or the script's own PNG writer for 2-, 4- and 16-bit,
/// interlaced and tRNS files) and, for 16-bit grey, why the expected bytes are not Pillow's.
@Suite struct DecodeTests {
    @Test("each odd PNG/JPEG decodes to Pillow's RGB bytes", arguments: Fixtures.manifest.decode)
    func matchesPillow(_ entry: Manifest.Decode) throws {
        let image = try Fixtures.image(entry.file)
        let expected = Fixtures.bytes(entry.expected)
        expectPixels(image, expected, width: entry.width, height: entry.height,
                     "decode \(entry.file) (made by \(entry.madeBy); expected: \(entry.expectedFrom))")
    }

    @Test("the sample photos decode to Pillow's bytes", arguments: Fixtures.manifest.sampleDecode)
    func samplePhotos(_ digest: Manifest.Digest) throws {
        // digest of np.asarray(Image.open(f).convert("RGB"))
        expectDigest(try Fixtures.image(digest.file), digest, "decode \(digest.file)")
    }

    @Test func decodeCoversEveryFormatTheIssueLists() {
        // The issue lists: PNG 8/16-bit, grey, grey+alpha, palette (+tRNS), RGB, RGBA, interlaced;
        // JPEG baseline, progressive, grey, CMYK, YCCK, Adobe-inverted CMYK.
        let files = Set(Fixtures.manifest.decode.map(\.file))
        for name in ["png_rgb8", "png_rgba8", "png_grey8", "png_greyalpha8", "png_palette8", "png_palette4_trns",
                     "png_rgb16", "png_rgba16", "png_grey16", "png_greyalpha16", "png_rgb8_interlaced"] {
            #expect(files.contains("decode/\(name).png"), "no fixture \(name).png")
        }
        for name in ["jpeg_420", "jpeg_progressive", "jpeg_grey", "jpeg_cmyk_adobe", "jpeg_cmyk_plain", "jpeg_ycck"] {
            #expect(files.contains("decode/\(name).jpg"), "no fixture \(name).jpg")
        }
    }

    @Test func sixteenBitGreyKeepsTheHighByte() throws {
        // Deviation from Pillow, on purpose: Pillow opens 16-bit grey as "I;16" and convert("RGB") clips at 255,
        // so 0x1234 becomes 255; we take the high byte (0x12), as Pillow does for 16-bit RGB.
        // A 1x2 16-bit grey PNG with samples 0x1234 and 0x00FF, built here byte by byte.
        let png = pngFile(width: 2, height: 1, bitDepth: 16, colorType: 0, rows: [[0, 0x12, 0x34, 0x00, 0xFF]])
        let image = try ImageIO.decode(png, name: "grey16.png")
        #expect(image.pixels == [0x12, 0x12, 0x12, 0x00, 0x00, 0x00])
    }

    @Test func formatIsSniffedFromTheBytesNotTheName() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let jpegNamedPNG = dir + "/photo.png"
        try Data(Fixtures.bytes("decode/jpeg_420.jpg")).write(to: URL(fileURLWithPath: jpegNamedPNG))
        let image = try ImageIO.read(jpegNamedPNG)
        #expect(image == (try Fixtures.image("decode/jpeg_420.jpg")))
    }

    @Test func probeReadsTheHeaderOnly() throws {
        let rocket = Fixtures.bytes("Samples/rocket.jpg")
        #expect(try ImageIO.probe(rocket, name: "rocket.jpg") == ImageHeader(format: .jpeg, width: 640, height: 427))
        let chelsea = Fixtures.bytes("Samples/chelsea.png")
        #expect(try ImageIO.probe(Array(chelsea.prefix(33)), name: "c.png")
            == ImageHeader(format: .png, width: 451, height: 300))
        let progressive = Fixtures.bytes("decode/jpeg_progressive.jpg")  // SOF2
        #expect(try ImageIO.probe(progressive, name: "p.jpg") == ImageHeader(format: .jpeg, width: 37, height: 29))
    }
}

/// A PNG built byte by byte: signature, IHDR, one stored (uncompressed) deflate block, IEND.
/// - Parameters:
///   - rows: each row with its leading filter byte.
func pngFile(width: Int, height: Int, bitDepth: UInt8, colorType: UInt8, rows: [[UInt8]]) -> [UInt8] {
    func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
    func crc32(_ bytes: [UInt8]) -> Int {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0 ..< 8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return Int(c ^ 0xFFFF_FFFF)
    }
    func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(data.count) + body + be32(crc32(body))
    }
    let raw = rows.flatMap { $0 }
    var (a, b) = (1, 0)  // Adler-32 of the raw data, for the zlib trailer
    for x in raw { a = (a + Int(x)) % 65521; b = (b + a) % 65521 }
    let n = raw.count
    let zlib: [UInt8] = [0x78, 0x01, 0x01, UInt8(n & 255), UInt8(n >> 8), UInt8(~n & 255), UInt8(~n >> 8 & 255)]
        + raw + be32(b << 16 | a)
    let ihdr = be32(width) + be32(height) + [bitDepth, colorType, 0, 0, 0]
    return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", zlib)
        + chunk("IEND", [])
}
