import Foundation
import Testing
@testable import ConvLens
import Engine
import Models
import TestSupport

/// The rule that picks dream and style layers from any model's graph: Gatys's layers on VGG19 under torchvision's
/// names, their analogues under Keras's, and comparable blocks on the other families.
@Suite struct DefaultLayersTests {
    static func zoo(_ name: String) throws -> LoadedModel {
        try ModelStore.wrap(Model.random(try Zoo.layouts(name)[0], classes: 10, seed: 1, widthDivisor: 16))
    }

    @Test func vgg19GetsThePapersLayers() throws {
        // Gatys et al., §2: conv1_1, conv2_1, conv3_1, conv4_1, conv5_1 for style, conv4_2 for content, after their
        // ReLUs; in torchvision's features: conv1_1 = features.0 (ReLU .1), conv2_1 = .5 (.6), conv3_1 = .10 (.11),
        // conv4_1 = .19 (.20), conv4_2 = .21 (.22), conv5_1 = .28 (.29).
        let (style, content) = try DefaultLayers.style(try Self.zoo("vgg19"))
        #expect(style == ["features.1", "features.6", "features.11", "features.20", "features.29"])
        #expect(content == "features.22")
        // With BatchNorm the ReLUs move: conv1_1's is features.2, conv4_2's features.32.
        let bn = try DefaultLayers.style(try Self.zoo("vgg19_bn"))
        #expect(bn.style == ["features.2", "features.9", "features.16", "features.29", "features.42"] && bn.content == "features.32")
        // DeepDream: the 14x14 stage (stride 16) after its first block: conv5_2 to conv5_4.
        #expect(try DefaultLayers.dream(try Self.zoo("vgg19")).map(\.layer) == ["features.31", "features.33", "features.35"])
    }

    @Test func kerasNamesGetTheSameRule() throws {
        // keras.applications' VGG16 (narrowed fixture, Scripts/make_keras_fixtures.py): Keras names its ReLU'd convs.
        let lm = try ModelStore.load(name: Fixture.root + "/Tests/Fixtures/keras/vgg16.keras")
        let (style, content) = try DefaultLayers.style(lm)
        #expect(style == ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"])
        #expect(content == "block4_conv2")
    }

    @Test func otherFamiliesGetComparableBlocks() throws {
        let squeeze = try Self.zoo("squeezenet1_1")
        let (style, content) = try DefaultLayers.style(squeeze)
        #expect(style == ["relu_conv1", "fire2", "fire4", "fire6"] && content == "fire7")
        let dream = try DefaultLayers.dream(squeeze)
        #expect(dream.map(\.layer) == ["fire7", "fire8", "fire9"] && dream.map(\.weight) == [1, 1.5, 2])
        let mobile = try DefaultLayers.style(try Self.zoo("mobilenet_v2"))
        #expect(mobile.style == ["features.0", "features.3", "features.5", "features.8", "features.15"] && mobile.content == "features.9", "\(mobile)")
        #expect(try DefaultLayers.dream(try Self.zoo("mobilenet_v2")).map(\.layer) == ["features.9", "features.10", "features.12", "features.13"])
        let resnet = try DefaultLayers.style(try Self.zoo("resnet18"))
        #expect(resnet.style == ["relu", "layer1", "layer2", "layer3", "layer4"] && resnet.content == "layer3", "\(resnet)")
        // Every family of the zoo gets layers with feature maps.
        for name in ["resnet50", "alexnet", "squeezenet1_0", "vgg11"] {
            let lm = try Self.zoo(name)
            let (s, c) = try DefaultLayers.style(lm)
            let d = try DefaultLayers.dream(lm)
            for layer in s + [c] + d.map(\.layer) {
                let i = try lm.model.graph.index(of: layer)
                #expect(try lm.model.graph.shapes(input: lm.model.inputShape)[i].count == 4, "\(name) \(layer)")
            }
        }
    }
}
