import Dispatch

/// Runs `body(i)` for i in 0..<n, spread over the cores when there is enough work to pay for it.
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
    withoutActuallyEscaping(body) { body in
        let shared = ConcurrentBody(body)
        DispatchQueue.concurrentPerform(iterations: n) { shared.body($0) }
    }
}

/// Splits 0..<n into at most `cores` contiguous chunks and runs them in parallel.
@inlinable
public func parallelChunks(_ n: Int, work: Int = .max, _ body: (Range<Int>) -> Void) {
    let chunks = Swift.min(n, Parallelism.cores)
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
    /// Active processor count, read once.
    public static let cores: Int = {
        #if os(Linux)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 1
        #endif
    }()
}

#if os(Linux)
import Glibc
#endif
