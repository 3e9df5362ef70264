import Testing
@testable import Engine
@testable import Models

/// Architectures against the numbers torchvision prints: total parameters
/// (`sum(p.numel() for p in torchvision.models.<name>().parameters())`) and output shapes.
@Suite struct ArchitectureTests {
    static let torchvisionTotals: [(String, String, Int)] = [
        ("squeezenet1_1", "caffe", 1_235_496), ("squeezenet1_1", "torchvision", 1_235_496), ("squeezenet1_0", "torchvision", 1_248_424),
        ("resnet18", "torchvision", 11_689_512), ("resnet34", "torchvision", 21_797_672), ("resnet50", "torchvision", 25_557_032),
        ("vgg16", "torchvision", 138_357_544), ("vgg19", "torchvision", 143_667_240), ("vgg16_bn", "torchvision", 138_365_992),
        ("vgg19_bn", "torchvision", 143_678_248), ("mobilenet_v2", "torchvision", 3_504_872), ("alexnet", "torchvision", 61_100_840),
    ]

    @Test func parameterTotalsMatchTorchvision() throws {
        for (name, layout, expected) in Self.torchvisionTotals {
            let arch = try #require(try Zoo.layouts(name).first { $0.layout == layout })
            let g = arch.build(arch.defaultClasses)
            let total = g.nodes.reduce(0) { $0 + $1.layer.parameterCount }
            #expect(total == expected, "\(name) (\(layout)): \(total) parameters, torchvision has \(expected)")
        }
    }

    @Test func outputShapesAtTheDefaultInputSize() throws {
        let cases: [(String, String, [Int])] = [
            ("squeezenet1_1", "fire9", [1, 512, 14, 14]), ("squeezenet1_1", "logits", [1, 1000]),
            ("resnet18", "layer4", [1, 512, 7, 7]), ("resnet50", "layer4", [1, 2048, 7, 7]),
            ("vgg16", "features.29", [1, 512, 14, 14]), ("mobilenet_v2", "features.18", [1, 1280, 7, 7]),
            ("alexnet", "features.11", [1, 256, 13, 13]),
        ]
        for (name, layer, shape) in cases {
            let arch = try Zoo.layouts(name)[0]
            let g = arch.build(1000)
            let shapes = try g.shapes(input: [1, 3, arch.inputSize, arch.inputSize])
            let got = layer == "logits" ? shapes.last! : shapes[try g.index(of: layer)]
            #expect(got == shape, "\(name) \(layer): \(got), expected \(shape)")
        }
    }

    @Test func deepSortBackboneEndsInA1280Embedding() throws {
        let arch = try #require(try Zoo.layouts("mobilenet_v2").first { $0.layout == "deep-sort" })
        let g = arch.build(0)
        #expect(try g.shapes(input: [2, 3, 224, 224]).last! == [2, 1280])
        #expect(g.nodes.reduce(0) { $0 + $1.layer.parameterCount } == 3_504_872 - 1_281_000)
    }
}
