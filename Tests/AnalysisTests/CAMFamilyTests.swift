import Testing
@testable import Analysis
import Engine
import Models
import TestSupport

/// Every CAM method against pytorch-grad-cam 1.5.7 (captum 0.9.0 for saliency, SmoothGrad and integrated
/// gradients) on a narrow random-weight ResNet-18: the zoo fixture's weights (width / 8, 10 classes), two 80x80
/// images with target classes 3 and 7. Fixture group "cam_family" of Scripts/make_fixtures.py:
///     targets = [ClassifierOutputTarget(c) for c in [3, 7]]
///     cls(model=model, target_layers=[model.layer4[-1]])(input_tensor=x, targets=targets)   # -> cam_<method>
///     GradCAM(model, [model.layer3[-1], model.layer4[-1]])(x, targets)                     # -> cam_gradcam_layer3_layer4
///     deprocess_image(GuidedBackpropReLUModel(model)(x[i:i+1], c))                        # -> cam_guided-backprop_u8
///     deprocess_image(np.stack([gradcam] * 3, -1) * gb)                                   # -> cam_guided-gradcam_u8
///     Saliency(model).attribute(x, target=classes, abs=True).abs().amax(1)                 # -> cam_saliency_raw
///     NoiseTunnel(Saliency(...)).attribute(x0, nt_type="smoothgrad", nt_samples=4, stdevs=0.15 * (max - min))
///                                                                  # -> cam_smoothgrad_raw_0, its noise recorded
///     IntegratedGradients(model).attribute(x, 0, target=classes, n_steps=50, method="gausslegendre").sum(1).abs()
/// Tolerance: 1e-2 max abs on maps in [0, 1] after the resize, as pytorch-grad-cam's cv2 resize is the reference.
@Suite(.serialized) struct CAMFamilyTests {   // one model, one pass at a time (a Graph reuses its buffers)
    // Read-only after its one initialisation, and the suite is serialized: no two tests use it at once.
    nonisolated(unsafe) static let model: Model? = try? Model.load("resnet18", weights: Fixture.stateDict(Fixture.root + "/Tests/Fixtures/zoo/resnet18/weights.pth"),
                                               source: "zoo fixture", widthDivisor: 8)
    static let tolerance: Float = 1e-2

    func run(_ method: CAMMethod, layers: [String] = ["layer4"], input: Tensor? = nil, classes: [Int] = [3, 7]) throws -> CAMResult {
        let model = try #require(Self.model)
        return try CAM.compute(method, graph: model.graph, input: input ?? Fixture.load("cam_input"), layers: layers, classes: classes)
    }

    @Test("maps equal pytorch-grad-cam's", arguments: [("gradcam", "gradcam"), ("gradcam++", "gradcampp"), ("xgradcam", "xgradcam"),
                                                      ("hirescam", "hirescam"), ("layercam", "layercam"), ("eigencam", "eigencam"),
                                                      ("scorecam", "scorecam"), ("ablationcam", "ablationcam")])
    func layerMethods(_ method: String, _ fixture: String) throws {
        let r = try run(try CAMMethod.named(method))
        #expect(r.classes == [3, 7])
        #expect(compare("\(method) vs pytorch-grad-cam", r.maps, try Fixture.load("cam_\(fixture)"), tolerance: Self.tolerance))
    }

    @Test func severalLayersAreAveragedAsPytorchGradCamDoes() throws {
        let r = try run(.gradcam, layers: ["layer3", "layer4"])
        #expect(compare("gradcam layer3+layer4 vs pytorch-grad-cam", r.maps, try Fixture.load("cam_gradcam_layer3_layer4"), tolerance: Self.tolerance))
    }

    @Test("guided images equal pytorch-grad-cam's deprocessed ones", arguments: ["guided-backprop", "guided-gradcam"])
    func guided(_ method: String) throws {
        let r = try run(try CAMMethod.named(method))
        let images = try #require(r.images)
        let expected = try Fixture.load("cam_\(method)_u8")                         // (2, 80, 80, 3) uint8
        let ours = Tensor(shape: images.shape, data: images.data.map { $0 * 255 })
        // pytorch-grad-cam truncates to uint8: ours may be up to 1 above, plus the shared tolerance.
        #expect(compare("\(method) vs pytorch-grad-cam (0...255)", ours, expected, tolerance: 1 + 255 * Self.tolerance))
    }

    /// captum's raw attributions, normalised as ConvLens presents every map (ReLU, then x − min, / (max + 1e−7)).
    func normalised(_ raw: Tensor, images: Int) -> Tensor {
        let per = raw.count / images
        return Tensor(shape: raw.shape, data: (0 ..< images).flatMap { CAM.normalize(Array(raw.data[$0 * per ..< ($0 + 1) * per]).map { max($0, 0) }) })
    }

    @Test func saliencyEqualsCaptum() throws {
        let r = try run(.saliency)
        #expect(compare("saliency vs captum", r.maps, normalised(try Fixture.load("cam_saliency_raw"), images: 2), tolerance: Self.tolerance))
    }

    @Test func smoothGradEqualsCaptumWithTheSameNoise() throws {
        let noise = try Fixture.load("cam_smoothgrad_noise")                        // (4, 3, 80, 80), unit variance
        let input = try Fixture.load("cam_input").item(0)
        let r = try run(.smoothgrad(samples: 4, noise: 0.15, fixedNoise: noise), input: input, classes: [3])
        #expect(compare("smoothgrad vs captum", r.maps, normalised(try Fixture.load("cam_smoothgrad_raw_0"), images: 1).reshaped([1, 80, 80]),
                        tolerance: Self.tolerance))
    }

    @Test func integratedGradientsEqualCaptum() throws {
        let r = try run(.integratedGradients)
        #expect(compare("integrated gradients vs captum", r.maps, normalised(try Fixture.load("cam_integrated-gradients_raw"), images: 2),
                        tolerance: Self.tolerance))
    }

    @Test func gaussLegendreMatchesNumpy() {
        // np.polynomial.legendre.leggauss(5): nodes ±0.9061798459, ±0.5384693101, 0; weights 0.2369268851, 0.4786286705, 0.5688888889
        let (a, w) = gaussLegendre(5)
        let expectedNodes = [-0.9061798459386640, -0.5384693101056831, 0, 0.5384693101056831, 0.9061798459386640].map { 0.5 * (1 + $0) }
        let expectedWeights = [0.2369268850561891, 0.4786286704993665, 0.5688888888888889, 0.4786286704993665, 0.2369268850561891].map { 0.5 * $0 }
        for i in 0 ..< 5 {
            #expect(abs(a[i] - expectedNodes[i]) < 1e-12)
            #expect(abs(w[i] - expectedWeights[i]) < 1e-12)
        }
    }
}
