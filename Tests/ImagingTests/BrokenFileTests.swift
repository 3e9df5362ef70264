import Foundation
import Imaging
import Testing

/// Files the decoder must refuse with one clear line, never crash on, and never pay for in memory. The broken files
/// come from Scripts/make_imaging_fixtures.py; the manifest records what Pillow does with each (Pillow accepts some
/// that we refuse: a PNG without IEND, a JPEG with bad Huffman codes, a PNG whose image data stops early).
@Suite struct BrokenFileTests {
    @Test("each broken fixture is refused with its own message", arguments: Fixtures.manifest.broken)
    func refused(_ entry: Manifest.Broken) {
        let path = Fixtures.path(entry.file)
        do {
            let image = try ImageIO.read(path)
            Issue.record("\(entry.file) (\(entry.madeBy)) decoded to \(image.width)x\(image.height); Pillow: \(entry.pillow)")
        } catch let error as ImageError {
            #expect("\(error.kind)" == entry.kind, "\(entry.file): \(error)")
            #expect(error.description.hasPrefix(path + ": "), "\(error)")
            #expect(error.description.contains(entry.contains), "\(error) should contain '\(entry.contains)'")
            #expect(!error.description.contains("\n"))
            print("\(entry.file): refused as expected: \(error.problem)  [Pillow: \(entry.pillow.prefix(60))]")
        } catch {
            Issue.record("\(entry.file): unexpected error type \(error)")
        }
    }

    @Test("a file cut anywhere is refused", arguments: ["decode/png_rgb8.png", "decode/png_rgb8_interlaced.png",
                                                       "decode/png_palette4_trns.png", "decode/jpeg_420.jpg",
                                                       "decode/jpeg_progressive.jpg", "decode/jpeg_cmyk_adobe.jpg"])
    func truncatedAnywhere(_ file: String) {
        let bytes = Fixtures.bytes(file)
        var accepted: [Int] = []
        for cut in 0 ..< bytes.count {
            if (try? ImageIO.decode(Array(bytes[..<cut]), name: file)) != nil { accepted.append(cut) }
        }
        #expect(accepted.isEmpty, "\(file): prefixes of \(accepted.prefix(10)) bytes (of \(bytes.count)) decoded")
    }

