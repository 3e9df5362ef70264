import Foundation
import Testing
@testable import Analysis
import Engine
import Models
import TestSupport

/// Timings and the recipe ablation behind the README's filter-pattern numbers; a benchmark, not a test, so it runs
/// only when asked (it takes a few minutes):
///     CONVLENS_PATTERNS_BENCHMARK=1 swift test -c release -Xswiftc -enable-testing --scratch-path .build-test \
///         --filter PatternBenchmark
/// The recipe ablation is Tests/ConvLensTests/PatternAblationTests.swift.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["CONVLENS_PATTERNS_BENCHMARK"] == "1"), .serialized)
struct PatternBenchmarkTests {
    static let caffe = InputSpace(name: "caffe", bgr: true, scale: 1, mean: [104.006, 116.669, 122.679], std: [1, 1, 1])
    static let torchvision = InputSpace(name: "torchvision", bgr: false, scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }

    static func squeezeNet() throws -> Model {
        try Model.load("squeezenet1_1", weights: try Fixture.stateDict(Fixture.installedSqueezeNet!), source: "installed")
    }

    @Test(.enabled(if: Fixture.installedSqueezeNet != nil)) func squeezeNetFire4Keras64() throws {
        let model = try Self.squeezeNet()
        var r: FilterPatterns.Result?
        let t = try Self.seconds {
            r = try FilterPatterns.run(model.graph, layer: "fire4", filters: Array(0 ..< 64), recipe: .keras(Self.caffe), size: 150, seed: 0)
        }
        print(String(format: "BENCH squeezenet fire4, 64 patterns, keras, 150 px: %.1f s (%.3f s per filter)", t, t / 64))
        _ = r
    }

    @Test func vgg16Block3Conv1PerFilter() throws {
        let model = Model.random(try Zoo.layouts("vgg16")[0], seed: 0)
        for batch in [1, 4] {
            let t = try Self.seconds {
                _ = try FilterPatterns.run(model.graph, layer: "features.10", filters: Array(0 ..< 4), recipe: .keras(Self.torchvision),
                                           size: 150, seed: 0, batch: batch)
            }
            print(String(format: "BENCH vgg16 features.10 (block3_conv1), keras, 150 px, 40 steps, batch %d: %.2f s per filter", batch, t / 4))
        }
    }

    /// Where a forward and backward pass to fire4 spends its time, by layer kind (batch 16, 150 px).
    @Test(.enabled(if: Fixture.installedSqueezeNet != nil)) func squeezeNetFire4LayerTimes() throws {
        let g = try Self.squeezeNet().graph
        var rng = (0 ..< 16).map { PatternRandom(seed: 0, filter: $0) }
        let x = PatternRecipe.keras(Self.caffe).start(150, 150, &rng)
        let last = try g.index(of: "fire4")
        var outs: [Tensor] = [], fwd: [String: Double] = [:], bwd: [String: Double] = [:]
        for _ in 0 ..< 3 {
            outs = []
            for i in 0 ... last {
                let node = g.nodes[i]
                let ins = node.inputs.map { $0 < 0 ? x : outs[$0] }
                var y = Tensor(zeros: [0])
                fwd[node.layer.kind, default: 0] += Self.seconds { node.layer.forward(ins, &y) }
                outs.append(y)
            }
            for i in (0 ... last).reversed() {
                let node = g.nodes[i]
                let ins = node.inputs.map { $0 < 0 ? x : outs[$0] }
                let dy = outs[i]
                bwd[node.layer.kind, default: 0] += Self.seconds { _ = node.layer.backward(ins, outs[i], dy, needed: ins.map { _ in true }) }
            }
        }
        for kind in fwd.keys.sorted() {
            print(String(format: "BENCH fire4 pass, batch 16, 150 px, %-10@ forward %.3f s, backward %.3f s", kind as NSString, fwd[kind]! / 3, bwd[kind]! / 3))
        }
    }

    /// The cost of each step of the clear recipe around the network, forward and backward, for 16 patterns of 150 px.
    @Test func clearRecipeOpTimes() {
        let p = PatternGradientTests.random([16, 3, 150, 150], seed: 1)
        let ops: [ImageOp] = [.fourier(height: 150, width: 150), .decorrelateColours, .sigmoid, .pad(12), .jitter(8),
                              .scale([0.9, 1.1]), .rotate([-10, 10]), .jitter(4), .toModel(Self.caffe)]
        var rng = (0 ..< 16).map { PatternRandom(seed: 0, filter: $0) }
        var x = p
        for op in ops {
            var y = x, back: ((Tensor) -> Tensor)?
            let f = (0 ..< 5).map { _ in Self.seconds { (y, back) = op(x, &rng) } }.min()!
            let b = (0 ..< 5).map { _ in Self.seconds { _ = back!(y) } }.min()!
            print(String(format: "BENCH op %-22@ forward %6.2f ms, backward %6.2f ms (16 x 150 px, best of 5)", op.name as NSString, f * 1000, b * 1000))
            x = y
        }
        let update = Optimiser.adam().start()
        var q = p
        let t = (0 ..< 5).map { _ in Self.seconds { update(&q, p) } }.min()!
        print(String(format: "BENCH op %-22@ %6.2f ms", "adam" as NSString, t * 1000))
    }
}
