import CBLAS

/// The one wrapper around OpenBLAS: single-precision GEMM on row-major matrices, and its thread count.
public enum BLAS {
    /// C = alpha * op(A) * op(B) + beta * C, all row-major.
    /// - Parameters:
    ///   - transA: use Aᵀ; A is stored (k, m) instead of (m, k).
    ///   - transB: use Bᵀ; B is stored (n, k) instead of (k, n).
    ///   - m: rows of C. n: columns of C. k: the shared dimension.
    ///   - a, lda: A and its row stride. b, ldb: B and its row stride. c, ldc: C (m, n) and its row stride.
    @inlinable
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The number of threads OpenBLAS uses for each call.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }
}
