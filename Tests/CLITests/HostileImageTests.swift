// The catalogue of hostile and broken images, one case per test (parameterized families count one per argument):
// `convlens gradcam IMAGE --out out/map.png` must refuse each with exit 1, one line naming the file and the problem,
// and no output file; the odd-but-valid formats must work. Run by hand: the same command on the same bytes.
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .enabled(if: CLI.hasWeights, "run `bash Scripts/setup.sh` first: these cases run SqueezeNet"))
struct HostileImageTests {
    /// `convlens gradcam <image> --out <scratch>/out/map.png` plus `extra`.
    static func gradcam(_ image: String, _ s: Scratch, _ extra: [String] = []) throws -> Outcome {
        try convlens(["gradcam", "--model", "squeezenet1_1", image, "--out", s.out + "/map.png"] + extra)
    }

    @Test func emptyFile() throws {
        let s = try Scratch()
        let image = s.write("empty.png", [])
        expectRefusal(try Self.gradcam(image, s), code: 1, image + ": file is empty", scratch: s)
    }

    @Test func textFileNamedPNG() throws {
        let s = try Scratch()
        let image = s.write("notes.png", Array("These are my notes, not an image.\n".utf8))
        expectRefusal(try Self.gradcam(image, s), code: 1, image + ": not a PNG or JPEG file (starts with 'These ar')", scratch: s)
    }

    /// Samples/chelsea.png cut after 10%, 20%, ... 90% of its bytes.
    @Test(arguments: Array(stride(from: 10, through: 90, by: 10)))
    func truncatedPNG(_ percent: Int) throws {
        let s = try Scratch()
        let full = CLI.bytes("Samples/chelsea.png")
        let image = s.write("chelsea_\(percent).png", Array(full[..<(full.count * percent / 100)]))
        expectRefusal(try Self.gradcam(image, s), code: 1, image + ": truncated PNG", scratch: s)
    }

    @Test func pngWithBadCRC() throws {
        let s = try Scratch()
        let rows = (0 ..< 8).map { _ in [UInt8(0)] + [UInt8](repeating: 0x80, count: 24) }
        let image = s.write("badcrc.png", pngFile(width: 8, height: 8, rows: rows, badCRC: true))
        expectRefusal(try Self.gradcam(image, s), code: 1, image + ": corrupt PNG (libpng: IDAT: CRC error)", scratch: s)
    }

    /// Samples/rocket.jpg cut after 10%, 20%, ... 90% of its bytes.
    @Test(arguments: Array(stride(from: 10, through: 90, by: 10)))
    func truncatedJPEG(_ percent: Int) throws {
        let s = try Scratch()
        let full = CLI.bytes("Samples/rocket.jpg")
        let image = s.write("rocket_\(percent).jpg", Array(full[..<(full.count * percent / 100)]))
        expectRefusal(try Self.gradcam(image, s), code: 1, image + ": truncated JPEG", scratch: s)
    }

