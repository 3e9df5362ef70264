import CKernels
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The engine's own GEMMs for convolutions (Sources/CKernels): filters packed once when a layer's weights are set,
/// the input's columns packed a block at a time while they are in cache, and the bias and activation applied as each
/// tile of the output is stored, which saves the separate pass over the output that an OpenBLAS call needs. Each
/// output element is one chain of fused multiply-adds over k in order, so the result does not depend on how the work
/// is split over the cores, on the batch, or on which kernel runs:
/// - `channelRows` (AVX2 and FMA): 6 channels × 16 pixels per register tile, for pointwise convolutions, whose
///   input is already the column matrix, and im2col ones with columns shorter than 256, read in place;
/// - `pixelRows` (AVX-512): 7 pixels × 32 channels, for the other im2col convolutions, whose planes in ResNet and VGG
///   are multiples of 7 pixels (7×7 in ResNet's layer4, where 16-pixel tiles waste 15 of every 64 columns), and for
///   pointwise ones over planes under 128 pixels;
/// - `wideChannelRows` (AVX-512): 16 channels × 16 pixels, the input read in place, for pointwise convolutions with at
///   least as many input channels as output ones or at least 256, and output channels a multiple of 16 (ResNet's
///   bottleneck entries, its exits from layer3 and its shortcuts from layer2, SqueezeNet's squeezes, MobileNet's and
///   EfficientNet's projections).
///
/// CONVLENS_KERNELS=blas turns them off, `pointwise` keeps only the first, `all` uses the first everywhere: to
/// measure the difference.
public enum PackedGEMM {
    /// Whether convolutions use it on this machine.
    public static let enabled: Bool = ck_available() != 0 && mode != "blas"
    static let mode = getenv("CONVLENS_KERNELS").map { String(cString: $0) } ?? "auto"
    /// Whether this CPU runs the AVX-512 kernel.
    static let wide = enabled && ck_available512() != 0

    /// Which kernel a convolution's forward GEMM runs on.
    enum Kernel: Sendable { case blas, channelRows, pixelRows, wideChannelRows }

    /// The kernel for a pointwise convolution with m output channels, or an im2col one with columns of height k.
    /// A pointwise layer with k ≥ m goes to the wide channel-row kernel: on one core, in a harness, ResNet-50's
    /// 256→64 layer over 56×56 took 0.91 ms there against 1.02 on the channel-row one, its 512→128 over 28×28 0.91
    /// against 0.97, SqueezeNet's 128→16 over 55×55 0.12 against 0.16. With k < m it lost, reading the input again
    /// for every panel of 16 filters: 64→256 over 56×56 took 1.09 ms against 0.98. From k = 256 it wins again, since
    /// its last, partial panel of columns costs only its width (`ck_gemm_pw`'s tails): one core, a harness, cold
    /// caches, the smallest of three medians of 31: 256→1024 over 14×14 0.903 ms against 0.943, 512→1024 over 14×14
    /// 1.815 against 1.905, 256→512 over 28×28 1.816 against 1.841; at k = 128 the two tie (128→512 over 28×28 0.910
    /// against 0.914).
    /// Short columns go to the channel-row kernel, read in place from a split copy of the image
    /// (`Conv2d.multiplyDirect`): ResNet's stem (k = 147, 12,544 pixels) took 1.56–1.58 ms on the pixel-row kernel,
    /// which spends more on packing its columns and writing its output back transposed than on its few k steps, against
    /// 1.34–1.36 on this one with its columns packed from the image (two cores), and 2.2 ms on OpenBLAS, which reads
    /// back a 7.4 MB column matrix from memory.
    static func kernel(pointwise: Bool, k: Int, m: Int) -> Kernel {
        guard enabled else { return .blas }
        if pointwise && wide && mode == "auto" && (k >= m || k >= 256) && m % 16 == 0 { return .wideChannelRows }
        if pointwise || mode == "all" || mode == "auto" && k < 256 { return .channelRows }
        return wide && mode == "auto" ? .pixelRows : .blas
    }

