import Testing
@testable import Engine

/// Winograd F(4×4, 3×3) against the naive definition of convolution (forward) and against im2col (input
/// gradient), on odd sizes that leave partial tiles, with and without padding, bias, fused activations and batches.
/// Passes under 128 tiles run the GEMMs on the engine's kernel where the CPU has AVX-512 (`Winograd.packs`), the
/// 144-tile case on OpenBLAS. The 264-channel case holds the GEMMs' accuracy over a long k: OpenBLAS gives 2.1e-6 of
/// the naive result there, the engine's kernel 5.4e-6; a trial of it summing all 264 products in one chain gave
/// 1.3e-5 and failed.
@Suite struct WinogradTests {
    @Test("forward equals the naive convolution", arguments: [
        (3, 8, [1, 3, 9, 11], 1), (16, 12, [2, 16, 13, 7], 1), (8, 8, [1, 8, 6, 6], 0), (5, 9, [3, 5, 17, 18], 1), (4, 4, [1, 4, 5, 23], 2),
        (264, 20, [1, 264, 9, 9], 1),         // a long k for the 36 GEMMs
        (4, 8, [1, 4, 46, 46], 1),            // 144 tiles: OpenBLAS's GEMMs, where the others run the engine's kernel
    ])
    func forward(_ c: (Int, Int, [Int], Int)) {
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
            l.algorithm = .winograd
            l.activation = act
            var y = Tensor(zeros: [0])
            l.forward([x], &y)
            let d = y.maxAbsDifference(ref), rel = d / scale
            print("TENSOR \(rel < 1e-5 ? "OK" : "BAD") winograd \(c) \(act): maxdiff \(d) (relative \(rel))")
            #expect(rel < 1e-5)
        }
    }

    @Test("input gradient equals im2col's", arguments: [([2, 6, 10, 9], 1), ([1, 6, 8, 8], 0), ([1, 6, 7, 13], 2)])
    func backward(_ c: ([Int], Int)) {
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
        l.algorithm = .winograd
        let got = l.backward([x], y, dy, needed: [true])[0]!
        let rel = got.maxAbsDifference(ref) / ref.maxAbs
        print("TENSOR \(rel < 1e-5 ? "OK" : "BAD") winograd backward \(c): relative \(rel)")
        #expect(rel < 1e-5)
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
