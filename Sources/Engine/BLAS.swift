import CBLAS
import Synchronization

/// The one wrapper around OpenBLAS: single-precision GEMM on row-major matrices, and its thread count.
public enum BLAS {
    /// C = alpha * op(A) * op(B) + beta * C, all row-major.
    /// - Parameters:
    ///   - transA: use Aᵀ; A is stored (k, m) instead of (m, k).
    ///   - transB: use Bᵀ; B is stored (n, k) instead of (k, n).
    ///   - m: rows of C. n: columns of C. k: the shared dimension.
    ///   - a, lda: A and its row stride. b, ldb: B and its row stride. c, ldc: C (m, n) and its row stride.
    ///   - split: whether this call may spread over the cores; false when the caller already runs GEMMs in parallel.
    ///
    /// With `dispatchThreads` set, OpenBLAS runs single-threaded and a large GEMM is split here into panels of C,
    /// a few per core, claimed one at a time by Dispatch's threads: the engine's own parallel loops and the GEMMs
    /// then share one pool of threads, instead of OpenBLAS's workers spinning on `sched_yield` while Dispatch's
    /// threads want the cores, and a core slowed down by another process takes fewer panels.
    @inlinable
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, split: Bool = true) {
        let parts = split && dispatchThreads && m * n * k >= 1 << 18 ? panels(m: m, n: n, k: k) : 1
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta,
             c: c, ldc: ldc, parts: parts)
    }

    /// How many panels a split GEMM cuts C into: a multiple of the core count (so that equal panels end together),
    /// up to `chunksPerCore` per core, none narrower than 256 columns (or rows): each panel packs the whole of the
    /// other operand again, which costs as much as about a hundred multiply-adds per packed value.
    @inlinable
    static func panels(m: Int, n: Int, k: Int) -> Int {
        let cores = Parallelism.cores
        return cores * Swift.max(1, Swift.min(Parallelism.chunksPerCore, Swift.max(m, n) / (256 * cores)))
    }

    /// `gemm` split into `parts` panels of C along its longer side, run by Dispatch's threads (1: one OpenBLAS
    /// call). Each element of C is computed by one panel's call, over the whole of k, so the split does not change
    /// the summation order: `BLASTests` checks it bit for bit, since OpenBLAS does not promise it. Panels stay equal:
    /// rounded up to multiples of 16 rows, they changed some rows of a (300, 97, 64) product in the last bit.
    @usableFromInline
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                     b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, parts: Int) {
        if m == 0 || n == 0 { return }
        let (ta, tb) = (transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans)
        if parts <= 1 {
            cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
            return
        }
        // Split the longer side of C into panels (columns of B, or rows of A).
        let alongN = n >= m
        let total = alongN ? n : m
        let step = (total + parts - 1) / parts
        let count = (total + step - 1) / step
        parallelFor(count) { i in                          // each panel writes its own rows or columns of C
            let lo = i * step, hi = Swift.min(total, lo + step)
            if alongN {
                let bb = transB ? b + lo * ldb : b + lo
                cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(hi - lo), Int32(k), alpha, a, Int32(lda), bb, Int32(ldb),
                            beta, c + lo, Int32(ldc))
            } else {
                let aa = transA ? a + lo : a + lo * lda
                cblas_sgemm(CblasRowMajor, ta, tb, Int32(hi - lo), Int32(n), Int32(k), alpha, aa, Int32(lda), b, Int32(ldb),
                            beta, c + lo * ldc, Int32(ldc))
            }
        }
    }

    /// Whether GEMMs are split over the cores by Dispatch (with OpenBLAS single-threaded); see `gemm`. Set once at
    /// start-up by `useDispatchThreads`; an atomic, so a pass on another thread reads it without a race.
    @inlinable
    public static var dispatchThreads: Bool { dispatchThreadsFlag.load(ordering: .relaxed) }
    @usableFromInline
    static let dispatchThreadsFlag = Atomic<Bool>(false)

    /// Makes OpenBLAS single-threaded and lets `gemm` split the work on Dispatch's threads.
    public static func useDispatchThreads() {
        threads = 1
        dispatchThreadsFlag.store(true, ordering: .relaxed)
    }

    /// y = alpha · op(A) · x + beta · y for a row-major (m, n) matrix A; op(A) is Aᵀ when `trans`. A matrix-vector
    /// product reads A once at memory speed: for a single image, a fully connected layer runs twice as fast through
    /// gemv as through a one-row gemm.
    @inlinable
    public static func gemv(trans: Bool = false, m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                            x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        if m == 0 || n == 0 { return }
        if trans {
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
            return
        }
        // Rows shared out over the cores: a single image's classifier reads its whole weight matrix once, and one
        // core alone did not keep the memory busy.
        parallelChunks(m, work: m * n) { r in
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(r.count), Int32(n), alpha, a + r.lowerBound * lda, Int32(lda), x, 1, beta,
                        y + r.lowerBound, 1)
        }
    }

    /// The number of threads OpenBLAS uses for each call.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }
}

/// LAPACK through OpenBLAS.
public enum LAPACK {
    /// The singular value decomposition A = U·diag(S)·Vᵀ of a row-major (m, n) matrix, in double precision, with
    /// full U and Vᵀ, as `numpy.linalg.svd(a, full_matrices=True)` computes it (same routine, dgesdd, so the
    /// singular vectors' signs agree).
    /// - Returns: S (min(m, n)) and Vᵀ (n, n) row-major; U is not returned.
    public static func svd(_ a: [Double], m: Int, n: Int) throws -> (s: [Double], vt: [Double]) {
        precondition(a.count == m * n, "LAPACK.svd: \(a.count) values do not fill \(m)x\(n)")
        var colMajor = [Double](repeating: 0, count: m * n)               // (n, m) storage = column-major (m, n)
        for i in 0 ..< m { for j in 0 ..< n { colMajor[j * m + i] = a[i * n + j] } }
        let k = min(m, n)
        var s = [Double](repeating: 0, count: k), u = [Double](repeating: 0, count: m * m)
        var vtCol = [Double](repeating: 0, count: n * n)
        var iwork = [Int32](repeating: 0, count: 8 * k)
        var (mm, nn, lda, ldu, ldvt, info) = (Int32(m), Int32(n), Int32(max(1, m)), Int32(max(1, m)), Int32(max(1, n)), Int32(0))
        var lwork: Int32 = -1, query = 0.0
        var jobz = CChar(UInt8(ascii: "A"))
        dgesdd_(&jobz, &mm, &nn, &colMajor, &lda, &s, &u, &ldu, &vtCol, &ldvt, &query, &lwork, &iwork, &info, 1)
        lwork = Int32(query)
        var work = [Double](repeating: 0, count: Int(lwork))
        dgesdd_(&jobz, &mm, &nn, &colMajor, &lda, &s, &u, &ldu, &vtCol, &ldvt, &work, &lwork, &iwork, &info, 1)
        guard info == 0 else { throw EngineError("SVD did not converge (LAPACK dgesdd info \(info))") }
        var vt = [Double](repeating: 0, count: n * n)                      // row-major (n, n)
        for i in 0 ..< n { for j in 0 ..< n { vt[i * n + j] = vtCol[j * n + i] } }
        return (s, vt)
    }
}