    /// The C kernels' code for an activation.
    static func code(_ activation: Activation) -> Int32 {
        switch activation { case .none: 0; case .relu: 1; case .relu6: 2 }
    }

    /// Filters (groups · O/G, K) packed per group for `multiply`, as its kernel reads them.
    struct Filters: Sendable {
        let values: [Float]
        /// Floats per group.
        let stride: Int
        let kernel: Kernel

        /// Packs `weight` (G·M, K), row-major, group by group; empty for `.blas`.
        init(_ weight: [Float], groups: Int, m: Int, k: Int, kernel: Kernel) {
            guard kernel != .blas, m > 0, k > 0, weight.count == groups * m * k else { (values, stride, self.kernel) = ([], 0, .blas); return }
            let (m32, k32) = (Int32(m), Int32(k))
            let stride = switch kernel {
            case .pixelRows: ck_packed_w_count(m32, k32)
            case .wideChannelRows: ck_packed_a16_count(m32, k32)
            default: ck_packed_a_count(m32, k32)
            }
            values = [Float](unsafeUninitializedCapacity: groups * stride) { buffer, count in
                weight.withUnsafeBufferPointer { w in
                    for g in 0 ..< groups {
                        let (src, dst) = (w.baseAddress! + g * m * k, buffer.baseAddress! + g * stride)
                        switch kernel {
                        case .pixelRows: ck_pack_w(src, m32, k32, dst)
                        case .wideChannelRows: ck_pack_a16(src, m32, k32, dst)
                        default: ck_pack_a(src, m32, k32, k32, dst)
                        }
                    }
                }
                count = groups * stride
            }
            (self.stride, self.kernel) = (stride, kernel)
        }
    }

    /// A pointwise layer's filters packed for the pixel-row kernel as well, on first use, under a lock, and never
    /// again: made only if the layer ever runs on a small plane, where 7-pixel tiles waste less than 16-pixel ones
    /// (ResNet-50's 7×7 layers: 2048→512 over 49 pixels took 1.18 ms on one core with 16-pixel tiles, 0.93 with 7).
    /// `@unchecked Sendable` is sound: `made` is read and written only while `lock` is held.
    final class LazyFilters: @unchecked Sendable {
        private let weight: [Float]                                         // (G·M, K)
        private let groups: Int, m: Int, k: Int
        private let lock = NSLock()
        private var made: Filters?

        init(_ weight: [Float], groups: Int, m: Int, k: Int) {
            (self.weight, self.groups, self.m, self.k) = (weight, groups, m, k)
        }

        var filters: Filters {
            lock.withLock {
                if let f = made { return f }
                let f = Filters(weight, groups: groups, m: m, k: k, kernel: .pixelRows)
                made = f
                return f
            }
        }
    }

    /// Planes below this many pixels run a pointwise layer on the pixel-row kernel (`LazyFilters`): at 196 the two
    /// kernels tied, at 784 the channel-row one won by 5–15%.
    static let smallPlane = 128

