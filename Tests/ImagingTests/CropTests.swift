import Imaging
import Testing

/// Centre crops compared with torchvision's CenterCrop on a PIL image, as transcribed in
/// Scripts/make_imaging_fixtures.py (tv_center_crop: pad with black when the crop is larger, then
/// top = int(round((h - th) / 2.0)), left likewise, PIL's Image.crop).
@Suite struct CropTests {
    @Test("centre crops match torchvision", arguments: Fixtures.manifest.crop)
    func matchesTorchvision(_ entry: Manifest.Sized) throws {
        let source = try Fixtures.image(entry.source)
        let out = source.centerCropped(width: entry.width, height: entry.height)
        expectPixels(out, Fixtures.bytes(entry.expected), width: entry.width, height: entry.height,
                     "crop \(entry.source) -> \(entry.width)x\(entry.height) (\(entry.madeBy))")
    }

    @Test func roundingIsHalfToEven() {
        // Python's round(): (300 - 227) / 2 = 36.5 -> 36, (301 - 226) / 2 = 37.5 -> 38.
        let tall = RGBImage(width: 1, height: 300, pixels: (0 ..< 300).flatMap { [UInt8($0 % 256), 0, 0] })
        #expect(tall.centerCropped(width: 1, height: 227).pixels[0] == 36)
        let taller = RGBImage(width: 1, height: 301, pixels: (0 ..< 301).flatMap { [UInt8($0 % 256), 0, 0] })
        #expect(taller.centerCropped(width: 1, height: 226).pixels[0] == 38)
    }

    @Test func windowsOutsideTheImageAreBlack() {
        let image = RGBImage(width: 2, height: 2, fill: (9, 9, 9))
        #expect(image.cropped(left: -5, top: -5, width: 3, height: 3).pixels.allSatisfy { $0 == 0 })
        #expect(image.cropped(left: 10, top: 0, width: 2, height: 2).pixels.allSatisfy { $0 == 0 })
        let shifted = image.cropped(left: 1, top: -1, width: 2, height: 2)
        #expect(shifted.pixels == [0, 0, 0, 0, 0, 0, 9, 9, 9, 0, 0, 0])
    }
}
