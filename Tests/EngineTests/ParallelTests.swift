import Dispatch
import Foundation
import Synchronization
import Testing
@testable import Engine

/// The engine's parallel loops: every index is visited exactly once however the work is cut, and passes on several
/// threads that share a layer agree with a pass on one thread (run under `swift test --sanitize=thread` to check
/// that they share nothing mutable).
@Suite struct ParallelTests {
    @Test(arguments: [1, 2, 7, 64, 1000, 100_003])
    func chunksCoverEveryIndexOnce(_ n: Int) {
        var hits = [Int](repeating: 0, count: n)
        hits.withUnsafeMutableBufferPointer { h in
            let base = h.baseAddress!
            parallelChunks(n, work: .max) { range in for i in range { base[i] += 1 } }
        }
        #expect(hits.allSatisfy { $0 == 1 })
    }

    /// The engine's own pool runs one loop at a time: a loop nested in another, or one started on a second thread
    /// while the pool is busy, goes to libdispatch instead. Round after round (the pool's workers go from job to job
    /// spinning, without sleeping), on two threads at once, every index of every loop is still visited exactly once.
    @Test func nestedAndConcurrentLoopsCoverEveryIndexOnce() {
        let (outer, inner, rounds) = (8, 300, 200)
        let hits = (0 ..< 2).map { _ in UnsafeMutablePointer<Int>.allocate(capacity: outer * inner) }
        defer { hits.forEach { $0.deallocate() } }
        hits.forEach { $0.initialize(repeating: 0, count: outer * inner) }
        onTwoThreads { t in
            let h = hits[t]
            for _ in 0 ..< rounds {
                parallelFor(outer) { o in parallelFor(inner) { j in h[o * inner + j] += 1 } }
            }
        }
        for t in 0 ..< 2 {
            let counts = UnsafeBufferPointer(start: hits[t], count: outer * inner)
            #expect(counts.allSatisfy { $0 == rounds }, "thread \(t): visits per index \(Set(counts))")
        }
    }

    /// On the engine's pool each of the two threads starts at the front of its own half of the iterations and then
    /// takes what is left of the other half from its end (ckernels.h), so within each half the thread that ran an
    /// index changes at most once. Handed out one at a time from a shared counter, as before, the 64 iterations of
    /// 20 µs each alternated between the threads. These two tests need two cores, as the CI machine has.
    @Test func eachThreadRunsItsOwnHalfInOrder() {
        guard Parallelism.cores == 2, Parallelism.usesPool else { return }
        let runner = threadsRunning(64) { _ in spin(microseconds: 20) }
        for half in [runner[..<32], runner[32...]] {
            let changes = zip(half, half.dropFirst()).filter { $0 != $1 }.count
            #expect(changes <= 1, "runs of one thread within a half: \(half.map { $0 == runner[0] ? 0 : 1 })")
        }
    }

    /// A thread held up inside its share hands the rest of it over: the calling thread stays in index 0, the first of
    /// its half, until 40 iterations are done (at most 5 s), which the other thread can reach only by taking the
    /// caller's share from its end once its own is done. Without that stealing the caller ends up running its whole
    /// half. (A fixed 50 ms hold failed when two busy loops took both cores: the worker had not run by then.)
    @Test func aHeldUpThreadHandsItsShareOver() {
        guard Parallelism.cores == 2, Parallelism.usesPool else { return }
        final class Count: Sendable { let done = Atomic<Int>(0) }
        let count = Count()
        let runner = threadsRunning(64) { i in
            if i == 0 {
                let start = DispatchTime.now().uptimeNanoseconds    // from here: the pool may have been waited for
                while count.done.load(ordering: .acquiring) < 40 && DispatchTime.now().uptimeNanoseconds - start < 5_000_000_000 {
                    usleep(1000)
                }
            }
            count.done.add(1, ordering: .releasing)
        }
        let byCaller = runner.filter { $0 == runner[0] }.count
        // In the full suite the worker has twice not joined within the 5 s (other suites keep both cores busy): then
        // nothing here tells stealing from its absence, and the test says so instead of failing.
        if byCaller == 64 {
            print("aHeldUpThreadHandsItsShareOver: the worker did not join within 5 s; stealing not checked")
            return
        }
        #expect(byCaller < 8, "the held-up thread ran \(byCaller) of 64 iterations")
    }