    /// c (m, n) = A · b + bias (+ residual), then the activation, with A one group of packed filters.
    /// - Parameters:
    ///   - b: (k, n), row stride ldb (an im2col matrix, or a pointwise convolution's input).
    ///   - c: (m, n), row stride ldc.
    ///   - residual: (m, n), row stride ldc: a residual sum fused into the convolution, added after the bias.
    ///   - split: spread over the cores; false when the caller already runs images in parallel.
    static func multiply(_ a: UnsafePointer<Float>, kernel: Kernel, _ b: UnsafePointer<Float>, ldb: Int, m: Int, n: Int, k: Int,
                         _ c: UnsafeMutablePointer<Float>, ldc: Int? = nil, bias: UnsafePointer<Float>?,
                         residual: UnsafePointer<Float>? = nil, activation: Activation, split: Bool) {
        if m == 0 || n == 0 { return }
        let ldc = ldc ?? n
        if kernel == .pixelRows {
            // The matrix as a window: k channels of one row of ldb pixels, n of them in the output.
            let g = ck_window(c: Int32(k), h: 1, w: Int32(ldb), kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1, ho: 1, wo: Int32(n))
            return multiply(a, window: g, b, m: m, c, ldc: ldc, bias: bias, residual: residual, activation: activation, split: split)
        }
        if kernel == .wideChannelRows { return multiplyWide(a, b, ldb: ldb, m: m, n: n, k: k, c, ldc: ldc, bias: bias,
                                                            residual: residual, activation: activation, split: split) }
        let (mp, np) = ((m + 5) / 6, (n + 15) / 16)                             // panels of rows and of columns
        let scratch = ck_packed_b_count(Int32(k), Int32(CK_NCQ * 16))
        withUnsafePointer(to: ck_epilogue(bias: bias, res: residual, act: code(activation))) { e in
            func run(_ p: Range<Int>, _ q: Range<Int>) {
                let packed = UnsafeMutableRawPointer.allocate(byteCount: scratch * 4, alignment: 64)
                defer { packed.deallocate() }
                ck_gemm(a, b, Int32(ldb), Int32(m), Int32(n), Int32(k), c, Int32(ldc), e,
                        Int32(p.lowerBound), Int32(p.upperBound), Int32(q.lowerBound), Int32(q.upperBound),
                        packed.assumingMemoryBound(to: Float.self))
            }
            let work = m * n * k
            guard split && work >= 1 << 18 && Parallelism.cores > 1 else { return run(0 ..< mp, 0 ..< np) }
            // Along the columns when there are enough of them to share out evenly (each chunk packs only its own);
            // else along the rows, each core packing all of B for itself. Packing B once, half on each core, then
            // reading it all on each took one more loop and half of B from the other core's cache: the twelve 1×1
            // layers of ResNet-50's layer3 (eleven over 14×14) took 7.19 ms together (the smallest of four runs'
            // medians, interleaved), 7.07 so.
            if np >= 8 * Parallelism.cores {
                parallelChunks(np, work: work) { q in run(0 ..< mp, q) }
                return
            }
            perThread(floats: ck_packed_b_count(Int32(k), Int32(n)), mp, work: work) { packed in   // B packed, (np, K, 16)
                ck_pack_b(b, Int32(k), Int32(n), Int32(ldb), packed, 0, Int32(np))
            } _: { packed, p in
                ck_gemm_packed(a, packed, Int32(m), Int32(n), Int32(k), c, Int32(ldc), e, Int32(p.lowerBound), Int32(p.upperBound))
            }
        }
    }

    /// `multiply` on the wide channel-row kernel (A packed by `ck_pack_a16`), which reads B in place: shared out along
    /// the columns when there are enough of them or too few row panels to go round, else along the rows.
    static func multiplyWide(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, ldb: Int, m: Int, n: Int, k: Int,
                             _ c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?,
                             residual: UnsafePointer<Float>?, activation: Activation, split: Bool) {
        let (mp, np) = ((m + 15) / 16, (n + 15) / 16)                           // panels of rows and of columns
        withUnsafePointer(to: ck_epilogue(bias: bias, res: residual, act: code(activation))) { e in
            func run(_ p: Range<Int>, _ q: Range<Int>) {
                ck_gemm_pw(a, b, Int32(ldb), Int32(m), Int32(n), Int32(k), c, Int32(ldc), e,
                           Int32(p.lowerBound), Int32(p.upperBound), Int32(q.lowerBound), Int32(q.upperBound))
            }
            let work = m * n * k
            guard split && work >= 1 << 18 && Parallelism.cores > 1 else { return run(0 ..< mp, 0 ..< np) }
            if np >= 8 * Parallelism.cores || mp < 2 * Parallelism.cores {
                parallelChunks(np, work: work) { q in run(0 ..< mp, q) }
            } else {
                parallelChunks(mp, work: work) { p in run(p, 0 ..< np) }
            }
        }
    }

