import CKernels
import Dispatch

/// Runs `body(i)` for i in 0..<n, spread over the cores when there is enough work to pay for it.
///
/// The distribution is dynamic: on the engine's pool (`ck_parallel`) each core starts on its own contiguous share of
/// the iterations (the first core the first share) and, when done, takes what is left of the others' from their
/// ends; libdispatch's `concurrentPerform`, used when the pool is busy with another loop, hands them out one at a
/// time. Either way a core that another process slows down takes fewer of them.
/// - Parameters:
///   - n: number of independent iterations.
///   - work: a rough cost of all iterations together, in elements touched; small jobs run inline.
///   - body: called from several threads at once. Iterations must be independent: none may write memory that
///     another one reads or writes. Every caller in the engine writes a disjoint part of its output per iteration.
@inlinable
public func parallelFor(_ n: Int, work: Int = .max, _ body: (Int) -> Void) {
    if n <= 1 || work < 1 << 16 || Parallelism.cores <= 1 {
        for i in 0 ..< n { body(i) }
        return
    }
    if Parallelism.usesPool && onPool(n, body) { return }  // else the pool is in use: libdispatch runs this one
    withoutActuallyEscaping(body) { body in
        let dispatched = ConcurrentBody(body)
        DispatchQueue.concurrentPerform(iterations: n) { dispatched.body($0) }
    }
}

/// Runs `body(i)` for i in 0..<n on the engine's pool (`ck_parallel`) and returns true, or runs nothing and returns
/// false when the pool is busy with another loop. The contract of `parallelFor`.
@usableFromInline
func onPool(_ n: Int, _ body: (Int) -> Void) -> Bool {
    withoutActuallyEscaping(body) { body in
        var shared = ConcurrentBody(body)
        return withUnsafeMutablePointer(to: &shared) { box in
            ck_parallel(n, { context, i in context!.assumingMemoryBound(to: ConcurrentBody.self).pointee.body(i) },
                        box, Int32(Parallelism.cores - 1))
        } != 0
    }
}

/// Splits 0..<n into contiguous chunks, a few per core, and runs them in parallel: each core works through its own
/// run of chunks and then takes the others' leftovers (see `parallelFor`), so a core slowed down by a neighbour does
/// less of the work instead of holding up the pass. Each index falls into exactly one chunk, so the results do not
/// depend on the split.
/// - Parameters:
///   - n: number of indices.
///   - work: a rough cost of all of them together, in elements touched; small jobs run inline, and a job is cut
///     into more chunks than cores only when each gets at least about 2¹⁵ of it.
///   - body: called with disjoint ranges, from several threads at once (the contract of `parallelFor`).
@inlinable
public func parallelChunks(_ n: Int, work: Int = .max, _ body: (Range<Int>) -> Void) {
    let cores = Parallelism.cores
    // A multiple of the core count, so that equal chunks end together.
    let chunks = Swift.min(n, cores * Swift.max(1, Swift.min(Parallelism.chunksPerCore, work / (cores << 15))))
    if chunks <= 1 || work < 1 << 16 {
        if n > 0 { body(0 ..< n) }
        return
    }
    parallelFor(chunks) { c in
        body(c * n / chunks ..< (c + 1) * n / chunks)
    }
}

/// A closure that several threads call at once, for `parallelFor`. `@unchecked Sendable` is sound here because
/// (1) `parallelFor`'s contract makes the calls independent (each iteration writes memory no other one touches) and
/// (2) the box lives only inside `withoutActuallyEscaping`, which ends after `concurrentPerform` has returned, so no
/// call outlives the caller's borrow of what the closure captures.
@usableFromInline
struct ConcurrentBody: @unchecked Sendable {
    @usableFromInline let body: (Int) -> Void
    @inlinable init(_ body: @escaping (Int) -> Void) { self.body = body }
}

/// How many cores the engine spreads work over.
public enum Parallelism {
    /// Active processor count within the thread limits (`allowed`), read once.
    public static let cores: Int = {
        #if os(Linux)
        return allowedHere(online: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return 1
        #endif
    }()

    /// Whether parallel loops run on the engine's own pool of spinning workers (CKernels' `ck_parallel`) instead of
    /// libdispatch, which on this machine brought a second core into a loop only after tens of microseconds: a
    /// 330 µs loop took 260 µs on two cores, an 80 µs one no less than on one. CONVLENS_POOL=dispatch gives
    /// libdispatch back, to measure the difference.
    public static let usesPool: Bool = getenv("CONVLENS_POOL").map { String(cString: $0) } != "dispatch"

    /// Chunks per core in `parallelChunks` and panels per core in a split GEMM: enough that a core slowed down by
    /// another process hands most of its share to the others, few enough that claiming them costs nothing.
    /// CONVLENS_CHUNKS_PER_CORE=1 gives back one chunk per core, to measure the difference.
    public static let chunksPerCore: Int = getenv("CONVLENS_CHUNKS_PER_CORE").flatMap { Int(String(cString: $0)) } ?? 4
}

#if os(Linux)
import Glibc
#endif
