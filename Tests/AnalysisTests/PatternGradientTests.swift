import Foundation
import Testing
@testable import Analysis
import Engine

/// Every parameterisation step, transform and image objective of the filter-pattern recipes against central finite
/// differences (accumulated in Double), and the whole pipeline, parameters → image → transforms → network → score.
/// Prints "GRAD OK/BAD <what>: maxdiff D (max |grad| G)".
@Suite struct PatternGradientTests {
    /// Uniform values in [lo, hi).
    static func random(_ shape: [Int], seed: UInt64, _ lo: Float = -1, _ hi: Float = 1) -> Tensor {
        var g = PatternRandom(seed)
        return Tensor(shape: shape, data: (0 ..< shape.reduce(1, *)).map { _ in lo + (hi - lo) * g.uniform() })
    }

    /// Compares analytic and numeric gradients of L(x) at `probes` coordinates; returns maxdiff / max(1, max |grad|).
    @discardableResult
    static func check(_ name: String, _ x: Tensor, eps: Float = 1e-2, probes: Int = 120,
                      analytic: Tensor, loss: (Tensor) -> Double) -> Float {
        var g = PatternRandom(11)
        let picks = x.count <= probes ? Array(0 ..< x.count) : (0 ..< probes).map { _ in Int(g.next() % UInt64(x.count)) }
        var maxDiff: Float = 0, maxRef: Float = 0
        for j in picks {
            var xp = x, xm = x
            xp.data[j] += eps
            xm.data[j] -= eps
            let numeric = Float((loss(xp) - loss(xm)) / Double(2 * eps))
            maxDiff = max(maxDiff, abs(numeric - analytic.data[j]))
            maxRef = max(maxRef, abs(numeric))
        }
        let rel = maxDiff / max(maxRef, 1e-6)
        print("GRAD \(rel < 1e-2 ? "OK" : "BAD") \(name): maxdiff \(maxDiff) (max |grad| \(maxRef))")
        return rel
    }

