import Foundation
import Imaging
import Testing

/// PNG encoding: libpng writes, our own decoder (checked against Pillow in DecodeTests) reads back.
@Suite struct EncodeTests {
    static func noise(width: Int, height: Int, seed: UInt64) -> RGBImage {
        var rng = SplitMix64(state: seed)
        return RGBImage(width: width, height: height,
                        pixels: (0 ..< width * height * 3).map { _ in UInt8.random(in: 0 ... 255, using: &rng) })
    }

    @Test(arguments: [(1, 1), (17, 13), (1, 300), (300, 1), (256, 97)])
    func roundTrip(_ size: (Int, Int)) throws {
        let image = Self.noise(width: size.0, height: size.1, seed: UInt64(size.0 * 1000 + size.1))
        let png = try ImageIO.encodePNG(image)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        let back = try ImageIO.decode(png, name: "round-trip.png")
        expectPixels(back, image.pixels, width: image.width, height: image.height, "PNG round trip \(size)")
    }

    @Test func photoRoundTrip() throws {
        let chelsea = try Fixtures.image("Samples/chelsea.png")
        #expect(try ImageIO.decode(try ImageIO.encodePNG(chelsea), name: "c.png") == chelsea)
    }

    @Test func writePNGIsAtomicAndReadable() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let image = Self.noise(width: 31, height: 7, seed: 7)
        try ImageIO.writePNG(image, to: dir + "/out.png")
        try ImageIO.writePNG(image, to: dir + "/out.png")  // replaces
        #expect(try ImageIO.read(dir + "/out.png") == image)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.png"], "no temporary file left")
    }

    @Test func writeErrorsNameThePath() throws {
        let image = Self.noise(width: 2, height: 2, seed: 1)
        do {
            try ImageIO.writePNG(image, to: "/nonexistent-dir-for-imaging-tests/out.png")
            Issue.record("wrote into a missing directory")
        } catch let error as ImageError {
            #expect(error.kind == .writeFailed)
            #expect(error.description.hasPrefix("/nonexistent-dir-for-imaging-tests/out.png: "))
            #expect(error.description.contains("does not exist"), "\(error)")
        }
        #expect(throws: ImageError.self) { try ImageIO.encodePNG(RGBImage(width: 0, height: 0, pixels: [])) }
    }
}
