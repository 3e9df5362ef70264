import Testing
@testable import Analysis
import Engine
import TestSupport

/// Each kind of target against pytorch-grad-cam 1.5.7's model targets, on small seeded models sharing one trunk
/// (conv1 → ReLU → conv2 [the target layer] → ReLU) and two 12×12 images. Fixture group "cam_targets" of
/// Scripts/make_fixtures.py:
///     cls(model, [model.conv2], reshape_transform)(input_tensor=x, targets=targets)   # cls GradCAM, GradCAMPlusPlus
///     logit:   ClassifierOutputTarget(2), (4)             prob:   ClassifierOutputSoftmaxTarget(2), (4)
///     classes: lambda o: o[1] + o[3]                       sigmoid: BinaryClassifierOutputTarget(1) on Sequential(model, Sigmoid)
///     output:  RawScoresOutputTarget() (one output)       mask:   SemanticSegmentationTarget(1, mask)
///     tokens:  ClassifierOutputTarget(2), (4) at (N, 36, 6) tokens, reshape_transform (N, 6, 6, C) -> (N, C, 6, 6)
/// Grad-CAM++ is not invariant to scaling the gradient, so it tells a target's derivative (σ′, softmax) apart.
/// The scores are each target applied to the model's output, in torch.
@Suite struct CAMTargetTests {
    /// The model of one head, its weights from the fixtures (torch's layouts).
    static func model(_ head: String) throws -> Graph {
        let g = Graph()
        func conv(_ name: String, _ layer: Conv2d) throws {
            layer.weight = try Fixture.load("cam_targets/\(head)_\(name).weight")
            layer.bias = try Fixture.load("cam_targets/\(head)_\(name).bias")
            g.add(name, layer)
        }
        try conv("conv1", Conv2d(3, 4, kernel: 3, padding: 1))
        g.add("relu1", ActivationLayer(.relu))
        try conv("conv2", Conv2d(4, 6, kernel: 3, stride: head == "tokens" ? 2 : 1, padding: 1))
        g.add("relu2", ActivationLayer(.relu))
        if head == "segmentation" {
            try conv("out", Conv2d(6, 3, kernel: 1))                     // (N, 3, 12, 12)
            return g
        }
        if head == "tokens" {
            g.add("flat", Reshape([2, 6, 36]))                           // (N, C, T)
            g.add("tokens", Transpose([0, 2, 1]))                        // (N, T, C)
            g.add("mean", Reduce(.mean, axes: [1], keepDims: false))     // (N, C)
        } else {
            g.add("pool", AdaptiveAvgPool2d(1, 1))
            g.add("flatten", Flatten())                                  // (N, C)
        }
        let out = Linear(6, head == "regression" ? 1 : 5)
        out.weight = try Fixture.load("cam_targets/\(head)_out.weight")
        out.bias = try Fixture.load("cam_targets/\(head)_out.bias")
        g.add("out", out)
        return g
    }

    static let mask = (try? Fixture.load("cam_targets/mask")).map { CAMTarget.Mask(height: 12, width: 12, values: $0.data) }

    @Test("maps and scores equal pytorch-grad-cam's model targets",
          arguments: ["logit", "prob", "classes", "sigmoid", "output", "mask", "tokens"])
    func target(_ name: String) throws {
        let targets: [CAMTarget] = switch name {
        case "logit", "tokens": [.logit(2), .logit(4)]
        case "prob": [.probability(2), .probability(4)]
        case "classes": [.logits([1, 3]), .logits([1, 3])]
        case "sigmoid": [.sigmoid(0), .sigmoid(0)]
        case "output": [.output(0), .output(0)]
        default: [.mask(class: 1, try #require(Self.mask)), .mask(class: 1, try #require(Self.mask))]
        }
        let head = switch name {
        case "sigmoid", "output": "regression"
        case "mask": "segmentation"
        case "tokens": "tokens"
        default: "classifier"
        }
        let pass = try CAMPass(graph: try Self.model(head), input: try Fixture.load("cam_targets/input"), output: "out",
                               reshape: name == "tokens" ? CAMGrid(height: 6, width: 6) : nil)
        let layer = name == "tokens" ? "tokens" : "conv2"
        for (method, fixture) in [(CAMMethod.gradcam, "gradcam"), (.gradcamPlusPlus, "gradcampp")] {
            let r = try pass.explain(method, layers: [layer], targets: targets)
            #expect(compare("\(name) \(fixture) vs pytorch-grad-cam", r.maps, try Fixture.load("cam_targets/\(name)_\(fixture)"), tolerance: 1e-3))
        }
        let r = try pass.explain(.gradcam, layers: [layer], targets: targets)
        #expect(compare("\(name) scores vs torch", Tensor(shape: [2], data: r.scores), try Fixture.load("cam_targets/\(name)_scores"), tolerance: 1e-5))
    }

    @Test func targetsThatDoNotFitTheOutputNameWhatWould() throws {
        let pass = try CAMPass(graph: try Self.model("segmentation"), input: try Fixture.load("cam_targets/input"), output: "out")
        let mask = try #require(Self.mask)
        for (targets, message) in [
            ([CAMTarget.logit(2), .logit(2)], "target class 2 needs a classifier's output (K); this model's output is 3×12×12: "
                + "use output:I for a raw output element, or mask:C@FILE for a segmentation output"),
            ([.mask(class: 3, mask), .logit(0)], "class index 3 is out of range: the model has 3 classes (0…2)"),
            ([.output(432), .output(0)], "output index 432 is out of range: the model has 432 outputs (0…431)"),
        ] {
            let e = #expect(throws: EngineError.self) { try pass.explain(.gradcam, layers: ["conv2"], targets: targets) }
            #expect(e?.message == message)
        }
    }
}
