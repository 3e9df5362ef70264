import Engine
import Foundation
@testable import Models
import Testing
import TestSupport

// EfficientNet-Lite, EfficientNet-B (torchvision's and efficientnet_pytorch's layouts) and MobileNetV3 against
// PyTorch. The expected numbers are Tests/Fixtures/efficientnet/<fixture>/*.npy, made by
// Scripts/make_efficientnet_fixtures.py (torch 2.13 CPU) with make_zoo_fixtures.py's recipe (see ZooFixtureTests):
//
//     model = randomise(BUILD[arch](classes=10, div), seed)   # plain-torch copies of the reference modules, narrow
//     x = torch.randn(shape, generator=torch.Generator().manual_seed(seed + 1000))
//     write_weights(model.state_dict(), "weights.pth" | "weights.safetensors", kind)
//     activations(model.double(), x, taps)                     # forward hooks; "_swish_1" = the 2nd call of _swish
//
// The script checks its copies first: at full width the parameter totals equal torchvision's num_params and the
// reference package's counts, and the Lite and efficientnet_pytorch copies give the reference package's outputs
// (real Lite0 weights: identical; random B0 weights: within 3e-7). Each activation must match within 1e-4 x max|torch|.

@Suite struct EfficientNetTests {
    static let cases: [ZooCase] = [
        ZooCase("efficientnet_lite0", "efficientnet_lite0", "efficientnet_lite_pytorch", divisor: 8, weights: "weights.pth",
                layers: ["_swish", "_blocks.0", "_blocks.1._swish", "_blocks.1._swish_1", "_blocks.2", "_blocks.3._depthwise_conv",
                         "_blocks.5", "_blocks.15", "_swish_1", "logits"]),
        ZooCase("efficientnet_b0-efficientnet_pytorch", "efficientnet_b0", "efficientnet_pytorch", divisor: 8, weights: "weights.pth",
                layers: ["_swish", "_blocks.0._se_expand", "_blocks.0", "_blocks.1._swish_2", "_blocks.2", "_blocks.3._depthwise_conv",
                         "_blocks.15", "_swish_1", "logits"]),
        ZooCase("efficientnet_b0", "efficientnet_b0", divisor: 8, weights: "weights.safetensors",
                layers: ["features.0", "features.1.0.block.1", "features.1", "features.2.0.block.2.scale_activation", "features.2.1",
                         "features.4.0.block.1", "features.7", "features.8", "logits"]),
        ZooCase("mobilenet_v3_small", "mobilenet_v3_small", divisor: 4, weights: "weights.pth",
                layers: ["features.0", "features.1.block.1.scale_activation", "features.1", "features.3", "features.4.block.0",
                         "features.6", "features.12", "classifier.1", "logits"]),
        ZooCase("mobilenet_v3_large", "mobilenet_v3_large", divisor: 8, weights: "weights.safetensors",
                layers: ["features.0", "features.1", "features.4.block.2", "features.5", "features.7.block.0", "features.12",
                         "features.16", "classifier.1", "logits"]),
    ]

    @Test("architecture matches torch", arguments: cases)
    func matchesTorch(_ c: ZooCase) throws {
        try c.check(set: "efficientnet")
    }

    @Test("fused inference graph matches torch", arguments: cases)
    func fusedMatchesTorch(_ c: ZooCase) throws {
        try c.check(set: "efficientnet", fused: true)
    }

    /// Full-width totals: efficientnet_lite_pytorch's `sum(p.numel() for p in EfficientNet.from_name(name).parameters())`
    /// for Lite0-4 and B0-B7 in its (efficientnet_pytorch's) layout, and torchvision's published num_params for B0-B7
    /// and MobileNetV3 (make_efficientnet_fixtures.py checks its torch copies against both; Lite0's 4,652,008 is also
    /// the number).
    @Test func parameterTotalsMatchTheReferences() throws {
        let b = [5_288_548, 7_794_184, 9_109_994, 12_233_232, 19_341_616, 30_389_784, 43_040_704, 66_347_960]
        let totals: [(String, String, Int)] = [
            ("efficientnet_lite0", "efficientnet_lite_pytorch", 4_652_008), ("efficientnet_lite1", "efficientnet_lite_pytorch", 5_416_680),
            ("efficientnet_lite2", "efficientnet_lite_pytorch", 6_092_072), ("efficientnet_lite3", "efficientnet_lite_pytorch", 8_197_096),
            ("efficientnet_lite4", "efficientnet_lite_pytorch", 13_006_568),
            ("mobilenet_v3_large", "torchvision", 5_483_032), ("mobilenet_v3_small", "torchvision", 2_542_856),
        ] + b.enumerated().flatMap { i, n in [("efficientnet_b\(i)", "torchvision", n), ("efficientnet_b\(i)", "efficientnet_pytorch", n)] }
        for (name, layout, expected) in totals {
            let arch = try #require(try Zoo.layouts(name).first { $0.layout == layout })
            let total = arch.build(arch.defaultClasses).nodes.reduce(0) { $0 + $1.layer.parameterCount }
            #expect(total == expected, "\(name) (\(layout)): \(total) parameters, the reference has \(expected)")
        }
    }

    /// Conv2dStaticSamePadding's pads for Lite0 at 224, as the reference builds them (printed by
    /// `EfficientNet.from_pretrained('efficientnet-lite0')._conv_stem.static_padding` etc.): ZeroPad2d((0, 1, 0, 1)) for
    /// the stride-2 3x3 stem and _blocks.1, ZeroPad2d((1, 2, 1, 2)) for _blocks.3's stride-2 5x5, (1, 1) and (2, 2) at
    /// stride 1, none for 1x1. The feature map before pooling is 7x7.
    @Test func liteHasTensorFlowsStaticSamePadding() throws {
        let g = try Zoo.layouts("efficientnet_lite0")[0].build(1000)
        func pad(_ name: String) throws -> Padding { try #require(try g.node(name).layer as? Conv2d).padding }
        #expect(try pad("_conv_stem") == Padding(top: 0, left: 0, bottom: 1, right: 1))
        #expect(try pad("_blocks.1._depthwise_conv") == Padding(top: 0, left: 0, bottom: 1, right: 1))
        #expect(try pad("_blocks.3._depthwise_conv") == Padding(top: 1, left: 1, bottom: 2, right: 2))
        #expect(try pad("_blocks.2._depthwise_conv") == Padding(1))
        #expect(try pad("_blocks.4._depthwise_conv") == Padding(2))
        #expect(try pad("_blocks.1._expand_conv") == .zero)
        let shapes = try g.shapes(input: [1, 3, 224, 224])
        #expect(shapes[try g.index(of: "features")] == [1, 1280, 7, 7])
        #expect(shapes[try g.index(of: "_blocks")] == [1, 320, 7, 7])
        #expect(shapes.last == [1, 1000])
    }

    /// The default Grad-CAM layer is the feature map before pooling (torchvision's `model.features[-1]`), and its
    /// output sizes at 224 are torchvision's.
    @Test func defaultLayersAreTheLastFeatureMaps() throws {
        for (name, layer, shape) in [("efficientnet_b0", "features.8", [1, 1280, 7, 7]), ("mobilenet_v3_large", "features.16", [1, 960, 7, 7]),
                                     ("mobilenet_v3_small", "features.12", [1, 576, 7, 7])] {
            let arch = try Zoo.layouts(name)[0]
            #expect(arch.camLayer == layer)
            let g = arch.build(1000)
            #expect(try g.shapes(input: [1, 3, 224, 224])[try g.index(of: layer)] == shape, "\(name) \(layer)")
        }
    }
}
