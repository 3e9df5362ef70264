import Foundation
import Testing
@testable import Analysis
import Engine
import Models
import TestSupport

/// The two recipes end to end on small networks: determinism, batching, dead filters, bad requests, and the
/// installed SqueezeNet.
@Suite struct PatternRecipeTests {
    static let space = InputSpace(name: "caffe", bgr: true, scale: 1, mean: [104.006, 116.669, 122.679], std: [1, 1, 1])

    /// input → conv (3→4, 3x3) → relu, where filter 3's bias is −1000: dead on any image the recipes start from.
    static func netWithADeadFilter() -> Graph {
        let g = PatternGradientTests.smallNet()
        let conv = Conv2d(3, 4, kernel: 3)
        var r = PatternRandom(4)
        conv.weight = Tensor(shape: conv.weight.shape, data: (0 ..< conv.weight.count).map { _ in (r.uniform() - 0.5) * 0.1 })
        conv.bias = Tensor(shape: [4], data: [0, 0, 0, -1000])
        g.add("c", conv, inputs: ["input"])
        g.add("c.relu", ActivationLayer(.relu))
        return g
    }

    @Test func sameSeedSamePatternsWhateverTheBatching() throws {
        let g = PatternGradientTests.smallNet()
        let clear = PatternRecipe.clear(Self.space, steps: 6)
        let a = try FilterPatterns.run(g, layer: "b.relu", filters: [0, 1, 2, 3], recipe: clear, size: 24, seed: 1)
        let b = try FilterPatterns.run(g, layer: "b.relu", filters: [0, 1, 2, 3], recipe: clear, size: 24, seed: 1)
        #expect(a.inputs == b.inputs && a.images == b.images && a.activations == b.activations)
        let c = try FilterPatterns.run(g, layer: "b.relu", filters: [0, 1, 2, 3], recipe: clear, size: 24, seed: 2)
        #expect(a.inputs != c.inputs)
        // One generator per filter: two passes of two give the patterns of one pass of four.
        let d = try FilterPatterns.run(g, layer: "b.relu", filters: [0, 1, 2, 3], recipe: clear, size: 24, seed: 1, batch: 2)
        #expect(compare("clear, batch 2 vs 4", d.inputs, a.inputs, tolerance: 1e-4))
        let k = try FilterPatterns.run(g, layer: "b.relu", filters: [3, 0], recipe: .keras(Self.space), size: 24, seed: 1)
        let k2 = try FilterPatterns.run(g, layer: "b.relu", filters: [3, 0], recipe: .keras(Self.space), size: 24, seed: 1, batch: 1)
        #expect(compare("keras, batch 1 vs 2", k2.inputs, k.inputs, tolerance: 1e-4))
        #expect(k.inputs.shape == [2, 3, 24, 24] && k.images.shape == [2, 3, 24, 24])
        #expect(k.images.data.allSatisfy { (0 ... 1).contains($0) })
    }

    @Test func clearMovesADeadFilterThatKerasCannot() throws {
        let g = Self.netWithADeadFilter()
        let keras = try FilterPatterns.run(g, layer: "c.relu", filters: [0, 3], recipe: .keras(Self.space), size: 20, seed: 0)
        #expect(keras.startActivations[1] == 0 && keras.activations[1] == 0)
        #expect(keras.activations[0] > keras.startActivations[0])
        // The pre-activation gets a gradient; it climbs, though −1000 is out of reach of an image in [0, 255].
        let clear = try FilterPatterns.run(g, layer: "c.relu", filters: [3], recipe: .clear(Self.space, steps: 30), size: 20, seed: 0)
        let pre = { (x: Tensor) in try g.forward(x, until: "c").output("c").data.prefix(4 * 18 * 18).suffix(18 * 18).reduce(0, +) }
        let startImage = FilterPatterns.render(Tensor(zeros: [1, 3, 20, 20]), [.fourier(height: 20, width: 20), .decorrelateColours, .sigmoid], [.toModel(Self.space)]).model
        #expect(try pre(clear.inputs.reshaped([1, 3, 20, 20])) > pre(startImage) + 1)
        #expect(clear.objective == "channel mean of c.relu (pre-ReLU)")
    }

    @Test func theReadmeRecipeRuns() throws {
        let graph = PatternGradientTests.smallNet(), space = Self.space
        // README, "Filter patterns", with a small network, size and step count.
        var recipe = PatternRecipe.clear(space, steps: 2)
        recipe.transforms = [.pad(16), .jitter(16), .rotate((-20 ... 20).map(Float.init))]
        recipe.objective = { graph, layer, filters in
            Objective.channel(layer, filters: filters, linearThrough: try FilterPatterns.preActivation(graph, layer)) - 0.05 * .totalVariation
        }
        let result = try FilterPatterns.run(graph, layer: "b.relu", filters: Array(0 ..< 5), recipe: recipe, size: 24, seed: 0)
        #expect(result.objective == "channel mean of b.relu (pre-ReLU) − 0.05·TV(image)")
        #expect(result.inputs.shape == [5, 3, 24, 24])
    }

    @Test func badRequestsSayWhatIsValid() throws {
        let g = PatternGradientTests.smallNet()
        #expect { try FilterPatterns.run(g, layer: "b.rleu", filters: [0], recipe: .keras(Self.space), size: 20) } throws: { e in
            let m = "\(e)"
            return m.contains("unknown layer 'b.rleu'") && m.contains("did you mean 'b.relu'") && m.contains("Layers are: a, a.relu, b, b.relu")
        }
        #expect { try FilterPatterns.run(g, layer: "b", filters: [2, 5], recipe: .keras(Self.space), size: 20) } throws: { e in
            "\(e)" == "filter 5 is out of range: 'b' has 5 channels (0…4)"
        }
    }

    @Test(.enabled(if: Fixture.installedSqueezeNet != nil, "needs Weights/squeezenet1_1.safetensors (run the setup)"))
    func squeezeNetPatternsExciteTheirOwnFilters() throws {
        let model = try Model.load("squeezenet1_1", weights: try Fixture.stateDict(Fixture.installedSqueezeNet!), source: "installed")
        #expect(try FilterPatterns.preActivation(model.graph, "fire2") == ["fire2.relu_expand1x1", "fire2.relu_expand3x3"])
        let filters = [0, 1, 2, 3]
        let r = try FilterPatterns.run(model.graph, layer: "fire2", filters: filters, recipe: .clear(Self.space, steps: 24), size: 48, seed: 0)
        let a = try model.graph.forward(r.inputs, until: "fire2").output("fire2")            // (4, 128, h, w)
        let plane = a.shape[2] * a.shape[3]
        func mean(_ i: Int, _ f: Int) -> Float { a.data[(i * 128 + f) * plane ..< (i * 128 + f + 1) * plane].reduce(0, +) / Float(plane) }
        for (i, f) in filters.enumerated() {
            #expect(r.activations[i] > 2 * max(r.startActivations[i], 1e-2), "filter \(f): \(r.startActivations[i]) → \(r.activations[i])")
            for j in filters.indices where j != i { #expect(mean(i, f) > mean(j, f), "pattern \(j) excites filter \(f) more than its own") }
        }
    }
}
