import Dispatch
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

    /// Two graphs sharing one Winograd convolution (as a fused graph shares the layers it does not fuse) run their
    /// forward and backward passes on two threads at once; each must equal the same passes run alone. Before the
    /// filters were made under a lock, the first passes wrote the layer's filter cache from both threads.
    @Test func passesOnTwoThreadsShareAWinogradConvolution() {
        var rng = SeededRandom(31)
        let conv = Conv2d(32, 32, kernel: 3, padding: 1)
        conv.weight = randomTensor(conv.weight.shape, &rng)
        conv.algorithm = .winograd
        func graph() -> Graph {
            let g = Graph()
            g.add("conv", conv)
            g.add("relu", ActivationLayer(.relu))
            return g
        }
        let graphs = [graph(), graph(), graph()]
        let x = randomTensor([2, 32, 12, 12], &rng)                   // (N, C, H, W)
        let seed = randomTensor([2, 32, 12, 12], &rng)                // (N, O, H, W)
        func passes(_ g: Graph) throws -> (y: Tensor, dx: Tensor) {
            let acts = try g.forward(x)
            return (try acts.output("relu"), try g.backward(acts, seed: seed, at: "relu", to: ["input"])["input"]!)
        }
        let results = UnsafeMutableBufferPointer<(y: Tensor, dx: Tensor)?>.allocate(capacity: 2)
        defer { results.deallocate() }
        results.initialize(repeating: nil)
        DispatchQueue.concurrentPerform(iterations: 2) { i in results[i] = try? passes(graphs[i]) }
        let alone = try? passes(graphs[2])
        #expect(alone != nil)
        for i in 0 ..< 2 {
            #expect(results[i]?.y == alone?.y)
            #expect(results[i]?.dx == alone?.dx)
        }
    }
}