    /// Corrupt scan data: bytes of Samples/rocket.jpg's entropy-coded data overwritten, and the committed fixture
    /// with a bad Huffman code (ImagingTests' manifest records that Pillow grey-fills it; we refuse).
    @Test(arguments: ["scrambled scan", "bad Huffman fixture"])
    func corruptJPEG(_ kind: String) throws {
        let s = try Scratch()
        var bytes: [UInt8]
        if kind == "scrambled scan" {
            bytes = CLI.bytes("Samples/rocket.jpg")
            let sos = (0 ..< bytes.count - 1).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA }!
            for i in stride(from: sos + 600, to: sos + 4600, by: 7) { bytes[i] = 0xFF }  // 0xFF unstuffed: markers everywhere
        } else {
            bytes = CLI.bytes("Tests/ImagingTests/Fixtures/broken/jpeg_bad_huffman.jpg")
        }
        let image = s.write("corrupt.jpg", bytes)
        expectRefusal(try Self.gradcam(image, s), code: 1, image + ": corrupt JPEG", scratch: s)
    }

    /// A frame header declaring 65535x65535 (4295 MP), and nothing else.
    @Test func jpegDeclaring65535Square() throws {
        let s = try Scratch()
        let sof: [UInt8] = [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x03, 0x01, 0x22, 0x00,
                            0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xFF, 0xD9]
        let image = s.write("huge.jpg", sof)
        let outcome = try Self.gradcam(image, s)
        expectRefusal(outcome, code: 1, image + ": image is 65535x65535 (4295 MP), above the limit of 100 MP; pass --max-pixels",
                      scratch: s)
        #expect(outcome.peakBytes < 400 << 20, "took \(outcome.peakBytes >> 20) MB to refuse")
    }

    /// A decompression bomb: IHDR says 60000x60000 (3600 MP, 10.8 GB of RGB) over 1 KB of zeros. Refused from the
    /// header, before any pixel buffer exists.
    @Test func pngDeclaring60000Square() throws {
        let s = try Scratch()
        let image = s.write("bomb.png", pngFile(width: 60000, height: 60000, rows: [[UInt8](repeating: 0, count: 1000)]))
        let outcome = try Self.gradcam(image, s)
        expectRefusal(outcome, code: 1, image + ": image is 60000x60000 (3600 MP), above the limit of 100 MP; pass --max-pixels",
                      scratch: s)
        #expect(outcome.peakBytes < 400 << 20, "took \(outcome.peakBytes >> 20) MB to refuse")
    }

    /// chelsea.png is 451x300 = 135300 pixels: a limit one below refuses it, the exact count lets it through.
    @Test func maxPixelsMovesTheLimit() throws {
        let s = try Scratch()
        let chelsea = CLI.path("Samples/chelsea.png")
        expectRefusal(try Self.gradcam(chelsea, s, ["--max-pixels", "135299"]), code: 1,
                      chelsea + ": image is 451x300 (135300 pixels), above the limit of 135299 pixels", scratch: s)
        let ok = try Self.gradcam(chelsea, s, ["--max-pixels", "135300"])
        #expect(ok.code == 0, "\(ok.stderr)")
        #expect(s.outputs == ["map.png"])
        let bad = try Self.gradcam(chelsea, s, ["--max-pixels", "0"])
        print("exit \(bad.code): \(bad.lines.first ?? "")")
        #expect(bad.code == 2 && bad.lines.first == "error: --max-pixels must be in [1, 4294967296], got 0", "\(bad.stderr)")
    }

    /// Formats that must work, not fail: 16-bit, palette (with and without transparency), grey, grey+alpha, RGBA,
    /// interlaced, CMYK and YCCK JPEG. The fixtures are Pillow-checked in ImagingTests; here they go end to end.
    @Test(arguments: ["png_rgb16.png", "png_grey16.png", "png_palette8.png", "png_palette4_trns.png", "png_greyalpha8.png",
                      "png_greyalpha16.png", "png_rgba16.png", "png_rgb16_interlaced.png", "jpeg_cmyk_adobe.jpg",
                      "jpeg_cmyk_plain.jpg", "jpeg_ycck.jpg", "jpeg_grey.jpg", "jpeg_progressive.jpg"])
    func oddFormatsWork(_ file: String) throws {
        let s = try Scratch()
        let outcome = try Self.gradcam(CLI.path("Tests/ImagingTests/Fixtures/decode/" + file), s, ["--view", "input"])
        #expect(outcome.code == 0, "\(file): \(outcome.stderr)")
        #expect(s.outputs == ["map.png"], "\(file): wrote \(s.outputs)")
        let png = [UInt8](FileManager.default.contents(atPath: s.out + "/map.png") ?? Data())
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && be32At(png, 16) == 227 && be32At(png, 20) == 227,
                "\(file): the map is not a 227x227 PNG")
        print("\(file): \(outcome.stdout.split(separator: "\n").first ?? "")")
    }

    /// A 1x100000 strip, 474 bytes of PNG: the resize before the crop once needed 15 GB and killed the process.
    @Test func extremeAspectRatio() throws {
        let s = try Scratch()
        let rows = (0 ..< 100_000).map { _ in [0, 0x80, 0x40, 0x20] as [UInt8] }
        let image = s.write("strip.png", pngFile(width: 1, height: 100_000, rows: rows))
        let outcome = try Self.gradcam(image, s)
        #expect(outcome.code == 0, "\(outcome.stderr)")
        #expect(outcome.peakBytes < 400 << 20, "took \(outcome.peakBytes >> 20) MB")
        print("1x100000 strip: exit \(outcome.code), peak \(outcome.peakBytes >> 20) MB")
    }

    @Test func missingFileAndDirectory() throws {
        let s = try Scratch()
        expectRefusal(try Self.gradcam(s.dir + "/nope.png", s), code: 1, s.dir + "/nope.png: no such file", scratch: s)
        // A directory is a dataset manifest (issue 17); one without images is refused before anything is written.
        expectRefusal(try Self.gradcam(s.dir, s), code: 1, s.dir + ": holds no PNG or JPEG files", scratch: s)
    }
}

/// The big-endian 32-bit number at `offset`.
func be32At(_ b: [UInt8], _ offset: Int) -> Int {
    guard b.count >= offset + 4 else { return -1 }
    return (0 ..< 4).reduce(0) { $0 << 8 | Int(b[offset + $1]) }
}
