import Foundation
@testable import Imaging
import Testing

/// The crop-aware resize behind `Preprocessing.prepare`: it must give the same bytes as resizing the whole image and
/// cropping (which ResizeTests checks against Pillow), while costing only what the crop keeps. A 1x100000 PNG of a
/// few hundred bytes used to become a 227x22700000 image (15 GB) before its centre was cut out.
@Suite struct WindowedResizeTests {
    /// Sizes that take every path: both pass orders, skipped passes, up- and downscaling, windows at the edges.
    static let cases: [(from: (Int, Int), to: (Int, Int))] = [
        ((37, 23), (80, 50)), ((37, 23), (11, 7)), ((37, 23), (37, 60)), ((37, 23), (90, 23)),
        ((23, 137), (20, 30)), ((1, 300), (227, 68100)), ((300, 1), (5000, 17)), ((64, 64), (64, 64)),
    ]

    @Test func windowsMatchTheWholeResizeCropped() {
        var rng = SplitMix64(state: 7)
        var checked = 0
        for c in Self.cases {
            for filter in [Resampling.bilinear, .bicubic] {
                let image = EncodeTests.noise(width: c.from.0, height: c.from.1, seed: UInt64(c.from.0 * 31 + c.from.1))
                let (w, h) = c.to
                let whole = w * h <= 4_000_000 ? image.resized(width: w, height: h, filter: filter) : nil
                for _ in 0 ..< 12 {
                    let x0 = Int.random(in: 0 ..< w, using: &rng), y0 = Int.random(in: 0 ..< h, using: &rng)
                    let x1 = Int.random(in: x0 + 1 ... min(w, x0 + 40), using: &rng)
                    let y1 = Int.random(in: y0 + 1 ... min(h, y0 + 40), using: &rng)
                    let part = image.resized(width: w, height: h, columns: x0 ..< x1, rows: y0 ..< y1, filter: filter)
                    #expect(part.width == x1 - x0 && part.height == y1 - y0)
                    if let whole {
                        let want = whole.cropped(left: x0, top: y0, width: x1 - x0, height: y1 - y0)
                        #expect(part == want, "\(filter) \(c.from) -> \(c.to), window \(x0)..<\(x1) x \(y0)..<\(y1)")
                        checked += 1
                    }
                }
            }
        }
        print("windowed resize: \(checked) windows equal to the whole resize, cropped")
    }

    @Test(arguments: [(37, 23), (23, 37), (227, 227), (256, 300), (3, 400), (400, 3), (1, 1), (100, 227)])
    func prepareEqualsResizeThenCrop(_ size: (Int, Int)) throws {
        let image = EncodeTests.noise(width: size.0, height: size.1, seed: UInt64(size.0 * 977 + size.1))
        for preset in Preprocessing.presets {
            let want = image.resizedShorterSide(to: preset.resizeShorterSide, filter: preset.resample)
                .centerCropped(width: preset.cropSize, height: preset.cropSize)
            #expect(preset.prepare(image) == want, "\(preset.name) on \(size.0)x\(size.1)")
        }
    }

    @Test func extremeStripsArePreparedInTheirCropOnly() throws {
        let started = Date()
        for (w, h) in [(1, 100_000), (100_000, 1), (2, 1_000_000)] {
            let strip = RGBImage(width: w, height: h, fill: (200, 100, 50))
            let crop = Preprocessing.caffe.prepare(strip)
            #expect(crop.width == 227 && crop.height == 227)
            #expect(crop.pixels[0 ..< 3] == [200, 100, 50])
        }
        let seconds = Date().timeIntervalSince(started)
        print("three strips of up to 2 MP prepared in \(String(format: "%.2f", seconds)) s")
        #expect(seconds < 2)
    }
}
