import Testing
@testable import Engine

/// `Graph.fused` folding a residual sum into the convolution before it: the fused graph against the separate layers
/// it replaces (the reference), forward and backward. The kernels' own numbers are checked in ForwardTests and
/// PackedGEMMTests, the fused layer's gradient against finite differences in LayerGradientTests.
@Suite struct ResidualFusionTests {
    /// A residual block, conv → BN → (+ shortcut) → ReLU, its shortcut a 1×1 convolution computed after the main one
    /// (as torchvision's ResNets order them): fused into one convolution whose epilogue adds the shortcut, on every
    /// path a convolution takes, it gives what the separate layers give, forward and backward to the input.
    /// (C, H, batch, kernel): pointwise at 12×12 and at 13×13 (on AVX-512 the 16×16 kernel, the second plane ending
    /// in a panel of 9 pixels, its tail); 3×3 over 32 channels at 24×24 (Winograd), and over 36 at
    /// 22×22 (Winograd's partial tiles and a partial block of eight channels), and at 28×28 (49 tiles: Winograd fused
    /// share by share on AVX-512, the last share one tile); 3×3 over 32 channels at 7×7 (columns of 288, the AVX-512
    /// kernel); 3×3 over 8 channels (short columns, unfolded by row blocks); a batch of three small images (run image
    /// by image).
    @Test(arguments: [(16, 12, 1, 1), (16, 13, 1, 1), (32, 24, 1, 3), (36, 22, 1, 3), (32, 28, 1, 3), (32, 7, 1, 3), (8, 10, 1, 3), (32, 6, 3, 3)])
    func residualSumFusesIntoTheConvolution(_ c: (Int, Int, Int, Int)) throws {
        let (ch, h, n, k) = c
        var rng = SeededRandom(31)
        func conv(_ kernel: Int) -> Conv2d {
            let l = Conv2d(ch, ch, kernel: kernel, padding: kernel / 2)
            l.weight = randomTensor(l.weight.shape, &rng, scale: 0.3)
            l.bias = randomTensor([ch], &rng, scale: 0.3)
            return l
        }
        let bn = BatchNorm2d(ch)
        bn.weight = randomTensor([ch], &rng)
        bn.bias = randomTensor([ch], &rng)
        bn.runningMean = randomTensor([ch], &rng, scale: 0.2)
        bn.runningVar = Tensor(shape: [ch], data: randomTensor([ch], &rng).data.map { 1 + abs($0) })
        let g = Graph()
        g.add("conv", conv(k))
        g.add("bn", bn)
        g.add("shortcut", conv(1), inputs: ["input"])
        g.add("add", Add(), inputs: ["bn", "shortcut"])
        g.add("relu", ActivationLayer(.relu))
        g.add("head", conv(1))
        let f = g.fused()
        #expect(!f.nodes.contains { $0.layer is Add || $0.layer is BatchNorm2d || $0.layer is ActivationLayer })
        #expect((f.nodes.first { $0.name == "relu" }?.layer as? Conv2d)?.residual == true)
        let x = randomTensor([n, ch, h, h], &rng)
        let plain = try g.forward(x), fast = try f.forward(x)
        let y = try plain.output("head"), yf = try fast.output("head")
        let seed = randomTensor(y.shape, &rng)
        let dx = try g.backward(plain, seed: seed, at: "head", to: ["input"])["input"]!
        let dxf = try f.backward(fast, seed: seed, at: "head", to: ["input"])["input"]!
        let e = yf.maxAbsDifference(y) / max(y.maxAbs, 1e-6), eg = dxf.maxAbsDifference(dx) / max(dx.maxAbs, 1e-6)
        print("TENSOR \(e < 1e-5 && eg < 1e-5 ? "OK" : "BAD") fused residual \(c): output \(e), input gradient \(eg)")
        #expect(e < 1e-5)
        #expect(eg < 1e-5)
    }
}
