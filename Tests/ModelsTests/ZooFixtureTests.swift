import Engine
import Foundation
import Models
import Testing
import TestSupport

// Every architecture of the zoo against PyTorch. The expected numbers are Tests/Fixtures/zoo/<fixture>/*.npy, made
// by Scripts/make_zoo_fixtures.py (torch 2.13 CPU) with these lines (abridged; torchvision's module structure is
// rebuilt in plain torch there, so the state_dict keys are torchvision's):
//
//     model = randomise(BUILD[arch](classes=10, div), seed)   # He-normal conv/linear, biases U(-0.1, 0.1),
//         # BN weight U(0.5, 1.5), bias U(-0.2, 0.2), running_mean U(-0.2, 0.2), running_var U(0.5, 2)
//     x = torch.randn(shape, generator=torch.Generator().manual_seed(seed + 1000))     # saved as input.npy
//     sd = convert(model.state_dict(), dtype)                    # float32, float16 or bfloat16
//     torch.save(sd, "weights.pth")                              # or _use_new_zipfile_serialization=False,
//     save_file(sd, "weights.safetensors")                       # or {"state_dict": {"module." + k: v}, "epoch": 90}
//     model.double().load_state_dict(convert(sd, torch.float64))  # exactly the values the file holds
//     hooks = [m.register_forward_hook(lambda m, i, o, n=n: calls.setdefault(n, []).append((i[0].clone(), o.clone())))
//              for n, m in model.named_modules() if n]
//     out = model(x.double())                                    # "logits"
//     calls[name][0][1]                                          # "layer2.1", "features.29", "features.3.squeeze_activation"
//     calls["layer1.0.relu"][1][1]                               # "layer1.0.relu_1" (the k-th call of a reused ReLU)
//     calls["layer1.0.relu"][-1][0]                              # "layer1.0.add" (the residual sum before the last ReLU)
//     np.save(f"{ref}/{name}.npy", t.float().numpy())
//
// Each activation must match within 1e-4 x max|expected|.

/// One weights file of a fixture folder, and the activations to check against torch's.
struct ZooCase: Sendable, CustomTestStringConvertible {
    /// The folder under Tests/Fixtures/<set>/.
    let folder: String
    /// The zoo name, and the layout `Model.load` must pick.
    let model: String, layout: String
    /// The width divisor the script built with.
    let divisor: Int
    /// The weights file in the folder, and the subfolder of its reference activations ("" for the folder itself).
    let weights: String, references: String
    /// ConvLens / torchvision layer names; "logits" is the model's output.
    let layers: [String]

    init(_ folder: String, _ model: String, _ layout: String = "torchvision", divisor: Int, weights: String,
         references: String = "", layers: [String]) {
        (self.folder, self.model, self.layout, self.divisor) = (folder, model, layout, divisor)
        (self.weights, self.references, self.layers) = (weights, references, layers)
    }

    var testDescription: String { "\(folder)/\(weights)" }

    /// Loads the weights, runs the input and compares every listed activation with torch's.
    /// - Parameters: set: "zoo" (committed, narrow) or "full" (git-ignored, full width); fused: run the inference
    ///   graph (BN folded, ReLUs fused) keeping the checked layers.
    func check(set: String, fused: Bool = false) throws {
        let dir = "\(set)/\(folder)"
        let path = Fixture.root + "/Tests/Fixtures/\(dir)/\(weights)"
        let model = try Model.load(self.model, weights: try Fixture.stateDict(path), source: path, widthDivisor: divisor)
        #expect(model.architecture.layout == layout, "\(testDescription): chose layout \(model.architecture.layout)")
        let x = try Fixture.load("\(dir)/input")                       // (N, 3, H, W)
        let acts = try (fused ? model.inference(keeping: Set(layers)) : model.graph).forward(x)
        let ref = references.isEmpty ? dir : "\(dir)/\(references)"
        for layer in layers {
            let expected = try Fixture.load("\(ref)/\(layer)")
            let got = try acts.output(layer)
            #expect(got.shape == expected.shape, "\(testDescription) \(layer): shape \(got.shape), torch \(expected.shape)")
            let scale = expected.data.reduce(0) { max($0, abs($1)) }
            let label = "\(set)/\(testDescription)\(fused ? " fused" : "") \(layer) (max|torch| \(scale))"
            let ok = compare(label, got, expected, tolerance: 1e-4 * scale)   // a Bool, so a failure does not print the tensors
            #expect(ok, "\(label): see the TENSOR BAD line")
        }
    }
}

