import Testing
@testable import Engine

/// Winograd F(4×4, 3×3) and F(2×2, 3×3) against the naive definition of convolution (forward) and against im2col
/// (input gradient), on odd sizes that leave partial tiles, with and without padding, bias, fused activations and
/// batches. Where the CPU has AVX-512, F(4×4, 3×3) passes under 128 tiles run the GEMMs on the engine's kernel
/// (`Winograd.packs`), the 72-channel 144-tile case on OpenBLAS, and the 75-, 90- and 144-tile cases over few channels
/// fused, share by share of 12 tiles (`Winograd.fuses`; the first two end in a partial share, and shares span
/// images); F(2×2, 3×3) never fuses, its 256-channel 14×14 case (49 tiles) runs on the engine's kernel and its 46×46
/// ones (529 tiles) on OpenBLAS. The 264-channel case holds the GEMMs' accuracy over a long k: OpenBLAS gives 2.1e-6
/// of the naive result there, the engine's kernel 5.4e-6; a trial of it summing all 264 products in one chain gave
/// 1.3e-5 and failed.
@Suite struct WinogradTests {
    @Test("forward equals the naive convolution", arguments: [
        (3, 8, [1, 3, 9, 11], 1), (16, 12, [2, 16, 13, 7], 1), (8, 8, [1, 8, 6, 6], 0), (5, 9, [3, 5, 17, 18], 1), (4, 4, [1, 4, 5, 23], 2),
        (264, 20, [1, 264, 9, 9], 1),         // a long k for the 36 GEMMs
        (72, 72, [1, 72, 46, 46], 1),         // 144 tiles over many channels: OpenBLAS's GEMMs
        (4, 8, [1, 4, 46, 46], 1),            // 144 tiles over few channels: fused, twelve full shares
        (8, 16, [3, 8, 17, 21], 1),           // 90 tiles: fused, the last share half full (as the 75 above)
        (256, 24, [1, 256, 14, 14], 1),       // ResNet's 14×14 layers, on F(2×2, 3×3): 49 tiles on the engine's kernel
    ], [Conv2d.Algorithm.winograd, .winograd2])
    func forward(_ c: (Int, Int, [Int], Int), _ algorithm: Conv2d.Algorithm) {
        var rng = SeededRandom(23)
        for act in [Activation.none, .relu, .relu6] {
            let l = Conv2d(c.0, c.1, kernel: 3, padding: c.3)
            l.weight = randomTensor(l.weight.shape, &rng)
            l.bias = randomTensor([c.1], &rng, scale: 2)
            let x = randomTensor(c.2, &rng, scale: 3)
            l.algorithm = .im2col
            l.activation = .none
            var ref = ForwardTests().naiveConv(l, x)
            let scale = ref.maxAbs                       // errors scale with the pre-activation values
            ref.data = ref.data.map { act == .relu ? max($0, 0) : act == .relu6 ? min(max($0, 0), 6) : $0 }
            l.algorithm = algorithm
            l.activation = act
            var y = Tensor(zeros: [0])
            l.forward([x], &y)
            let d = y.maxAbsDifference(ref), rel = d / scale
            print("TENSOR \(rel < 1e-5 ? "OK" : "BAD") \(algorithm) \(c) \(act): maxdiff \(d) (relative \(rel))")
            #expect(rel < 1e-5)
        }
    }

    @Test("input gradient equals im2col's", arguments: [([2, 6, 10, 9], 1), ([1, 6, 8, 8], 0), ([1, 6, 7, 13], 2),
                                                        ([2, 6, 22, 25], 1)],   // 84 tiles: fused
          [Conv2d.Algorithm.winograd, .winograd2])
    func backward(_ c: ([Int], Int), _ algorithm: Conv2d.Algorithm) {
        var rng = SeededRandom(5)
        let l = Conv2d(6, 10, kernel: 3, padding: c.1)
        l.weight = randomTensor(l.weight.shape, &rng)
        l.activation = .relu
        let x = randomTensor(c.0, &rng)
        var y = Tensor(zeros: [0])
        l.algorithm = .im2col
        l.forward([x], &y)
        let dy = randomTensor(y.shape, &rng)
        let ref = l.backward([x], y, dy, needed: [true])[0]!
        l.algorithm = algorithm
        let got = l.backward([x], y, dy, needed: [true])[0]!
        let rel = got.maxAbsDifference(ref) / ref.maxAbs
        print("TENSOR \(rel < 1e-5 ? "OK" : "BAD") \(algorithm) backward \(c): relative \(rel)")
        #expect(rel < 1e-5)
    }

