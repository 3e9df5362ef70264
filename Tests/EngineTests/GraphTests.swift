import Testing
@testable import Engine

/// The graph's run loop: a small network with a fire-style concat and a residual add, checked end to end
/// against finite differences, plus hooks, early stops and name errors.
@Suite struct GraphTests {
    /// input (1,3,9,9) → conv a (3→4, 3x3 s2) → relu → [squeeze 1x1 → relu] → expand1x1, expand3x3 → relus → concat
    ///       → conv r (8→8, 3x3 p1) → add(concat, r) → pool → flatten → linear → logits
    func smallNet(seed: UInt64 = 5) -> Graph {
        var rng = SeededRandom(seed)
        func conv(_ c: Int, _ o: Int, _ k: Int, s: Int = 1, p: Int = 0) -> Conv2d {
            let l = Conv2d(c, o, kernel: k, stride: s, padding: p)
            l.weight = randomTensor(l.weight.shape, &rng, scale: 0.6)
            l.bias = randomTensor([o], &rng, scale: 0.2)
            return l
        }
        let g = Graph()
        g.add("conv1", conv(3, 4, 3, s: 2))
        g.add("relu1", ActivationLayer(.relu))
        g.add("fire.squeeze", conv(4, 3, 1))
        g.add("fire.squeeze.relu", ActivationLayer(.relu))
        g.add("fire.expand1x1", conv(3, 4, 1), inputs: ["fire.squeeze.relu"])
        g.add("fire.expand1x1.relu", ActivationLayer(.relu))
        g.add("fire.expand3x3", conv(3, 4, 3, p: 1), inputs: ["fire.squeeze.relu"])
        g.add("fire.expand3x3.relu", ActivationLayer(.relu))
        g.add("fire", Concat(), inputs: ["fire.expand1x1.relu", "fire.expand3x3.relu"])
        g.add("res", conv(8, 8, 3, p: 1))
        g.add("block", Add(), inputs: ["fire", "res"])
        g.add("pool", AdaptiveAvgPool2d(1, 1))
        g.add("flatten", Flatten())
        let fc = Linear(8, 5)
        fc.weight = randomTensor([5, 8], &rng)
        g.add("logits", fc)
        g.alias("stage1", "block")
        return g
    }

