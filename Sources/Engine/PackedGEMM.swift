import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// The engine's own GEMM for convolutions (Sources/CKernels): filters packed once when a layer's weights are set,
/// the input's columns packed a block at a time while they are in cache, and the bias and activation applied as each
/// tile of the output is stored, which saves the separate pass over the output that an OpenBLAS call needs. Each
/// output element is one chain of fused multiply-adds over k in order, so the result does not depend on how the work
/// is split over the cores or on the batch. Used when the CPU has AVX2 and FMA; CONVLENS_KERNELS=blas turns it off,
/// to measure the difference.
public enum PackedGEMM {
    /// Whether convolutions use it on this machine.
    public static let enabled: Bool = ck_available() != 0 && mode != "blas"
    static let mode = getenv("CONVLENS_KERNELS").map { String(cString: $0) } ?? "pointwise"
    /// Whether a convolution's forward GEMM uses the kernel: pointwise ones, or all with CONVLENS_KERNELS=all (the
    /// im2col layers measured equal alone but 5% slower over a whole ResNet-18 than on OpenBLAS).
    static func suits(pointwise: Bool) -> Bool { enabled && (mode == "all" || pointwise) }

    /// The C kernels' code for an activation.
    static func code(_ activation: Activation) -> Int32 {
        switch activation { case .none: 0; case .relu: 1; case .relu6: 2 }
    }

    /// Filters (groups · O/G, K) packed per group for `multiply`, as the C kernel reads them.
    struct Filters: Sendable {
        let values: [Float]
        /// Floats per group.
        let stride: Int

        /// Packs `weight` (G·M, K), row-major, group by group; empty when the kernel is not in use.
        init(_ weight: [Float], groups: Int, m: Int, k: Int) {
            guard PackedGEMM.enabled, m > 0, k > 0, weight.count == groups * m * k else { (values, stride) = ([], 0); return }
            let stride = ck_packed_a_count(Int32(m), Int32(k))
            values = [Float](unsafeUninitializedCapacity: groups * stride) { buffer, count in
                weight.withUnsafeBufferPointer { w in
                    for g in 0 ..< groups {
                        ck_pack_a(w.baseAddress! + g * m * k, Int32(m), Int32(k), Int32(k), buffer.baseAddress! + g * stride)
                    }
                }
                count = groups * stride
            }
            self.stride = stride
        }
    }

    /// c (m, n) = A · b + bias, then the activation, with A one group of packed `filters`.
    /// - Parameters:
    ///   - b: (k, n), row stride ldb (an im2col matrix, or a pointwise convolution's input).
    ///   - c: (m, n), row stride n.
    ///   - split: spread over the cores; false when the caller already runs images in parallel.
    static func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, ldb: Int, m: Int, n: Int, k: Int,
                         _ c: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, activation: Activation, split: Bool) {
        if m == 0 || n == 0 { return }
        let act = code(activation)
        let (mp, np) = ((m + 5) / 6, (n + 15) / 16)                             // panels of rows and of columns
        let scratch = ck_packed_b_count(Int32(k), Int32(CK_NCQ * 16))
        func run(_ p: Range<Int>, _ q: Range<Int>) {
            let packed = UnsafeMutableRawPointer.allocate(byteCount: scratch * 4, alignment: 64)
            defer { packed.deallocate() }
            ck_gemm(a, b, Int32(ldb), Int32(m), Int32(n), Int32(k), c, Int32(n), bias, act,
                    Int32(p.lowerBound), Int32(p.upperBound), Int32(q.lowerBound), Int32(q.upperBound),
                    packed.assumingMemoryBound(to: Float.self))
        }
        let work = m * n * k
        guard split && work >= 1 << 18 && Parallelism.cores > 1 else { return run(0 ..< mp, 0 ..< np) }
        // Along the columns when there are enough of them to share out evenly (each chunk packs only its own);
        // else B is packed once and the rows are shared out.
        if np >= 8 * Parallelism.cores {
            parallelChunks(np, work: work) { q in run(0 ..< mp, q) }
            return
        }
        let packed = UnsafeMutableRawPointer.allocate(byteCount: ck_packed_b_count(Int32(k), Int32(n)) * 4, alignment: 64)
        defer { packed.deallocate() }
        let bp = packed.assumingMemoryBound(to: Float.self)
        ck_pack_b(b, Int32(k), Int32(n), Int32(ldb), bp, 0, Int32(np))
        parallelChunks(mp, work: work) { p in
            ck_gemm_packed(a, bp, Int32(m), Int32(n), Int32(k), c, Int32(n), bias, act, Int32(p.lowerBound), Int32(p.upperBound))
        }
    }
}