    /// The cases above take the paths the suite's comment names, on a CPU with AVX-512.
    @Test func casesTakeTheirPaths() {
        guard PackedGEMM.wide else { return }
        #expect(!Winograd.packs(tiles: 144, c: 72, o: 72, tile: 4))
        #expect(Winograd.fuses(tiles: 144, c: 4, o: 8, tile: 4) && Winograd.fuses(tiles: 90, c: 8, o: 16, tile: 4) && Winograd.fuses(tiles: 75, c: 5, o: 9, tile: 4))
        #expect(Winograd.fuses(tiles: 84, c: 10, o: 6, tile: 4))
        #expect(!Winograd.fuses(tiles: 9, c: 264, o: 20, tile: 4) && Winograd.packs(tiles: 9, c: 264, o: 20, tile: 4))
        #expect(!Winograd.fuses(tiles: 24, c: 16, o: 12, tile: 4))
        #expect(!Winograd.fuses(tiles: 529, c: 4, o: 8, tile: 2) && !Winograd.packs(tiles: 529, c: 4, o: 8, tile: 2))
    }

    /// `.auto` picks F(2×2, 3×3) where `winogradTile` says: ResNet's 14×14 256-channel layers at batch 1, and the
    /// input gradient (not the forward) of its 7×7 and VGG16's 14×14 512-channel ones; F(4×4, 3×3) from 32 tiles of
    /// 4×4, and for the forward of VGG16's.
    @Test func autoPicksTheTile() {
        let (c256, c512, c64) = (Conv2d(256, 256, kernel: 3, padding: 1), Conv2d(512, 512, kernel: 3, padding: 1), Conv2d(64, 64, kernel: 3, padding: 1))
        #expect(c256.winogradTile([1, 256, 14, 14], padding: 1) == 2)
        #expect(c256.winogradTile([2, 256, 14, 14], padding: 1) == 4)
        #expect(c256.winogradTile([1, 256, 28, 28], padding: 1) == 4)
        #expect(c512.winogradTile([1, 512, 7, 7], padding: 1) == nil)
        #expect(c512.winogradTile([1, 512, 7, 7], padding: 1, backward: true) == 2)
        #expect(c512.winogradTile([1, 512, 14, 14], padding: 1) == 4)
        #expect(c512.winogradTile([1, 512, 14, 14], padding: 1, backward: true) == 2)
        #expect(c64.winogradTile([1, 64, 14, 14], padding: 1) == nil)
        #expect(c64.winogradTile([1, 64, 56, 56], padding: 1) == 4)
    }

    @Test func changingTheWeightsInvalidatesTheTransformedFilters() {
        var rng = SeededRandom(9)
        let l = Conv2d(8, 8, kernel: 3, padding: 1)
        l.algorithm = .winograd
        l.weight = randomTensor(l.weight.shape, &rng)
        let x = randomTensor([1, 8, 8, 8], &rng)
        var a = Tensor(zeros: [0]), b = Tensor(zeros: [0])
        l.forward([x], &a)
        l.weight = Tensor(shape: l.weight.shape, data: l.weight.data.map { 2 * $0 })
        l.forward([x], &b)
        let bias = l.bias!.data
        let plane = 64
        #expect(zip(a.data.enumerated(), b.data).allSatisfy { p, v in abs(2 * (p.element - bias[p.offset / plane]) + bias[p.offset / plane] - v) < 1e-4 })
    }
}
