import Foundation
import Testing
import Analysis
import ConvLens
import TestSupport

/// What an explanation costs, counted by the graph's own pass counters (a fused inference graph counts into its
/// model's graph): one forward pass for all targets, and one backward pass per target (two for guided Grad-CAM,
/// whose guided ReLUs make a second backward pass). Before issue #16 `gradcam --top 3` ran 4 forward passes and
/// saliency 3.
@Suite(.serialized) struct GradCAMPassTests {
    static let ready = Fixture.installedSqueezeNet != nil

    /// Runs `gradcam` on chelsea.png without the faithfulness figures (they rerun the network by definition).
    /// - Returns: (forward, backward) passes the run added.
    func passes(_ method: String, top: Int = 1) throws -> (forward: Int, backward: Int) {
        let lm = try ModelStore.load(name: "squeezenet1_1", weights: Fixture.installedSqueezeNet!)
        let images = try ImageBatch.prepare([Fixture.root + "/Samples/chelsea.png"], lm.preprocessing).images
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convlens-passes-\(getpid())-\(UInt32.random(in: 0 ... .max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = GradCAMOptions()
        o.method = try CAMMethod.named(method)
        o.top = top
        o.metrics = false
        o.view = .input
        o.out = dir + "/map.png"
        let counts = lm.model.graph.passes
        let (f0, b0) = (counts.forward, counts.backward)
        let r = try GradCAMJob.run(lm, images: images, options: o)
        #expect(r.entries.count == top)
        return (counts.forward - f0, counts.backward - b0)
    }

    @Test(.enabled(if: ready, "needs the installed SqueezeNet (run the setup)"))
    func topThreeIsOneForwardAndThreeBackwardPasses() throws {
        let p = try passes("gradcam", top: 3)
        #expect(p.forward == 1 && p.backward == 3, "gradcam --top 3 ran \(p.forward) forward and \(p.backward) backward passes")
    }

    @Test(.enabled(if: ready, "needs the installed SqueezeNet (run the setup)"),
          arguments: [("saliency", 1), ("guided-backprop", 1), ("guided-gradcam", 2), ("eigencam", 0)])
    func oneForwardPassAndTheMethodsOwnBackwardPasses(_ method: String, _ backward: Int) throws {
        let p = try passes(method)
        #expect(p.forward == 1 && p.backward == backward, "\(method) ran \(p.forward) forward and \(p.backward) backward passes")
    }
}
