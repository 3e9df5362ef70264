import Testing
@testable import Engine

/// GEMM split over the cores by Dispatch equals OpenBLAS's own call, for every transpose and both split
/// directions (a long m or a long n), against a naive triple loop as the reference, and bit for bit.
@Suite(.serialized) struct BLASTests {
    /// C (m, n) = op(A)·op(B) through `BLAS.gemm` split into `parts`.
    func product(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ a: [Float], _ b: [Float], parts: Int) -> [Float] {
        var out = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in out.withUnsafeMutableBufferPointer { cp in
            BLAS.gemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: ap.baseAddress!, lda: ta ? m : k,
                      b: bp.baseAddress!, ldb: tb ? k : n, beta: 0, c: cp.baseAddress!, ldc: n, parts: parts)
        } } }
        return out
    }

    func naive(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ a: [Float], _ b: [Float]) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0 ..< m { for j in 0 ..< n {
            var s: Float = 0
            for p in 0 ..< k { s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]) }
            c[i * n + j] = s
        } }
        return c
    }

    @Test(arguments: [(false, false, 70, 300, 40), (true, false, 300, 50, 33), (false, true, 64, 257, 31), (true, true, 129, 65, 47)])
    func splitGemmEqualsTheNaiveProduct(_ c: (Bool, Bool, Int, Int, Int)) {
        let (ta, tb, m, n, k) = c
        var rng = SeededRandom(4)
        let a = (0 ..< m * k).map { _ in Float.random(in: -1 ... 1, using: &rng) }
        let b = (0 ..< k * n).map { _ in Float.random(in: -1 ... 1, using: &rng) }
        let ref = naive(ta, tb, m, n, k, a, b)
        // Splits forced through the parts argument: flipping the global BLAS.dispatchThreads here raced with the
        // tests running beside this one (ThreadSanitizer saw it).
        for parts in [1, 2, 3] {
            let out = product(ta, tb, m, n, k, a, b, parts: parts)
            let d = zip(out, ref).map { abs($0 - $1) }.max()!
            print("TENSOR \(d < 1e-4 ? "OK" : "BAD") gemm \(c) in \(parts) parts: maxdiff \(d)")
            #expect(d < 1e-4)
        }
    }

    /// Expected: OpenBLAS's own result for the whole matrix (parts: 1). A panel computes its elements over the whole
    /// of k, as the single call does, so the split must not change a bit (all fixtures rely on it).
    @Test(arguments: [(false, false, 64, 3136, 576), (true, false, 576, 784, 128), (false, true, 300, 97, 64), (false, false, 1000, 49, 512)])
    func splitGemmEqualsOneCallExactly(_ c: (Bool, Bool, Int, Int, Int)) {
        let (ta, tb, m, n, k) = c
        var rng = SeededRandom(9)
        let a = (0 ..< m * k).map { _ in Float.random(in: -1 ... 1, using: &rng) }
        let b = (0 ..< k * n).map { _ in Float.random(in: -1 ... 1, using: &rng) }
        let whole = product(ta, tb, m, n, k, a, b, parts: 1)
        for parts in [2, 3, 8] {
            let split = product(ta, tb, m, n, k, a, b, parts: parts)
            let differing = zip(split, whole).filter { $0.bitPattern != $1.bitPattern }.count
            print("TENSOR \(differing == 0 ? "OK" : "BAD") gemm \(c) in \(parts) panels: \(differing) elements differ")
            #expect(differing == 0)
        }
    }
}