@Suite struct ZooFixtureTests {
    /// Formats: zip .pth f32 (resnet18, mobilenet_v2, squeezenet1_1), f16 (resnet18, resnet50), bf16 (resnet18,
    /// vgg16_bn); legacy .pt (deep-sort MobileNetV2, squeezenet1_0); safetensors F32 (resnet34, vgg16), F16 (vgg19_bn),
    /// BF16 (alexnet); a DataParallel {"state_dict": {"module.…"}} checkpoint (vgg19).
    static let cases: [ZooCase] = [
        ZooCase("resnet18", "resnet18", divisor: 8, weights: "weights.pth",
                layers: ["maxpool", "layer1.0.relu", "layer1.0.add", "layer1.0", "layer2.1", "layer3", "layer4", "avgpool", "logits"]),
        ZooCase("resnet18", "resnet18", divisor: 8, weights: "weights-f16.pth", references: "f16", layers: ["layer2.1", "layer4", "logits"]),
        ZooCase("resnet18", "resnet18", divisor: 8, weights: "weights-bf16.pth", references: "bf16", layers: ["layer2.1", "layer4", "logits"]),
        ZooCase("resnet34", "resnet34", divisor: 8, weights: "weights.safetensors", layers: ["layer2.0", "layer3.5", "layer4", "logits"]),
        ZooCase("resnet50", "resnet50", divisor: 16, weights: "weights-f16.pth",
                layers: ["layer1.0.relu", "layer1.0.relu_1", "layer1.0.add", "layer1.0", "layer2.0", "layer3.5", "layer4", "logits"]),
        ZooCase("vgg16", "vgg16", divisor: 32, weights: "weights.safetensors",
                layers: ["features.4", "features.15", "features.29", "features.30", "avgpool", "classifier.1", "logits"]),
        ZooCase("vgg16_bn", "vgg16_bn", divisor: 32, weights: "weights-bf16.pth",
                layers: ["features.2", "features.42", "features.43", "avgpool", "logits"]),
        ZooCase("vgg19", "vgg19", divisor: 32, weights: "checkpoint.pth.tar", layers: ["features.35", "features.36", "avgpool", "logits"]),
        ZooCase("vgg19_bn", "vgg19_bn", divisor: 32, weights: "weights-f16.safetensors",
                layers: ["features.51", "features.52", "avgpool", "logits"]),
        ZooCase("mobilenet_v2", "mobilenet_v2", divisor: 4, weights: "weights.pth",
                layers: ["features.0", "features.1", "features.2", "features.3", "features.14", "features.17", "features.18", "logits"]),
        ZooCase("mobilenet_v2-deep-sort", "mobilenet_v2", "deep-sort", divisor: 4, weights: "weights.pt",
                layers: ["features.0", "features.1", "features.3", "features.17", "features.18", "logits"]),
        ZooCase("alexnet", "alexnet", divisor: 16, weights: "weights-bf16.safetensors",
                layers: ["features.2", "features.11", "features.12", "avgpool", "classifier.2", "logits"]),
        ZooCase("squeezenet1_0", "squeezenet1_0", divisor: 4, weights: "weights.pt",
                layers: ["features.2", "features.3.squeeze_activation", "features.3", "features.6", "features.12", "classifier.1", "logits"]),
        ZooCase("squeezenet1_1", "squeezenet1_1", divisor: 4, weights: "weights.pth",
                layers: ["features.2", "features.3.squeeze_activation", "features.3", "features.5", "features.12", "classifier.1", "logits"]),
    ]

    @Test("architecture matches torch", arguments: cases)
    func matchesTorch(_ c: ZooCase) throws {
        try c.check(set: "zoo")
    }

    /// The same references through the inference graph, where BatchNorm is folded into the convolutions and ReLUs
    /// run in their epilogues (the layers checked are kept, everything else may fuse).
    @Test("fused inference graph matches torch", arguments: cases)
    func fusedMatchesTorch(_ c: ZooCase) throws {
        try c.check(set: "zoo", fused: true)
    }

    /// zoo/errors/resnet18-broken.safetensors, from make_zoo_fixtures.py's error_fixture():
    ///     sd = randomise(BUILD["resnet18"](10, 16), 7).state_dict()
    ///     sd["layer1.0.conv1.weight"] = sd["layer1.0.conv1.weight"][:, :, :1, :1].contiguous()
    ///     del sd["layer2.0.bn1.running_var"]
    ///     sd["layer5.0.conv1.weight"] = torch.zeros(4, 4, 3, 3)
    @Test func brokenWeightsListTheWrongShapeTheMissingAndTheUnexpectedKey() throws {
        let path = Fixture.root + "/Tests/Fixtures/zoo/errors/resnet18-broken.safetensors"
        let dict = try Fixture.stateDict(path)
        let error = try #require(throws: ModelError.self) {
            try Model.load("resnet18", weights: dict, source: path, widthDivisor: 16)
        }
        print("error: \(error.message)")
        #expect(error.message.contains("layer1.0.conv1.weight: file has [4, 4, 1, 1], model expects [4, 4, 3, 3]"))
        #expect(error.message.contains("missing keys: layer2.0.bn1.running_var"))
        #expect(error.message.contains("unexpected keys: layer5.0.conv1.weight"))
    }

    /// Weights of one width loaded at another: every conv is wrong, the message names the first ones and counts all.
    @Test func weightsOfAnotherWidthAreRefusedWithBothShapes() throws {
        let path = Fixture.root + "/Tests/Fixtures/zoo/resnet18/weights.pth"
        let error = try #require(throws: ModelError.self) {
            try Model.load("resnet18", weights: try Fixture.stateDict(path), source: path, widthDivisor: 16)
        }
        print("error: \(error.message)")
        #expect(error.message.contains("conv1.weight: file has [8, 3, 7, 7], model expects [4, 3, 7, 7]"))
        #expect(error.message.contains("in all)"))
    }
}
