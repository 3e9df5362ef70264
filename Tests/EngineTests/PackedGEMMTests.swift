import CKernels
import Testing
@testable import Engine

/// The engine's own GEMM kernels (CKernels, through `PackedGEMM`) against a naive product in double precision, with
/// the bias and activation they apply as they store; bit for bit the same however the work is split, and the AVX-512
/// pixel-row and 16×16 channel-row kernels bit for bit the same as the AVX2 channel-row one.
@Suite struct PackedGEMMTests {
    /// The kernels this CPU runs.
    static let kernels: [PackedGEMM.Kernel] = !PackedGEMM.enabled ? [] : PackedGEMM.wide ? [.channelRows, .pixelRows, .wideChannelRows] : [.channelRows]

    /// c (m, n) = act(A · B + bias) through a kernel.
    func packed(_ m: Int, _ n: Int, _ k: Int, _ a: [Float], _ b: [Float], bias: [Float]?, _ act: Activation, split: Bool,
                kernel: PackedGEMM.Kernel = .channelRows) -> [Float] {
        let filters = PackedGEMM.Filters(a, groups: 1, m: m, k: k, kernel: kernel)
        var c = [Float](repeating: -7, count: m * n)
        filters.values.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            if let bias {
                bias.withUnsafeBufferPointer { biasp in
                    PackedGEMM.multiply(ap.baseAddress!, kernel: kernel, bp.baseAddress!, ldb: n, m: m, n: n, k: k, cp.baseAddress!,
                                        bias: biasp.baseAddress!, activation: act, split: split)
                }
            } else {
                PackedGEMM.multiply(ap.baseAddress!, kernel: kernel, bp.baseAddress!, ldb: n, m: m, n: n, k: k, cp.baseAddress!,
                                    bias: nil, activation: act, split: split)
            }
        } } }
        return c
    }

    func random(_ count: Int, _ seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed)
        return (0 ..< count).map { _ in Float.random(in: -1 ... 1, using: &rng) }
    }

    /// Shapes with partial panels on both sides (m mod 6 and mod 32, n mod 16 and mod 7), several k blocks of 256
    /// and of 512 and a remainder, several column blocks of 512 and pixel chunks of 112, and a k of 3 (an RGB 1×1
    /// layer).
    @Test(arguments: [(13, 49, 300), (6, 16, 3), (64, 1100, 96), (301, 20, 577), (1, 1, 1), (40, 50, 1100)])
    func equalsTheNaiveProduct(_ shape: (Int, Int, Int)) throws {
        try #require(PackedGEMM.enabled, "this CPU has no AVX2/FMA: the kernel is not in use")
        let (m, n, k) = shape
        let a = random(m * k, 1), b = random(k * n, 2), bias = random(m, 3)
        for kernel in Self.kernels { for act in [Activation.none, .relu, .relu6] {
            let out = packed(m, n, k, a, b.map { $0 * 8 }, bias: bias, act, split: true, kernel: kernel)   // × 8: some past 6
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
            print("TENSOR \(worst < 1e-5 ? "OK" : "BAD") packed gemm \(kernel) \(shape) \(act): max error \(worst) of Σ|a·b|")
            #expect(worst < 1e-6)
        } }
    }

    /// Split over the cores along the columns (many of them) or along the rows (few columns, B packed by each
    /// core), the product equals the one-thread call bit for bit: each element is one chain of multiply-adds in k
    /// order. So do the pixel-row kernel and the 16×16 one, split along the pixels (64 filters, 600 pixels) or the
    /// channels (300 filters, 49 pixels), and whichever kernel computes it.
    @Test(arguments: [(64, 600, 96), (300, 49, 300), (64, 600, 700), (300, 49, 1100)])
    func splitAndKernelDoNotChangeABit(_ shape: (Int, Int, Int)) throws {
        try #require(PackedGEMM.enabled, "this CPU has no AVX2/FMA: the kernel is not in use")
        let (m, n, k) = shape
        let a = random(m * k, 4), b = random(k * n, 5), bias = random(m, 6)
        let one = packed(m, n, k, a, b, bias: bias, .relu, split: false)
        for kernel in Self.kernels {
            let split = packed(m, n, k, a, b, bias: bias, .relu, split: true, kernel: kernel)
            #expect(one == split, "\(kernel)")
        }
    }

    /// Pointwise layers go to the 16×16 kernel with at least as many input channels as output ones, or at least 256
    /// (ResNet-50's 256→1024 exits over 14×14, where its tail beat the 6×16 kernel); 64→256 stays on the 6×16 one,
    /// im2col layers on the 7×32 one.
    @Test func pointwiseLayersPickTheirKernel() throws {
        try #require(PackedGEMM.wide && PackedGEMM.mode == "auto", "this CPU has no AVX-512, or CONVLENS_KERNELS is set")
        #expect(PackedGEMM.kernel(pointwise: true, k: 1024, m: 256) == .wideChannelRows)
        #expect(PackedGEMM.kernel(pointwise: true, k: 256, m: 1024) == .wideChannelRows)
        #expect(PackedGEMM.kernel(pointwise: true, k: 512, m: 1024) == .wideChannelRows)
        #expect(PackedGEMM.kernel(pointwise: true, k: 64, m: 256) == .channelRows)
        #expect(PackedGEMM.kernel(pointwise: true, k: 128, m: 512) == .channelRows)
        #expect(PackedGEMM.kernel(pointwise: true, k: 256, m: 1000) == .channelRows)          // not a multiple of 16
        #expect(PackedGEMM.kernel(pointwise: false, k: 1152, m: 128) == .pixelRows)
    }

    /// Winograd's GEMM kernel (`ck_gemm_rows`: A's rows read in place, B packed, four chains over k mod 4) against a
    /// naive product in double precision, with k = 5, 6 and 7, whose last steps fall in a remainder of one to three,
    /// a last panel of every height from one row to six (m mod 6; each height is its own code), partial panels of
    /// columns (n mod 16), and a row past the last that must stay as it was.
    @Test(arguments: [(13, 21, 5), (6, 16, 6), (7, 33, 7), (12, 40, 64), (2, 17, 9), (9, 16, 8), (16, 31, 12),
                      (11, 5, 10), (49, 32, 13)])
    func winogradKernelEqualsTheNaiveProduct(_ shape: (Int, Int, Int)) throws {
        try #require(PackedGEMM.wide, "this CPU has no AVX-512: the kernel is not in use")
        let (m, n, k) = shape
        let a = random(m * k, 11), b = random(k * n, 12)
        var packed = [Float](repeating: 0, count: ck_packed_b_count(Int32(k), Int32(n)))
        var c = [Float](repeating: -7, count: (m + 1) * n)                  // (m + 1, n): the last row a guard
        b.withUnsafeBufferPointer { bp in packed.withUnsafeMutableBufferPointer { pp in
            ck_pack_b(bp.baseAddress!, Int32(k), Int32(n), Int32(n), pp.baseAddress!, 0, Int32((n + 15) / 16))
        } }
        a.withUnsafeBufferPointer { ap in packed.withUnsafeBufferPointer { pp in c.withUnsafeMutableBufferPointer { cp in
            ck_gemm_rows(ap.baseAddress!, Int32(k), pp.baseAddress!, Int32(m), Int32(n), Int32(k), cp.baseAddress!, Int32(n))
        } } }
        var worst = 0.0
        for i in 0 ..< m { for j in 0 ..< n {
            var sum = 0.0, scale = 0.0
            for p in 0 ..< k {
                let t = Double(a[i * k + p]) * Double(b[p * n + j])
                sum += t
                scale += abs(t)
            }
            worst = max(worst, abs(Double(c[i * n + j]) - sum) / max(scale, 1e-30))
        } }
        print("TENSOR \(worst < 1e-6 ? "OK" : "BAD") ck_gemm_rows \(shape): max error \(worst) of Σ|a·b|")
        #expect(worst < 1e-6)
        #expect(c[(m * n)...].allSatisfy { $0 == -7 }, "the kernel wrote past row \(m - 1)")
    }

    /// NaN in the input reaches the output through ReLU and ReLU6, as Swift.max and Swift.min let it through in
    /// the OpenBLAS path's epilogue (the finite checks on logits rely on it).
    @Test func nanPassesThroughTheActivation() throws {
        try #require(PackedGEMM.enabled, "this CPU has no AVX2/FMA: the kernel is not in use")
        var b = random(8 * 20, 7)
        b[3 * 20 + 17] = .nan                               // column 17: in the second, partial panel
        for kernel in Self.kernels { for act in [Activation.relu, .relu6] {
            let out = packed(7, 20, 8, random(7 * 8, 8), b, bias: nil, act, split: false, kernel: kernel)
            for i in 0 ..< 7 { for j in 0 ..< 20 { #expect(out[i * 20 + j].isNaN == (j == 17)) } }
        } }
    }
}
