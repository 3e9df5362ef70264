import Foundation
import Testing
@testable import Analysis
import Engine
import TestSupport

/// Style transfer's losses, DeepDream's step and whole loop, and the diversity objective against torch autograd, on
/// a small seeded VGG-like network built in the engine from the fixture's weights. Fixtures from
/// Scripts/make_dream_style_fixtures.py (torch 2.13, float32), which states every formula; in short:
///     features = Sequential(conv 3→8, relu, conv 8→8, relu, pool, conv 8→16, relu, conv 16→16, relu, pool, conv 16→16, relu)
///     style_l = Σ(gram(F_l(x)) − gram(F_l(s)))² / Σ gram(F_l(s))²,  content = Σ(F(x) − F(c))² / Σ F(c)²,  tv = mean of squared steps
///     grads = [torch.autograd.grad(t, x) for t in style_terms + [content, tv, total]]
///     dream step: x += 0.01 · g / max(mean|g|, 1e-6),  g = ∇ Σ_l k_l · Σ a_l[:, :, 2:-2, 2:-2]² / numel(a_l)
@Suite struct DreamStyleFixtureTests {
    static let torchvision = InputSpace(name: "torchvision", bgr: false, scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    static let toModel: [ImageOp] = [.toModel(torchvision)]
    static let styleLayers = ["features.1", "features.6", "features.11"]

    /// The fixture's network with its weights.
    static func net() throws -> Graph {
        let g = Graph()
        var c = 3, i = 0
        for v in [8, 8, 0, 16, 16, 0, 16] {
            if v == 0 {
                g.add("features.\(i)", MaxPool2d(kernel: 2, stride: 2)); i += 1
            } else {
                g.add("features.\(i)", Conv2d(c, v, kernel: 3, padding: 1))
                g.add("features.\(i + 1)", ActivationLayer(.relu)); i += 2
                c = v
            }
        }
        let dict = try Fixture.stateDict(Fixture.root + "/Tests/Fixtures/dream/net.pth")
        #expect(dict.count == 10)
        for (key, t) in dict {
            let dot = key.lastIndex(of: ".")!
            try g.node(String(key[..<dot])).layer.setParameter(String(key[key.index(after: dot)...]), t)
        }
        return g
    }

    static func fixture(_ name: String) throws -> Tensor { try Fixture.load("dream/\(name)") }

    /// |a − b| ≤ tolerance · max(|b|, 1e-12), printed.
    static func relative(_ label: String, _ a: Float, _ b: Float, _ tolerance: Float = 1e-4) -> Bool {
        let r = abs(a - b) / max(abs(b), 1e-12)
        print("VALUE \(r <= tolerance ? "OK" : "BAD") \(label): \(a) vs \(b), relative \(r)")
        return r <= tolerance
    }

    /// The largest difference within tolerance · max |expected|.
    static func close(_ label: String, _ got: Tensor, _ expected: Tensor, _ tolerance: Float = 1e-4) -> Bool {
        compare(label, got, expected, tolerance: tolerance * expected.maxAbs)
    }

    @Test func styleContentAndTVLossesAndGradientsMatchTorch() throws {
        let graph = try Self.net()
        let (content, style, x) = (try Self.fixture("content"), try Self.fixture("style"), try Self.fixture("x"))
        let losses = try Self.fixture("losses"), grads = try Self.fixture("grads")             // (6), (6, 3, 40, 48)
        var none: [PatternRandom] = []
        let s = try graph.forward(Self.toModel.apply(style, &none).0)
        let c = try graph.forward(Self.toModel.apply(content, &none).0)
        let terms = Self.styleLayers.map { Objective.style($0, target: Gram.matrices(try! s.output($0))) }
            + [Objective.content("features.8", target: try c.output("features.8")), Objective.totalVariation]
        for (k, (term, name)) in zip(terms, ["style features.1", "style features.6", "style features.11", "content", "tv"]).enumerated() {
            let (scores, g) = try term.evaluate(graph, image: x, toModel: Self.toModel)
            #expect(Self.relative("\(name) loss", scores[0][0], losses.data[k]))
            #expect(Self.close("\(name) gradient", g, grads.item(k)))
        }
        // The whole weighted objective, its gradient in one chained backward pass: −(β·mean style + α·content + γ·tv).
        var settings = StyleTransfer.Settings(styleLayers: Self.styleLayers, contentLayer: "features.8")
        (settings.styleWeight, settings.contentWeight, settings.tvWeight) = (2, 0.5, 3)
        let total = try StyleTransfer.objective(graph, content: content, style: style, toModel: Self.toModel, settings)
        let (scores, g) = try total.evaluate(graph, image: x, toModel: Self.toModel)
        let value = zip(total.terms, scores).reduce(Float(0)) { $0 - $1.0.weight * $1.1[0] }
        #expect(Self.relative("total loss", value, losses.data[5]))
        #expect(Self.close("total gradient", Tensor(shape: g.shape, data: g.data.map { -$0 }), grads.item(5)))
        #expect(Self.relative("reported total", StyleTransfer.losses(scores, settings, step: 0, evaluations: 1).total, value, 1e-6))
    }

    @Test func gramMatchesTorch() throws {
        let graph = try Self.net()
        var none: [PatternRandom] = []
        let f = try graph.forward(Self.toModel.apply(try Self.fixture("content"), &none).0).output("features.6")
        #expect(Self.close("gram of features.6", Gram.matrices(f).reshaped([16, 16]), try Self.fixture("gram")))
    }

    @Test func oneDeepDreamStepAndAWholeDreamMatchTorch() throws {
        let graph = try Self.net()
        let objective = Objective.layerNorm("features.6") + 1.5 * Objective.layerNorm("features.11")
        var x = try Self.fixture("content")                                                  // (1, 3, 40, 48)
        let loss = try DeepDream.step(graph, objective, image: &x, toModel: Self.toModel, stepSize: 0.01)
        #expect(Self.relative("dream loss", loss, try Self.fixture("dream_loss").data[0]))
        #expect(compare("one dream step", x, try Self.fixture("dream_step"), tolerance: 1e-5))
        let settings = DeepDream.Settings(octaves: 3, octaveScale: 1.4, steps: 3, stepSize: 0.01)
        #expect(DeepDream.shapes(height: 40, width: 48, settings).map { [$0.height, $0.width] } == [[20, 24], [28, 34], [40, 48]])
        let dream = try DeepDream.run(graph, objective, image: try Self.fixture("content"), toModel: Self.toModel, settings: settings)
        #expect(compare("3 octaves of 3 steps", dream, try Self.fixture("dream_full"), tolerance: 1e-4))
    }

    @Test func diversityMatchesLucentsInTorch() throws {
        let graph = try Self.net()
        let batch = try Self.fixture("diversity_input")                                      // (3, 3, 24, 28)
        let (scores, g) = try Objective.diversity("features.6").evaluate(graph, image: batch, toModel: Self.toModel)
        let expected = try Self.fixture("diversity_scores")
        for i in 0 ..< 3 { #expect(Self.relative("diversity score \(i)", scores[0][i], expected.data[i])) }
        #expect(Self.close("diversity gradient", g, try Self.fixture("diversity_grad")))
    }
}
