import Testing
@testable import Engine
@testable import Models

/// BN folding and ReLU fusion: the graph shrinks, kept names stay, absorbed pre-activation names go. That the fused
/// graph still computes what torch does is ZooFixtureTests' "fused inference graph matches torch".
@Suite struct FusionTests {
    /// Fusion must actually happen for the architectures with BN (numbers: ZooFixtureTests' fused cases).
    @Test("fusion removes nodes", arguments: ["resnet18", "resnet50", "mobilenet_v2", "vgg16_bn", "squeezenet1_1"])
    func fusionRemovesNodes(_ name: String) throws {
        let arch = try Zoo.layouts(name)[0]
        let model = Model.random(arch, classes: 10, seed: 3, widthDivisor: 8)
        let fused = model.inference(keeping: [arch.camLayer])
        print("\(name): \(model.graph.nodes.count) layers, \(fused.nodes.count) after fusion")
        #expect(fused.nodes.count < model.graph.nodes.count)
        #expect(try fused.index(of: arch.camLayer) >= 0)
    }

    @Test func keptAndAbsorbedNames() throws {
        let model = Model.random(try Zoo.layouts("resnet18")[0], classes: 10, seed: 1, widthDivisor: 8)
        let g = model.graph.fused(keeping: ["layer1.0.bn1"])
        #expect((try? g.index(of: "conv1")) == nil)          // conv1 → bn1 → relu became one node named "relu"
        #expect((try? g.index(of: "relu")) != nil)
        #expect((try? g.index(of: "layer1.0.bn1")) != nil)   // kept: not folded into its conv, not fused with its ReLU
        #expect((try? g.index(of: "layer1.0.relu")) != nil)
        #expect((try? g.index(of: "layer4")) != nil)         // aliases to surviving nodes survive
        #expect(g.nodes.first { $0.name == "relu" }?.layer is Conv2d)
    }
}
