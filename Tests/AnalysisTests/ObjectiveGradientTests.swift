import Foundation
import Testing
@testable import Analysis
import Engine

/// Every objective's gradient against central finite differences (PatternGradientTests.check: of the sum of the
/// items' scores, accumulated in Double), and the chained backward pass of `Objective.evaluate` on a graph whose
/// branch skips a seeded layer. Prints "GRAD OK/BAD <what>: maxdiff D (max |grad| G)".
@Suite struct ObjectiveGradientTests {
    static func random(_ shape: [Int], seed: UInt64, _ lo: Float = -1, _ hi: Float = 1) -> Tensor {
        PatternGradientTests.random(shape, seed: seed, lo, hi)
    }

    /// The objective's only term against finite differences at `a`.
    static func check(_ o: Objective, _ a: Tensor, eps: Float = 1e-2) -> Float {
        let t = o.terms[0]
        return PatternGradientTests.check(t.label, a, eps: eps, analytic: t.score(a).gradient) { x in
            t.score(x).scores.reduce(0.0) { $0 + Double($1) }
        }
    }

    @Test func layerObjectivesMatchFiniteDifferences() {
        let a = Self.random([3, 5, 6, 7], seed: 1)                                   // (N, C, h, w)
        #expect(Self.check(.channel("l", 2), a) < 1e-2)
        let small = Self.random([2, 3, 4, 4], seed: 10)                             // every value probed
        #expect(Self.check(.neuron("l", 2), small) < 1e-2)
        #expect(Self.check(.neuron("l", 1, at: (y: 3, x: 0)), small) < 1e-2)
        #expect(Self.check(.direction("l", [1, -0.5, 0, 2, 0.3]), a, eps: 1e-3) < 1e-2)
        #expect(Self.check(.diversity("l"), a, eps: 1e-2) < 1e-2)
        #expect(Self.check(.layerNorm("l"), a) < 1e-2)                               // 2-pixel border left out
        #expect(Self.check(.layerNorm("l"), Self.random([2, 3, 4, 4], seed: 2)) < 1e-2)   // too small for the border
        #expect(Self.check(.layerNorm("l"), Self.random([2, 10], seed: 3)) < 1e-2)        // no map at all
        let target = Self.random([1, 5, 6, 7], seed: 4)
        #expect(Self.check(.content("l", target: target), Self.random([2, 5, 6, 7], seed: 5)) < 1e-2)
        #expect(Self.check(.style("l", target: Gram.matrices(Self.random([1, 5, 3, 4], seed: 6))), a, eps: 1e-3) < 1e-2)
    }

    @Test func scoresAreWhatTheDocsSay() {
        let a = Self.random([2, 3, 6, 6], seed: 7)
        // neuron at the centre (h/2, w/2) = (3, 3), channel 1 of item 1.
        #expect(Objective.neuron("l", 1).terms[0].score(a).scores[1] == a.data[((1 * 3 + 1) * 6 + 3) * 6 + 3])
        // The norm leaves out a border of 2 and divides by every value: item 0's inner 2x2 of each of 3 planes / 108.
        var s: Float = 0
        for c in 0 ..< 3 { for y in 2 ..< 4 { for x in 2 ..< 4 { let v = a.data[(c * 6 + y) * 6 + x]; s += v * v } } }
        #expect(abs(Objective.layerNorm("l").terms[0].score(a).scores[0] - s / 108) < 1e-6)
        // A direction along one channel scores 1 where that channel is the only one positive.
        var one = Tensor(zeros: [1, 3, 1, 2])
        one.data[2] = 3; one.data[3] = 0.5
        #expect(abs(Objective.direction("l", [0, 1, 0]).terms[0].score(one).scores[0] - 1) < 1e-6)
        // Identical items are as similar as can be: diversity −(N − 1)/N each; style and content of the target 0.
        let same = Tensor(shape: [2, 3, 6, 6], data: Array(a.data[0 ..< 108]) + Array(a.data[0 ..< 108]))
        #expect(Objective.diversity("l").terms[0].score(same).scores.allSatisfy { abs($0 + 0.5) < 1e-5 })
        #expect(Objective.style("l", target: Gram.matrices(a.item(0))).terms[0].score(a.item(0)).scores[0] < 1e-10)
        #expect(Objective.content("l", target: a.item(1)).terms[0].score(a.item(1)).scores[0] == 0)
    }

