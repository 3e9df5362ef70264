import Foundation
import Testing
@testable import Analysis
import Engine
import Models
import TestSupport

/// The Keras book's recipe against torch, on VGG16 with every width divided by 16 and seeded random weights.
/// Fixtures from Scripts/make_pattern_fixtures.py (torch 2.13, float32):
///     features = VGG(cfg["vgg16"], div=16)... .features[:12]            # up to features.11, block3_conv1's ReLU
///     x = start (uniform noise ×20 + 128, through torchvision's Normalize), one filter per batch item
///     for _ in range(40): g = grad(Σ_i out[i, i].mean(), x); x += g / (sqrt(mean(g², per item)) + 1e-5)
///     display = deprocess_image((x·std + mean)·255) / 255,  activation_i = out(x)[i, i].mean()
@Suite struct PatternKerasTests {
    static let torchvision = InputSpace(name: "torchvision", bgr: false, scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])

    /// The narrow VGG16 with the fixture's weights in its first layers.
    static func vgg() throws -> Graph {
        let model = Model.random(try Zoo.layouts("vgg16")[0], classes: 10, widthDivisor: 16)
        let dict = try Fixture.stateDict(Fixture.root + "/Tests/Fixtures/patterns/vgg16_div16_features.pth")
        for (key, t) in dict {
            let dot = key.lastIndex(of: ".")!
            let node = try model.graph.node(String(key[..<dot]))
            node.layer.setParameter(String(key[key.index(after: dot)...]), t)
        }
        #expect(dict.count == 10)
        return model.graph
    }

    static func fixture(_ name: String) throws -> Tensor { try Fixture.load("patterns/\(name)") }

    @Test func kerasRecipeMatchesTorchAfter40Steps() throws {
        let graph = try Self.vgg()
        let start = try Self.fixture("start")                                 // (12, 3, 32, 32)
        let r = try FilterPatterns.run(graph, layer: "features.11", filters: Array(0 ..< 12), recipe: .keras(Self.torchvision),
                                       size: 32, start: start)
        #expect(compare("keras recipe, 40 steps vs torch", r.inputs, try Self.fixture("keras_result"), tolerance: 1e-3))
        #expect(compare("deprocessed display vs numpy", r.images, try Self.fixture("keras_display"), tolerance: 1 / 255 + 1e-6))
        let expected = try Self.fixture("keras_activation")
        #expect(compare("own activations vs torch", Tensor(shape: [12], data: r.activations), expected, tolerance: 1e-3 * max(1, expected.maxAbs)))
        // The filters whose ReLU is dead on the noise do not move, in torch and here.
        #expect(zip(r.activations, r.startActivations).filter { $0.0 == 0 && $0.1 == 0 }.count == 3)
    }

    @Test func deprocessIsTheBooksFunction() {
        // x = [0, 1, 2, 3]: mean 1.5, std √1.25; (x − 1.5)/(1.118034 + 1e-5)·0.1 + 0.5 → ×255, truncated.
        let x = Tensor(shape: [1, 1, 2, 2], data: [0, 1, 2, 3])
        let y = PatternRecipe.deprocess(x)
        let expected: [Float] = [93, 116, 138, 161].map { $0 / 255 }
        #expect(compare("deprocess", y, Tensor(shape: [1, 1, 2, 2], data: expected), tolerance: 1e-6))
    }

    @Test func inputSpaceMatchesThePreprocessingFormula() {
        // Caffe: BGR, pixel − mean (B, G, R); the model's channel 0 reads the blue plane.
        let caffe = InputSpace(name: "caffe", bgr: true, scale: 1, mean: [104.006, 116.669, 122.679], std: [1, 1, 1])
        let rgb = Tensor(shape: [1, 3, 1, 2], data: [10, 20, 30, 40, 50, 60])   // R = 10, 20; G = 30, 40; B = 50, 60
        let m = caffe.fromPixels(rgb)
        #expect(compare("caffe input", m, Tensor(shape: [1, 3, 1, 2], data: [50 - 104.006, 60 - 104.006, 30 - 116.669, 40 - 116.669,
                                                                              10 - 122.679, 20 - 122.679]), tolerance: 1e-4))
        #expect(compare("caffe round trip", caffe.toPixels(m), rgb, tolerance: 1e-4))
        let tv = Self.torchvision
        #expect(compare("torchvision round trip", tv.toPixels(tv.fromPixels(rgb)), rgb, tolerance: 1e-4))
        #expect(abs(tv.fromPixels(rgb).data[0] - (10 / 255 - 0.485) / 0.229) < 1e-5)
    }
}
