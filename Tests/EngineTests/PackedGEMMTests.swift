import Testing
@testable import Engine

/// The engine's own GEMM kernel (CKernels, through `PackedGEMM`) against a naive product in double precision, with
/// the bias and activation it applies as it stores; and bit for bit the same however the work is split.
@Suite struct PackedGEMMTests {
    /// c (m, n) = act(A · B + bias) through the kernel.
    func packed(_ m: Int, _ n: Int, _ k: Int, _ a: [Float], _ b: [Float], bias: [Float]?, _ act: Activation, split: Bool) -> [Float] {
        let filters = PackedGEMM.Filters(a, groups: 1, m: m, k: k)
        var c = [Float](repeating: -7, count: m * n)
        filters.values.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            if let bias {
                bias.withUnsafeBufferPointer { biasp in
                    PackedGEMM.multiply(ap.baseAddress!, bp.baseAddress!, ldb: n, m: m, n: n, k: k, cp.baseAddress!,
                                        bias: biasp.baseAddress!, activation: act, split: split)
                }
            } else {
                PackedGEMM.multiply(ap.baseAddress!, bp.baseAddress!, ldb: n, m: m, n: n, k: k, cp.baseAddress!,
                                    bias: nil, activation: act, split: split)
            }
        } } }
        return c
    }

    func random(_ count: Int, _ seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed)
        return (0 ..< count).map { _ in Float.random(in: -1 ... 1, using: &rng) }
    }

    /// Shapes with partial row panels (m mod 6), partial column panels (n mod 16), several k blocks of 256 and a
    /// remainder, several column blocks of 512, and a k of 3 (an RGB 1×1 layer).
    @Test(arguments: [(13, 49, 300), (6, 16, 3), (64, 1100, 96), (301, 20, 577), (1, 1, 1)])
    func equalsTheNaiveProduct(_ shape: (Int, Int, Int)) throws {
        try #require(PackedGEMM.enabled, "this CPU has no AVX2/FMA: the kernel is not in use")
        let (m, n, k) = shape
        let a = random(m * k, 1), b = random(k * n, 2), bias = random(m, 3)
        for act in [Activation.none, .relu, .relu6] {
            let out = packed(m, n, k, a, b.map { $0 * 8 }, bias: bias, act, split: true)   // × 8: some past 6
            var worst = 0.0
            for i in 0 ..< m { for j in 0 ..< n {
                var s = Double(bias[i]), scale = abs(s)          // scale: Σ|terms|, what float32 rounding grows with
                for p in 0 ..< k {
                    let t = Double(a[i * k + p]) * Double(b[p * n + j] * 8)
                    s += t
                    scale += abs(t)
                }
                let want = act == .none ? s : act == .relu ? max(s, 0) : min(max(s, 0), 6)
                worst = max(worst, abs(Double(out[i * n + j]) - want) / scale)
            } }
            print("TENSOR \(worst < 1e-5 ? "OK" : "BAD") packed gemm \(shape) \(act): max error \(worst) of Σ|a·b|")
            #expect(worst < 1e-6)
        }
    }

    /// Split over the cores along the columns (many of them) or along the rows (few columns, B packed once), the
    /// product equals the one-thread call bit for bit: each element is one chain of multiply-adds in k order.
    @Test(arguments: [(64, 600, 96), (300, 49, 300)])
    func splitDoesNotChangeABit(_ shape: (Int, Int, Int)) throws {
        try #require(PackedGEMM.enabled, "this CPU has no AVX2/FMA: the kernel is not in use")
        let (m, n, k) = shape
        let a = random(m * k, 4), b = random(k * n, 5), bias = random(m, 6)
        let one = packed(m, n, k, a, b, bias: bias, .relu, split: false)
        let split = packed(m, n, k, a, b, bias: bias, .relu, split: true)
        #expect(one == split)
    }

    /// NaN in the input reaches the output through ReLU and ReLU6, as Swift.max and Swift.min let it through in
    /// the OpenBLAS path's epilogue (the finite checks on logits rely on it).
    @Test func nanPassesThroughTheActivation() throws {
        try #require(PackedGEMM.enabled, "this CPU has no AVX2/FMA: the kernel is not in use")
        var b = random(8 * 20, 7)
        b[3 * 20 + 17] = .nan                               // column 17: in the second, partial panel
        for act in [Activation.relu, .relu6] {
            let out = packed(7, 20, 8, random(7 * 8, 8), b, bias: nil, act, split: false)
            for i in 0 ..< 7 { for j in 0 ..< 20 { #expect(out[i * 20 + j].isNaN == (j == 17)) } }
        }
    }
}
