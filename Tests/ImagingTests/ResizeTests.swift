import Foundation
import Imaging
import Testing

/// Resizing compared with Pillow's BILINEAR, bit for bit. Expected bytes come from Scripts/make_imaging_fixtures.py:
///     Image.open(source).convert("RGB").resize((w, h), Image.BILINEAR)      # Pillow 13.0.0
/// and, for the sample photos (too big to commit), FNV-1a hashes of Pillow's output for
///     im.resize(size, Image.BILINEAR), torchvision Resize(n)(im), CenterCrop(c)(Resize(r)(im))
/// where torchvision's size and offset rules are transcribed in the script (torch is not needed for them).
@Suite struct ResizeTests {
    @Test("synthetic images resize like Pillow", arguments: Fixtures.manifest.resize)
    func matchesPillow(_ entry: Manifest.Sized) throws {
        let source = try Fixtures.image(entry.source)
        let out = source.resized(width: entry.width, height: entry.height)
        expectPixels(out, Fixtures.bytes(entry.expected), width: entry.width, height: entry.height,
                     "resize \(entry.source) -> \(entry.width)x\(entry.height) (\(entry.madeBy))")
    }

    @Test("the sample photos resize like Pillow and torchvision", arguments: Fixtures.manifest.sampleResize)
    func samplePhotos(_ digest: Manifest.Digest) throws {
        let image = try Fixtures.image(digest.file)
        let out: RGBImage
        switch (digest.op, digest.argument) {
        case ("resize", _): out = image.resized(width: digest.width, height: digest.height)
        case ("shorter", let size?): out = image.resizedShorterSide(to: Int(size)!)
        case ("prepare", let preset?): out = try Preprocessing.named(preset).prepare(image)
        default: Issue.record("unknown case \(digest)"); return
        }
        expectDigest(out, digest, "\(digest.testDescription) (\(digest.madeBy))")
    }

    @Test func caffeChelseaIsExactlyPillowsResizeThenCrop() throws {
        // The issue's acceptance case: Samples/chelsea.png (451x300) -> shorter side 227 with BILINEAR -> centre
        // crop 227, torchvision-style rounding. Pillow's result is in the manifest as "chelsea.png prepare caffe".
        let digest = try #require(Fixtures.manifest.sampleResize.first { $0.file == "Samples/chelsea.png" && $0.op == "prepare" })
        let chelsea = try Fixtures.image("Samples/chelsea.png")
        let resized = chelsea.resizedShorterSide(to: 227)
        #expect(resized.width == 341 && resized.height == 227)  // int(227 * 451 / 300) = 341
        expectDigest(Preprocessing.caffe.prepare(chelsea), digest, "caffe.prepare(chelsea)")
        expectDigest(resized.centerCropped(width: 227, height: 227), digest, "chelsea resize 227 + crop 227")
    }

    @Test func shorterSideSizes() {
        // torchvision: long = int(size * long / short); the shorter side may be either one.
        func size(_ w: Int, _ h: Int, _ s: Int) -> (Int, Int) {
            let out = RGBImage(width: w, height: h).resizedShorterSide(to: s)
            return (out.width, out.height)
        }
        #expect(size(640, 427, 256) == (383, 256))  // 256 * 640 / 427 = 383.7
        #expect(size(451, 300, 227) == (341, 227))
        #expect(size(600, 400, 227) == (340, 227))  // 340.5 truncates
        #expect(size(300, 451, 227) == (227, 341))
        #expect(size(512, 512, 224) == (224, 224))
        #expect(size(7, 3, 5) == (11, 5))           // 11.67
    }

    @Test func unchangedSizesReturnTheSameImage() throws {
        let image = try Fixtures.image("resize/noise37x23.png")
        #expect(image.resized(width: 37, height: 23) == image)
        let short = image.resizedShorterSide(to: 23)
        #expect(short == image)
    }
}