    /// An op's backward against differences of L = Σ dy ⊙ op(x), with the same random draw every time.
    static func checkOp(_ op: ImageOp, _ x: Tensor, eps: Float = 1e-2) -> Float {
        let rng0 = (0 ..< x.shape[0]).map { PatternRandom(seed: 5, filter: $0) }
        var rng = rng0
        let (y, back) = op(x, &rng)
        let dy = random(y.shape, seed: 9)
        return check(op.name, x, eps: eps, analytic: back(dy)) { x in
            var r = rng0
            let y = op(x, &r).0
            return zip(y.data, dy.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
    }

    @Test func parameterisationBackwards() {
        #expect(Self.checkOp(.fourier(height: 9, width: 12), Self.random([2, 3, 9, 12], seed: 1)) < 1e-2)
        #expect(Self.checkOp(.fourier(height: 8, width: 7, decay: 1.5), Self.random([1, 3, 8, 7], seed: 2)) < 1e-2)
        #expect(Self.checkOp(.decorrelateColours, Self.random([2, 3, 5, 6], seed: 3)) < 1e-2)
        #expect(Self.checkOp(.sigmoid, Self.random([2, 3, 5, 6], seed: 4, -3, 3)) < 1e-2)
        let caffe = InputSpace(name: "caffe", bgr: true, scale: 1, mean: [104, 117, 123], std: [1, 1, 1])
        #expect(Self.checkOp(.toModel(caffe), Self.random([2, 3, 4, 5], seed: 5, 0, 1), eps: 1e-3) < 1e-2)
        let ops: [ImageOp] = [.fourier(height: 10, width: 10), .decorrelateColours, .sigmoid]
        let chain = ImageOp("fourier → decorrelate → sigmoid") { x, rng in ops.apply(x, &rng) }
        #expect(Self.checkOp(chain, Self.random([2, 3, 10, 10], seed: 6)) < 1e-2)
    }

    @Test func transformBackwards() {
        let x = Self.random([3, 3, 17, 15], seed: 7)
        #expect(Self.checkOp(.pad(3), x) < 1e-2)
        #expect(Self.checkOp(.jitter(4), x) < 1e-2)
        #expect(Self.checkOp(.scale([0.8, 0.9, 1.1, 1.25]), x) < 1e-2)
        #expect(Self.checkOp(.rotate([-10, -4, 7, 25]), x) < 1e-2)
        // Lucid's standard list, composed.
        let list: [ImageOp] = [.pad(4), .jitter(3), .scale([0.9, 1.1]), .rotate([-10, 10]), .jitter(2)]
        #expect(Self.checkOp(ImageOp("standard transforms") { x, rng in list.apply(x, &rng) }, x) < 1e-2)
    }

    @Test func imageObjectiveGradients() {
        let x = Self.random([2, 3, 6, 7], seed: 8, 0, 1)
        for o in [Objective.totalVariation, Objective.l2()] {
            let term = o.terms[0]
            Self.check(term.label, x, eps: 1e-3, analytic: term.score(x).gradient) { x in
                term.score(x).scores.reduce(0.0) { $0 + Double($1) }
            }
        }
        let a = Self.random([2, 5, 3, 4], seed: 9)
        let ch = Objective.channel("l", filters: [3, 1]).terms[0]
        let (scores, g) = ch.score(a)
        #expect(abs(scores[0] - a.data[(0 * 5 + 3) * 12 ..< (0 * 5 + 4) * 12].reduce(0, +) / 12) < 1e-6)
        #expect(Self.check("channel mean", a, analytic: g) { ch.score($0).scores.reduce(0.0) { $0 + Double($1) } } < 1e-2)
    }

    @Test func objectivesAddAndScaleWithDescriptions() {
        let o = Objective.channel("fire4", filters: [0]) - 0.05 * .totalVariation + 2 * .l2()
        #expect(o.description == "channel mean of fire4 − 0.05·TV(image) + 2·L2(image)")
        #expect(o.terms.map(\.weight) == [1, -0.05, 2])
        #expect(Objective.channel("fire4", filters: [0], linearThrough: ["a"]).description == "channel mean of fire4 (pre-ReLU)")
    }

    /// input (N,3,H,W) → conv a (3→6, 3x3 s2) → relu → conv b (6→5, 3x3 p1) → relu
    static func smallNet() -> Graph {
        var g = PatternRandom(21)
        func conv(_ c: Int, _ o: Int, stride: Int = 1, padding: Int = 0) -> Conv2d {
            let l = Conv2d(c, o, kernel: 3, stride: stride, padding: padding)
            l.weight = Tensor(shape: l.weight.shape, data: (0 ..< l.weight.count).map { _ in (g.uniform() - 0.5) * 0.8 })
            l.bias = Tensor(shape: [o], data: (0 ..< o).map { _ in (g.uniform() - 0.5) * 0.2 })
            return l
        }
        let graph = Graph()
        graph.add("a", conv(3, 6, stride: 2))
        graph.add("a.relu", ActivationLayer(.relu))
        graph.add("b", conv(6, 5, padding: 1))
        graph.add("b.relu", ActivationLayer(.relu))
        return graph
    }

    @Test func wholePipelineMatchesFiniteDifferences() throws {
        let graph = Self.smallNet()
        let space = InputSpace(name: "unit", bgr: false, scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25])
        let param: [ImageOp] = [.fourier(height: 14, width: 14), .decorrelateColours, .sigmoid]
        let transforms: [ImageOp] = [.pad(2), .jitter(2), .scale([0.9, 1.1]), .rotate([-8, 8]), .toModel(space)]
        let objective = Objective.channel("b.relu", filters: [1, 4]) - 0.3 * .totalVariation
        let p = Self.random([2, 3, 14, 14], seed: 12, -0.3, 0.3)
        let rng0 = (0 ..< 2).map { PatternRandom(seed: 3, filter: $0) }
        var rng = rng0
        let g = try FilterPatterns.gradient(graph, objective, parameters: p, parameterisation: param, transforms: transforms, rng: &rng)
        func loss(_ p: Tensor) -> Double {
            var r = rng0
            let (image, _) = param.apply(p, &r)
            let x = transforms.apply(image, &r).0
            let a = try! graph.forward(x).output("b.relu")
            var s = 0.0
            for t in objective.terms {
                let scores = t.layer == nil ? t.score(image).scores : t.score(a).scores
                s += Double(t.weight) * scores.reduce(0.0) { $0 + Double($1) }
            }
            return s
        }
        #expect(Self.check("parameters → fourier → transforms → network → channel − TV", p, eps: 3e-3, analytic: g, loss: loss) < 2e-2)
    }

    @Test func linearThroughAReLUOptimisesItsInput() throws {
        // The gradient of "b.relu, pre-ReLU" equals that of the conv below it, even where the ReLU is off.
        let graph = Self.smallNet()
        let x = Self.random([2, 3, 13, 13], seed: 13)
        var none: [PatternRandom] = []
        let pre = try FilterPatterns.gradient(graph, .channel("b.relu", filters: [0, 2], linearThrough: ["b.relu"]), parameters: x,
                                              parameterisation: [], transforms: [], rng: &none)
        let conv = try FilterPatterns.gradient(graph, .channel("b", filters: [0, 2]), parameters: x, parameterisation: [], transforms: [], rng: &none)
        #expect(pre == conv)
        #expect(try FilterPatterns.preActivation(graph, "b.relu") == ["b.relu"])
        #expect(try FilterPatterns.preActivation(graph, "b").isEmpty)
    }

    @Test func fourierBasisIsOrthonormalAndSinusoidal() {
        for n in [1, 2, 7, 8, 150] {
            let (b, f) = FourierBasis.make(n)
            var worst: Float = 0
            for i in 0 ..< n {
                for j in 0 ..< n {
                    let dot = (0 ..< n).reduce(Float(0)) { $0 + b[$1 * n + i] * b[$1 * n + j] }
                    worst = max(worst, abs(dot - (i == j ? 1 : 0)))
                }
                // φ(t+1) + φ(t−1) = 2 cos(2πf) φ(t): column i is a sinusoid of frequency f[i].
                for t in 1 ..< max(1, n - 1) {
                    let lhs = b[(t + 1) * n + i] + b[(t - 1) * n + i], rhs = 2 * cos(2 * .pi * f[i]) * b[t * n + i]
                    worst = max(worst, abs(lhs - rhs))
                }
            }
            #expect(worst < 1e-4, "n = \(n): \(worst)")
        }
    }
}
