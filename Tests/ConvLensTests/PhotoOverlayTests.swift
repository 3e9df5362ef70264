import Foundation
import Testing
import Analysis
@testable import ConvLens
import Engine
import Imaging
import Models
import Render

/// Overlays over the whole photo: where the model's input lies in the photo, how the map is laid onto it, and the
/// layout of the figures.
@Suite struct PhotoOverlayTests {
    /// Expected regions from torchvision's definitions, by hand: `Resize(n)` makes the long side
    /// int(n * long / short), `CenterCrop(c)` starts at int(round((size - c) / 2.0)) (Python rounds half to even), and
    /// Pillow's resize maps the whole box, so each axis scales back by old / new.
    ///   torchvision on 640x427: Resize(256) -> 383x256; left round(79.5) = 80, top 16; x 80 * 640/383, y 16 * 427/256,
    ///   width 224 * 640/383, height 224 * 427/256.
    ///   caffe on 640x427: Resize(227) -> 340x227; left round(56.5) = 56, top 0; x 56 * 640/340, width 227 * 640/340.
    @Test func regionsFollowTheCropGeometry() {
        let tv = Preprocessing.torchvision.region(width: 640, height: 427, fit: .crop)
        #expect(abs(tv.x - 80 * 640 / 383.0) < 1e-9 && abs(tv.y - 16 * 427 / 256.0) < 1e-9)
        #expect(abs(tv.width - 224 * 640 / 383.0) < 1e-9 && abs(tv.height - 224 * 427 / 256.0) < 1e-9)
        let caffe = Preprocessing.caffe.region(width: 640, height: 427, fit: .crop)
        #expect(abs(caffe.x - 56 * 640 / 340.0) < 1e-9 && caffe.y == 0)
        #expect(abs(caffe.width - 227 * 640 / 340.0) < 1e-9 && caffe.height == 427)
        #expect(Preprocessing.caffe.region(width: 640, height: 427, fit: .squash) == InputRegion(x: 0, y: 0, width: 640, height: 427))
        #expect(Preprocessing.torchvision.defaultFit == .crop && Preprocessing.caffe.defaultFit == .crop && Preprocessing.tf.defaultFit == .squash)
    }

    /// squash is `Image.resize((S, S), BILINEAR)` of the whole image: the same pixels as Pillow-exact `resized`.
    @Test func squashResizesTheWholeImage() {
        let photo = Self.photo(width: 30, height: 12)
        let (input, _) = Preprocessing.tf.prepare(photo, fit: .squash)
        #expect(input == photo.resized(width: 224, height: 224))
    }

    static func photo(width: Int, height: Int) -> RGBImage {
        RGBImage(width: width, height: height, pixels: (0 ..< width * height * 3).map { UInt8(($0 * 37 + $0 / 3) % 256) })
    }

    /// A 2x1 map [0, 1] over an 8x1 photo: OpenCV's INTER_LINEAR with half-pixel centres (cv2.resize(np.float32([[0, 1]]),
    /// (8, 1)) = [0, 0, 0.125, 0.375, 0.625, 0.875, 1, 1]) and Overlay.blend's colours.
    @Test func theMapIsResampledOntoTheRegion() {
        let photo = Self.photo(width: 8, height: 1)
        let got = CAMFigure.overPhoto(photo, heat: [0, 1], side: (2, 1), region: InputRegion(x: 0, y: 0, width: 8, height: 1),
                                      colormap: .jet, alpha: 0.4)
        let expected = Overlay.blend(image: photo, heat: [0, 0, 0.125, 0.375, 0.625, 0.875, 1, 1], colormap: .jet, alpha: 0.4)
        #expect(got == expected)
    }