    /// Runs `body` over contiguous chunks of 0..<n on all cores (`parallelChunks`), each thread with a buffer of its own
    /// (`floats` long, 64-byte aligned) that `fill` fills on the thread's first chunk: B packed once per core, where it
    /// stays in that core's cache, with the rows still shared out dynamically, so that a core another process holds
    /// up does fewer of them. A thread outside the engine's pool (libdispatch's, when the pool is busy) fills a buffer
    /// for each chunk it runs.
    static func perThread(floats: Int, _ n: Int, work: Int, fill: (UnsafeMutablePointer<Float>) -> Void,
                          _ body: (UnsafeMutablePointer<Float>, Range<Int>) -> Void) {
        let cores = Parallelism.cores
        let buffers = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: cores)   // thread t's at t
        buffers.initialize(repeating: nil, count: cores)
        defer {
            for t in 0 ..< cores { buffers[t]?.deallocate() }
            buffers.deallocate()
        }
        parallelChunks(n, work: work) { range in
            let t = Int(ck_thread_index()), own = t >= 0 && t < cores
            var raw = own ? buffers[t] : nil
            if raw == nil {
                raw = UnsafeMutableRawPointer.allocate(byteCount: floats * 4, alignment: 64)
                fill(raw!.assumingMemoryBound(to: Float.self))
                if own { buffers[t] = raw }
            }
            body(raw!.assumingMemoryBound(to: Float.self), range)
            if !own { raw!.deallocate() }
        }
    }

    /// c (m, Ho·Wo) = A · B + bias (+ residual), then the activation, on the AVX-512 kernel (A packed by `ck_pack_w`),
    /// with B the im2col matrix of image x under window g, packed straight from the image: no column matrix is made.
    static func multiply(_ a: UnsafePointer<Float>, window g: ck_window, _ x: UnsafePointer<Float>, m: Int,
                         _ c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>? = nil,
                         activation: Activation, split: Bool) {
        let (n, k) = (Int(g.ho * g.wo), Int(g.c * g.kh * g.kw))
        if m == 0 || n == 0 { return }
        let (np, nq) = ((n + 6) / 7, (m + 31) / 32)                             // panels of pixels and of channels
        withUnsafePointer(to: g) { gp in withUnsafePointer(to: ck_epilogue(bias: bias, res: residual, act: code(activation))) { e in
            func run(_ q: Range<Int>, _ p: Range<Int>) {
                let scratch = UnsafeMutableRawPointer.allocate(byteCount: ck_gemm_p_scratch(Int32(k)) * 4, alignment: 64)
                defer { scratch.deallocate() }
                ck_gemm_p(a, gp, x, Int32(m), c, Int32(ldc), e, Int32(q.lowerBound), Int32(q.upperBound),
                          Int32(p.lowerBound), Int32(p.upperBound), scratch.assumingMemoryBound(to: Float.self))
            }
            let work = m * n * k
            guard split && work >= 1 << 18 && Parallelism.cores > 1 else { return run(0 ..< nq, 0 ..< np) }
            // Shared out along whichever side is read again by every share of the other: along the pixels when the
            // filters are the smaller (each share reads them all), else along the channels, each core packing all of
            // B for itself (as `multiply` above does, for the same reason: ResNet-18's layer4 took 4.39 ms with B
            // packed once, half on each core, 4.29 so; the smallest of four runs' medians, interleaved).
            if m <= n || nq < 2 * Parallelism.cores {
                parallelChunks(np, work: work) { p in run(0 ..< nq, p) }
                return
            }
            let count = ck_packed_p_count(Int32(n), Int32(k))
            perThread(floats: count + ck_gemm_p_acc_count(), nq, work: work) { packed in   // B packed, (np, K, 7), then acc
                ck_pack_p(gp, x, packed, 0, Int32(np))
            } _: { packed, q in
                ck_gemm_p_packed(a, packed, Int32(m), Int32(n), Int32(k), c, Int32(ldc), e, Int32(q.lowerBound), Int32(q.upperBound),
                                 packed + count)
            }
        } }
    }
}