    @Test func graphBackwardToInputMatchesFiniteDifferences() throws {
        let g = smallNet()
        var rng = SeededRandom(2)
        let x = randomTensor([2, 3, 9, 9], &rng)
        let acts = try g.forward(x)
        let seed = randomTensor([2, 5], &rng)
        let grads = try g.backward(acts, seed: seed, at: "logits", to: ["input", "fire", "stage1"])
        let dx = try #require(grads["input"])
        func loss(_ x: Tensor) -> Double {
            let y = try! g.forward(x).output("logits")
            return zip(y.data, seed.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        var maxDiff: Float = 0, maxRef: Float = 0
        let eps: Float = 1e-2
        for j in stride(from: 0, to: x.count, by: 7) {
            var xp = x, xm = x
            xp.data[j] += eps
            xm.data[j] -= eps
            let numeric = Float((loss(xp) - loss(xm)) / Double(2 * eps))
            maxDiff = max(maxDiff, abs(numeric - dx.data[j]))
            maxRef = max(maxRef, abs(numeric))
        }
        print("GRAD \(maxDiff / max(1, maxRef) < 2e-2 ? "OK" : "BAD") graph input: maxdiff \(maxDiff) (max |grad| \(maxRef))")
        #expect(maxDiff / max(1, maxRef) < 2e-2)
        #expect(grads["fire"]?.shape == [2, 8, 4, 4])
        #expect(grads["stage1"]?.shape == [2, 8, 4, 4])
    }

    @Test func gradientAtAnInnerLayerMatchesFiniteDifferences() throws {
        // d logits / d(fire output): perturb the fire activations by running the tail of the graph by hand.
        let g = smallNet()
        var rng = SeededRandom(4)
        let acts = try g.forward(randomTensor([1, 3, 9, 9], &rng))
        let seed = randomTensor([1, 5], &rng)
        let dfire = try #require(try g.backward(acts, seed: seed, at: "logits", to: ["fire"])["fire"])
        let fire = try acts.output("fire")
        let tail = ["res", "block", "pool", "flatten", "logits"].map { try! g.node($0).layer }
        func loss(_ f: Tensor) -> Double {
            var r = Tensor(zeros: [0]), b = Tensor(zeros: [0]), p = Tensor(zeros: [0]), fl = Tensor(zeros: [0]), y = Tensor(zeros: [0])
            tail[0].forward([f], &r); tail[1].forward([f, r], &b); tail[2].forward([b], &p); tail[3].forward([p], &fl); tail[4].forward([fl], &y)
            return zip(y.data, seed.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        var maxDiff: Float = 0
        for j in 0 ..< fire.count {
            var a = fire, b = fire
            a.data[j] += 1e-2
            b.data[j] -= 1e-2
            maxDiff = max(maxDiff, abs(Float((loss(a) - loss(b)) / 2e-2) - dfire.data[j]))
        }
        print("GRAD \(maxDiff < 1e-2 ? "OK" : "BAD") graph fire: maxdiff \(maxDiff)")
        #expect(maxDiff < 1e-2)
    }

    @Test func hooksSeeEveryNamedOutputAndStopAfterALayer() throws {
        let g = smallNet()
        var seen: [String: [Int]] = [:]
        var rng = SeededRandom(1)
        let x = randomTensor([1, 3, 9, 9], &rng)
        let acts = try g.forward(x, until: "fire", hooks: [
            "conv1": { seen["conv1"] = $0.shape }, "fire": { seen["fire"] = $0.shape }, "logits": { seen["logits"] = $0.shape },
        ])
        #expect(seen["conv1"] == [1, 4, 4, 4])
        #expect(seen["fire"] == [1, 8, 4, 4])
        #expect(seen["logits"] == nil)                       // never run: the pass stopped at fire
        #expect(acts.outputs[try g.index(of: "res")] == nil)
        #expect(throws: EngineError.self) { try acts.output("logits") }
        // The activations from a full pass agree with the stopped one.
        #expect(try g.forward(x).output("fire") == acts.output("fire"))
    }

    @Test func gradientHooksAndLinearThrough() throws {
        let g = smallNet()
        var rng = SeededRandom(3)
        let acts = try g.forward(randomTensor([1, 3, 9, 9], &rng))
        var hooked: Tensor?
        let seed = Tensor(shape: [1, 4, 4, 4], repeating: 1)
        let through = try g.backward(acts, seed: seed, at: "fire.expand1x1.relu", to: ["fire.expand1x1"],
                                     linearThrough: ["fire.expand1x1.relu"], hooks: ["fire.expand1x1": { hooked = $0 }])
        #expect(through["fire.expand1x1"]!.data.allSatisfy { $0 == 1 })   // identity through the ReLU
        #expect(hooked == through["fire.expand1x1"])
        let gated = try g.backward(acts, seed: Tensor(shape: [1, 4, 4, 4], repeating: 1), at: "fire.expand1x1.relu", to: ["fire.expand1x1"])
        let y = try acts.output("fire.expand1x1.relu")
        #expect(gated["fire.expand1x1"]!.data == y.data.map { $0 > 0 ? 1 : 0 })
    }

    @Test func unknownLayerNamesListTheValidOnesAndSuggest() {
        let g = smallNet()
        do {
            _ = try g.index(of: "fir")
            Issue.record("an unknown layer was accepted")
        } catch {
            let m = "\(error)"
            #expect(m.contains("unknown layer 'fir'"))
            #expect(m.contains("did you mean 'fire'"))
            #expect(m.contains("conv1, relu1"))
        }
        #expect(throws: EngineError.self) { try g.backward(try g.forward(Tensor(zeros: [1, 3, 9, 9])), seed: Tensor(zeros: [1, 8, 4, 4]), at: "fire", to: ["logits"]) }
    }

    @Test func badInputShapeNamesTheLayer() {
        let g = smallNet()
        do { _ = try g.forward(Tensor(zeros: [1, 4, 9, 9])); Issue.record("accepted 4 channels") } catch {
            #expect("\(error)".contains("layer 'conv1'"))
        }
    }

    @Test func buffersAreReusedWithoutCorruptingHeldResults() throws {
        let g = smallNet()
        var rng = SeededRandom(6)
        let x1 = randomTensor([1, 3, 9, 9], &rng), x2 = randomTensor([1, 3, 9, 9], &rng)
        let a1 = try g.forward(x1).output("logits")
        let held = try g.forward(x1)
        _ = try g.forward(x2)
        #expect(try held.output("logits") == a1)
    }
}