    /// input → a (conv 3→4) → a.relu → b (conv 4→4, pad 1) → b.relu → sum = a.relu + b.relu → c (conv 4→3) → c.relu:
    /// the sum's branch from a.relu skips b.relu.
    static func skipNet() -> Graph {
        var r = PatternRandom(31)
        func conv(_ i: Int, _ o: Int, padding: Int = 0) -> Conv2d {
            let l = Conv2d(i, o, kernel: 3, padding: padding)
            l.weight = Tensor(shape: l.weight.shape, data: (0 ..< l.weight.count).map { _ in (r.uniform() - 0.5) * 0.8 })
            l.bias = Tensor(shape: [o], data: (0 ..< o).map { _ in (r.uniform() - 0.3) * 0.2 })
            return l
        }
        let g = Graph()
        g.add("a", conv(3, 4)); g.add("a.relu", ActivationLayer(.relu))
        g.add("b", conv(4, 4, padding: 1)); g.add("b.relu", ActivationLayer(.relu))
        g.add("sum", Add(), inputs: ["a.relu", "b.relu"])
        g.add("c", conv(4, 3)); g.add("c.relu", ActivationLayer(.relu))
        return g
    }

    @Test func oneChainedBackwardPassEqualsFiniteDifferencesWithAndWithoutSkips() throws {
        let g = Self.skipNet()
        #expect(Objective.skips(g, from: try g.index(of: "b.relu"), to: try g.index(of: "sum")))
        #expect(!Objective.skips(g, from: try g.index(of: "a.relu"), to: try g.index(of: "c.relu")))
        let space = InputSpace(name: "unit", bgr: false, scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25])
        let toModel: [ImageOp] = [.toModel(space)]
        let image = Self.random([2, 3, 11, 10], seed: 8, 0, 1)
        let chained = Objective.channel("c.relu", 1) + 0.7 * Objective.layerNorm("a.relu") - 0.2 * Objective.totalVariation   // one pass
        let skipping = Objective.style("b.relu", target: Gram.matrices(Self.random([1, 4, 9, 8], seed: 9, 0, 1)))
            + 2 * Objective.diversity("sum") - Objective.neuron("c", 2)                                                      // passes of their own
        for o in [chained, skipping] {
            let (_, analytic) = try o.evaluate(g, image: image, toModel: toModel)
            let rel = PatternGradientTests.check(o.description, image, eps: 1e-3, analytic: analytic) { x in
                var none: [PatternRandom] = []
                let acts = try! g.forward(toModel.apply(x, &none).0)
                return o.terms.reduce(0.0) { s, t in
                    s + Double(t.weight) * (t.layer.map { t.score(try! acts.output($0)).scores } ?? t.score(x).scores).reduce(0.0) { $0 + Double($1) }
                }
            }
            #expect(rel < 1e-2)
            var none: [PatternRandom] = []
            #expect(try o.totals(g, image: image, input: toModel.apply(image, &none).0).count == 2)
        }
    }

    @Test func descriptionsNameEveryTerm() {
        let o = Objective.channel("fire8", 12) + 0.5 * Objective.channel("fire8", 40) - 0.001 * Objective.totalVariation
        #expect(o.description == "channel 12 of fire8 + 0.5·channel 40 of fire8 − 0.001·TV(image)")
        #expect(o.layers == ["fire8"])
        #expect((Objective.neuron("b", 3, at: (1, 2)) + Objective.diversity("b") - 2 * Objective.layerNorm("a")).description
                == "neuron 3 of b at (1, 2) + diversity of b − 2·L2(a)")
    }
}
