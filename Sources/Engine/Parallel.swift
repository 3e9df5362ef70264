import Dispatch

/// Runs `body(i)` for i in 0..<n, spread over the cores when there is enough work to pay for it.
/// - Parameters:
///   - n: number of independent iterations.
///   - work: a rough cost of all iterations together, in elements touched; small jobs run inline.
@inlinable
public func parallelFor(_ n: Int, work: Int = .max, _ body: (Int) -> Void) {
    if n <= 1 || work < 1 << 16 || Parallelism.cores <= 1 {
        for i in 0 ..< n { body(i) }
        return
    }
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: n, execute: body)
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
}

#if os(Linux)
import Glibc
#endif