    /// Pixels whose centres fall outside the region are the photo at 0.4 of its brightness; those inside are blended.
    @Test func outsideTheRegionIsDimmed() {
        let photo = Self.photo(width: 16, height: 8)
        let region = InputRegion(x: 4.2, y: 0, width: 8, height: 8)               // columns 4 ... 11 have centres inside
        let got = CAMFigure.overPhoto(photo, heat: [Float](repeating: 0.5, count: 16), side: (4, 4), region: region, colormap: .jet, alpha: 0.4)
        let blended = Overlay.blend(image: photo, heat: [Float](repeating: 0.5, count: 128), colormap: .jet, alpha: 0.4)
        for y in 0 ..< 8 {
            for x in 0 ..< 16 {
                for c in 0 ..< 3 {
                    let i = (y * 16 + x) * 3 + c
                    let want = (4 ... 11).contains(x) ? blended.pixels[i] : UInt8((Float(photo.pixels[i]) * 0.4).rounded())
                    #expect(got.pixels[i] == want, "pixel (\(x), \(y)) channel \(c)")
                }
            }
        }
    }

    static func prepared(_ photo: RGBImage, _ p: Preprocessing) -> PreparedImage {
        let (crop, region) = p.prepare(photo, fit: .crop)
        return PreparedImage(path: "photo.png", crop: crop, tensor: p.tensor(crop), photo: photo, photoSize: (photo.width, photo.height), region: region)
    }

    /// `--top 3 --panel`: one row, the input once and then one overlay per class (today's main drew three full panels,
    /// each with its own input).
    @Test func topKPanelShowsTheInputOnce() throws {
        let image = Self.prepared(Self.photo(width: 300, height: 200), .caffe)
        let maps = (0 ..< 3).map { r in
            CAMFigure.Map(image: image, heat: [Float](repeating: Float(r) / 3, count: 227 * 227), side: (227, 227), picture: nil, caption: "class \(r)")
        }
        for view in GradCAMOptions.View.allCases {
            let style = CAMFigure.Style(view: view, colormap: .jet, alpha: 0.4, panel: true, title: "t")
            let panels = try #require(CAMFigure.make(maps, images: 1, ranks: 3, style: style, scale: nil).0 as? Panels)
            #expect(panels.figures.count == 4 && panels.columns == 4, "\(view)")
            #expect((panels.figures[0] as? ImageGrid)?.captions == ["input"])
            #expect(panels.figures.dropFirst().compactMap { ($0 as? ImageGrid)?.captions.first } == ["class 0", "class 1", "class 2"])
        }
    }

    /// A bare overlay is the photo's size at scale 1; a title adds a band above it but keeps the photo's pixels.
    @Test func aBareOverlayIsThePhotoSize() throws {
        let image = Self.prepared(Self.photo(width: 300, height: 200), .caffe)
        let map = CAMFigure.Map(image: image, heat: [Float](repeating: 0.5, count: 227 * 227), side: (227, 227), picture: nil, caption: "c")
        let style = CAMFigure.Style(view: .photo, colormap: .jet, alpha: 0.4, panel: false, title: nil)
        let (figure, scale) = CAMFigure.make([map], images: 1, ranks: 1, style: style, scale: nil)
        #expect(figure.size == Size(width: 300, height: 200) && scale == 1)
        let titled = CAMFigure.make([map], images: 1, ranks: 1, style: CAMFigure.Style(view: .photo, colormap: .jet, alpha: 0.4, panel: false,
                                                                                        title: "a title"), scale: nil)
        #expect(titled.0.size.width >= 300 && titled.0.size.height > 200 && titled.1 == 1)
    }

    /// Score-CAM reports its progress, in order, up to done; each masked batch is one report.
    @Test func scoreCAMReportsProgress() throws {
        let lm = try ModelStore.wrap(Model.random(try Zoo.layouts("squeezenet1_1")[0], classes: 10, seed: 3, widthDivisor: 8))
        let image = Self.prepared(Self.photo(width: 240, height: 227), lm.preprocessing)
        let dir = NSTemporaryDirectory() + "convlens-progress-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = GradCAMOptions()
        o.method = .scorecam
        o.metrics = false
        o.out = dir + "/s.png"
        var seen: [Double] = []
        _ = try GradCAMJob.run(lm, images: [image], options: o) { fraction, _ in seen.append(fraction) }
        #expect(seen.count >= 3, "\(seen)")                                    // fire9 has 512 / 8 = 64 channels: 2 batches, then done
        #expect(zip(seen, seen.dropFirst()).allSatisfy { $0 <= $1 } && seen.last == 1, "\(seen)")
        #expect(FileManager.default.fileExists(atPath: dir + "/s.png"))
    }
}
