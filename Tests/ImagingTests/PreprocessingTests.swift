import Imaging
import Testing

/// Model inputs compared with what each framework computes, in numpy float32 (Scripts/make_imaging_fixtures.py):
///     x = np.asarray(im, np.float32).transpose(2, 0, 1)                       # (3, H, W) RGB
///     caffe:       x[::-1] - [104.006, 116.669, 122.679]                     # exact
///     torchvision: ((x / 255) - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
///     tf (keras):  x / 127.5 - 1
/// ConvLens multiplies by `scale` (1/255, 1/127.5) where torchvision and keras divide, hence the 1e-6 tolerance there.
@Suite struct PreprocessingTests {
    @Test("tensor() matches numpy", arguments: Fixtures.manifest.tensor)
    func tensorMatchesNumpy(_ entry: Manifest.Tensor) throws {
        let preset = try Preprocessing.named(entry.preset)
        let image = try Fixtures.image(entry.source)
        let t = preset.tensor(image)  // (3, H, W)
        #expect(t.count == entry.values.count)
        let maxDiff = zip(t, entry.values).map { abs($0 - $1) }.max() ?? .infinity
        #expect(maxDiff <= entry.tolerance, "\(entry.preset): maxdiff \(maxDiff) (\(entry.madeBy))")
        print("tensor \(entry.preset): OK, maxdiff \(maxDiff)")
        // Same numbers from float pixels, the path noise images take.
        #expect(preset.tensor(pixels: image.planarPixels(), height: image.height, width: image.width) == t)
    }

    @Test(arguments: Preprocessing.presets)
    func inverseRecoversThePixels(_ preset: Preprocessing) throws {
        let image = try Fixtures.image("resize/noise37x23.png")
        let t = preset.tensor(image)
        let back = preset.pixels(t, height: image.height, width: image.width)  // (3, H, W)
        let maxDiff = zip(back, image.planarPixels()).map { abs($0 - $1) }.max()!
        #expect(maxDiff < 1e-3, "\(preset.name): pixels(tensor(x)) off by \(maxDiff)")
        #expect(preset.image(t, height: image.height, width: image.width) == image)
    }

    @Test func imageRoundsAndClamps() {
        let p = Preprocessing.caffe  // BGR, mean (104.006, 116.669, 122.679)
        // One pixel: tensor channels B, G, R chosen to give R = 300 -> 255, G = -7 -> 0, B = NaN -> 0.
        let t: [Float] = [.nan, -7 - 116.669, 300 - 122.679]
        #expect(p.image(t, height: 1, width: 1).pixels == [255, 0, 0])
        #expect(RGBImage(planar: [2.5, 3.5, 0.4], height: 1, width: 1).pixels == [2, 4, 0])  // half to even
    }

    @Test func presets() throws {
        #expect(Preprocessing.caffe.bgr && Preprocessing.caffe.cropSize == 227 && Preprocessing.caffe.resizeShorterSide == 227)
        #expect(!Preprocessing.torchvision.bgr && Preprocessing.torchvision.resizeShorterSide == 256)
        #expect(Preprocessing.torchvision.cropSize == 224 && Preprocessing.tf.cropSize == 224)
        #expect(try Preprocessing.named("tf") == .tf)
        #expect(throws: PreprocessingError.self) { try Preprocessing.named("caffee") }
        do {
            _ = try Preprocessing.named("caffee")
        } catch {
            #expect("\(error)" == "unknown preprocessing 'caffee'; valid names are: caffe, torchvision, tf, raw, efficientnet-lite")
        }
    }

    /// TensorFlow's EfficientNet-Lite input (efficientnet/lite/efficientnet_lite_builder.py: MEAN_RGB = [127.0] * 3,
    /// STDDEV_RGB = [128.0] * 3 in pixel units): 0 -> -127/128, 127 -> 0, 255 -> 1, in RGB order; bicubic, 256 -> 224.
    @Test func efficientNetLitePreset() throws {
        let p = try Preprocessing.named("efficientnet-lite")
        #expect(p.tensor(pixels: [0, 127, 255], height: 1, width: 1) == [-127 / 128, 0, 1])
        #expect(p.resample == .bicubic && p.resizeShorterSide == 256 && p.cropSize == 224 && !p.bgr)
    }

    @Test func prepareShapesAndPassThrough() throws {
        let rocket = try Fixtures.image("Samples/rocket.jpg")  // 640x427
        for preset in Preprocessing.presets {
            let prepared = preset.prepare(rocket)
            #expect(prepared.width == preset.cropSize && prepared.height == preset.cropSize)
            #expect(preset.prepare(prepared) == prepared, "\(preset.name): a prepared image passes through")
            #expect(preset.tensor(prepared).count == 3 * preset.cropSize * preset.cropSize)
        }
    }
}
