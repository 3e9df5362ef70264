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