    @Test func truncationMessages() throws {
        let png = Fixtures.bytes("decode/png_rgb8.png")
        #expect(throws: ImageError("cat.png", .truncated, "truncated PNG (libpng: Read Error)")) {
            try ImageIO.decode(Array(png[..<(png.count / 2)]), name: "cat.png")
        }
        let jpeg = Fixtures.bytes("decode/jpeg_420.jpg")
        #expect(throws: ImageError("cat.jpg", .truncated, "truncated JPEG (libjpeg: Premature end of JPEG file)")) {
            try ImageIO.decode(Array(jpeg[..<(jpeg.count / 2)]), name: "cat.jpg")
        }
    }

    @Test func missingEmptyDirectoryAndText() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: ImageError(dir + "/x.png", .missing, "no such file")) { try ImageIO.read(dir + "/x.png") }
        _ = FileManager.default.createFile(atPath: dir + "/empty.png", contents: Data())
        #expect(throws: ImageError(dir + "/empty.png", .empty, "file is empty")) { try ImageIO.read(dir + "/empty.png") }
        #expect(throws: ImageError(dir, .unreadable, "is a directory, not an image")) { try ImageIO.read(dir) }
        let text = ImageError("x.png", .notAnImage, "not a PNG or JPEG file (starts with 'not an i')")
        #expect(text.description == "x.png: not a PNG or JPEG file (starts with 'not an i')")
        #expect(throws: text) { try ImageIO.decode(Array("not an image at all".utf8), name: "x.png") }
        #expect(throws: ImageError("b.png", .notAnImage, "not a PNG or JPEG file (starts with '\\x00\\x01\\xff')")) {
            try ImageIO.decode([0, 1, 255], name: "b.png")
        }
    }

    @Test func pixelLimitIsCheckedBeforeDecoding() throws {
        let png = Fixtures.bytes("decode/png_rgb8.png")  // 17x13 = 221 pixels
        #expect(throws: ImageError("p.png", .tooLarge,
                                   "image is 17x13 (221 pixels), above the limit of 220 pixels; pass --max-pixels to allow it")) {
            try ImageIO.decode(png, name: "p.png", maxPixels: 220)
        }
        #expect(try ImageIO.decode(png, name: "p.png", maxPixels: 221).width == 17)
        // The bombs carry no pixel data worth the name: refusing them must not allocate their 10+ GB.
        let bomb = Fixtures.bytes("broken/png_bomb.png")
        #expect(throws: ImageError("bomb.png", .tooLarge,
                                   "image is 60000x60000 (3600 MP), above the limit of 100 MP; pass --max-pixels to allow it")) {
            try ImageIO.decode(bomb, name: "bomb.png")
        }
        // Raising the limit lets it through to libpng, which finds the data missing.
        #expect(throws: ImageError.self) { try ImageIO.decode(bomb, name: "bomb.png", maxPixels: .max) }
        #expect(throws: ImageError("bomb.jpg", .unsupported,
                                   "unsupported JPEG (libjpeg: Maximum supported image dimension is 65500 pixels)")) {
            try ImageIO.decode(Fixtures.bytes("broken/jpeg_bomb.jpg"), name: "bomb.jpg", maxPixels: .max)
        }
    }

    @Test func largeFilesAreJudgedByTheirHead() throws {
        // read() probes the first 64 KiB of a larger file before reading the rest: same verdicts, less I/O.
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = dir + "/notes.png", bomb = dir + "/bomb.png", photo = dir + "/astronaut.png"
        try Data(repeating: 0x61, count: 200_000).write(to: URL(fileURLWithPath: text))
        try Data(Fixtures.bytes("broken/png_bomb.png") + [UInt8](repeating: 0, count: 200_000))
            .write(to: URL(fileURLWithPath: bomb))
        try Data(Fixtures.bytes("Samples/astronaut.png")).write(to: URL(fileURLWithPath: photo))  // 790 KB
        #expect(throws: ImageError(text, .notAnImage, "not a PNG or JPEG file (starts with 'aaaaaaaa')")) {
            try ImageIO.read(text)
        }
        let limit = "; pass --max-pixels to allow it"
        #expect(throws: ImageError(bomb, .tooLarge, "image is 60000x60000 (3600 MP), above the limit of 100 MP" + limit)) {
            try ImageIO.read(bomb)
        }
        #expect(try ImageIO.read(photo) == (try Fixtures.image("Samples/astronaut.png")))
        #expect(throws: ImageError(photo, .tooLarge, "image is 512x512 (262144 pixels), above the limit of 1000 pixels" + limit)) {
            try ImageIO.read(photo, maxPixels: 1000)
        }
    }

    @Test func sizesThatOverflowAreRefused() {
        // IHDR of 2^31-1 x 2^31-1: width * height * 3 overflows nothing in 64 bits but is far above any limit.
        let huge = pngFile(width: 0x7FFF_FFFF, height: 0x7FFF_FFFF, bitDepth: 8, colorType: 2, rows: [[0]])
        #expect(throws: ImageError.self) { try ImageIO.decode(huge, name: "huge.png", maxPixels: .max) }
        #expect(throws: ImageError.self) { try ImageIO.decode(huge, name: "huge.png") }
    }

    @Test func randomDamageNeverCrashes() {
        // Decoding is a pure function of the bytes: mutated files either decode or throw ImageError.
        var rng = SplitMix64(state: 42)
        var outcomes = (decoded: 0, refused: 0)
        for file in Fixtures.manifest.decode.map(\.file) {
            let original = Fixtures.bytes(file)
            for _ in 0 ..< 60 {
                var bytes = original
                for _ in 0 ..< Int.random(in: 1 ... 8, using: &rng) {
                    let i = Int.random(in: 0 ..< bytes.count, using: &rng)
                    switch Int.random(in: 0 ..< 3, using: &rng) {
                    case 0: bytes[i] = UInt8.random(in: 0 ... 255, using: &rng)
                    case 1: bytes.remove(at: i)
                    default: bytes.insert(UInt8.random(in: 0 ... 255, using: &rng), at: i)
                    }
                    if bytes.isEmpty { break }
                }
                do {
                    _ = try ImageIO.decode(bytes, name: file, maxPixels: 1 << 20)
                    outcomes.decoded += 1
                } catch is ImageError {
                    outcomes.refused += 1
                } catch {
                    Issue.record("\(file): unexpected error type \(error)")
                }
            }
        }
        print("random damage: \(outcomes.decoded) decoded, \(outcomes.refused) refused, no crash")
        #expect(outcomes.refused > 0)
    }
}