    /// The thread that ran each of `n` iterations of `body` on the engine's pool. Other suites' tests run beside
    /// this one and may hold the pool (their loops then go to libdispatch); this waits for it, up to a minute (in the
    /// full suite on two cores it once waited 20 s).
    func threadsRunning(_ n: Int, _ body: (Int) -> Void) -> [pthread_t] {
        var runner = [pthread_t](repeating: 0, count: n)
        runner.withUnsafeMutableBufferPointer { r in
            let base = r.baseAddress!, start = DispatchTime.now().uptimeNanoseconds
            while DispatchTime.now().uptimeNanoseconds - start < 60_000_000_000 {
                if onPool(n, { i in body(i); base[i] = pthread_self() }) { return }
                usleep(1000)
            }
            Issue.record("the pool stayed busy for a minute")
        }
        return runner
    }

    /// Busy for about `microseconds`, without giving up the core.
    func spin(microseconds: Int) {
        let end = DispatchTime.now().uptimeNanoseconds + UInt64(microseconds) * 1000
        while DispatchTime.now().uptimeNanoseconds < end {}
    }

    /// Two graphs sharing one Winograd convolution (as a fused graph shares the layers it does not fuse) run their
    /// forward and backward passes on two threads at once; each must equal the same passes run alone. Before the
    /// filters were made under a lock, the first passes wrote the layer's filter cache from both threads, which
    /// ThreadSanitizer reports; several rounds, each with a fresh layer, give it several chances to see them.
    @Test func passesOnTwoThreadsShareAWinogradConvolution() {
        var rng = SeededRandom(31)
        for _ in 0 ..< 8 {
            let conv = Conv2d(8, 8, kernel: 3, padding: 1)            // small: no nested parallel loop
            conv.weight = randomTensor(conv.weight.shape, &rng)
            conv.algorithm = .winograd
            func graph() -> Graph {
                let g = Graph()
                g.add("conv", conv)
                g.add("relu", ActivationLayer(.relu))
                return g
            }
            let graphs = [graph(), graph(), graph()]
            let x = randomTensor([2, 8, 12, 12], &rng)                // (N, C, H, W)
            let seed = randomTensor([2, 8, 12, 12], &rng)             // (N, O, H, W)
            func passes(_ g: Graph) -> (y: Tensor, dx: Tensor)? {
                guard let acts = try? g.forward(x), let y = try? acts.output("relu"),
                      let dx = try? g.backward(acts, seed: seed, at: "relu", to: ["input"])["input"] else { return nil }
                return (y, dx)
            }
            let results = UnsafeMutableBufferPointer<(y: Tensor, dx: Tensor)?>.allocate(capacity: 2)
            defer { results.deallocate() }
            results.initialize(repeating: nil)
            onTwoThreads { i in results[i] = passes(graphs[i]) }
            let alone = passes(graphs[2])
            #expect(alone != nil)
            for i in 0 ..< 2 {
                #expect(results[i]?.y == alone?.y)
                #expect(results[i]?.dx == alone?.dx)
            }
        }
    }

    /// Runs body(0) and body(1) on two new threads that start together (they wait for each other at a spin
    /// barrier, so that neither runs before the other has started), and returns when both have finished.
    func onTwoThreads(_ body: @escaping (Int) -> Void) {
        final class Barrier: Sendable { let arrived = Atomic<Int>(0) }
        /// The body shares graphs between the threads on purpose: that sharing is what the test checks.
        struct Body: @unchecked Sendable { let run: (Int) -> Void }
        let barrier = Barrier(), done = DispatchGroup(), shared = Body(run: body)
        for i in 0 ..< 2 {
            done.enter()
            Thread {
                barrier.arrived.add(1, ordering: .sequentiallyConsistent)
                while barrier.arrived.load(ordering: .sequentiallyConsistent) < 2 {}
                shared.run(i)
                done.leave()
            }.start()
        }
        done.wait()
    }
}
