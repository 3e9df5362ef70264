import Analysis
import Engine
import Foundation
import Imaging
import Models
import Render

/// `convlens bench`: how fast the engine runs the workloads users repeat, next to the GEMM limit of this machine.
public enum Benchmark {
    public struct Machine: Codable {
        public let cores: Int
        /// Single-precision GEMM throughput measured in this run (OpenBLAS, all cores).
        public let sgemm_gflops: Double
    }

    public struct ModelResult: Codable {
        public let model: String
        public let weights: String
        public let input: Int
        /// Forward pass, batch 1: median and minimum in milliseconds.
        public let forward_ms: Double
        public let forward_min_ms: Double
        /// Forward pass of a batch of 8, per image.
        public let forward_b8_ms_per_image: Double
        /// Grad-CAM from the input tensor to the map at the default layer.
        public let gradcam_ms: Double
        public let gradcam_min_ms: Double
        /// Forward and backward from the top logit to the input.
        public let backward_to_input_ms: Double
        /// One Keras-recipe filter-pattern step (forward to the layer, backward to the input, normalised ascent) at
        /// 150 px, per filter, with 16 filters batched.
        public let pattern_step_ms: Double
        public let pattern_layer: String
        /// Forward GFLOP per image and the rate achieved at batch 1.
        public let gflop: Double
        public let gflops: Double
        /// Peak resident memory of the process so far.
        public let peak_rss_mb: Double
    }

    public struct Report: Codable {
        public let machine: Machine
        public let models: [ModelResult]
        public let render: [String: Double]?
        /// Milliseconds to resize a 4000x3000 photo to a shorter side of 256 (Pillow-exact bilinear).
        public let resize_4000x3000_ms: Double?
    }

    /// The layer whose patterns the bench times: SqueezeNet's fire4, VGG's block3_conv1 (features.10), ResNet's layer2,
    /// EfficientNet-Lite's third stage (_blocks.5), the MobileNets' and torchvision EfficientNets' features.6.
    static func patternLayer(_ name: String) -> String {
        name.hasPrefix("squeezenet") ? "fire4" : name.hasPrefix("vgg") ? "features.10" : name.hasPrefix("resnet") ? "layer2"
            : name.hasPrefix("efficientnet_lite") ? "_blocks.5" : "features.6"
    }

    /// Median and minimum of `runs` timed calls, in milliseconds, after warming up for at least two calls and a
    /// quarter of a second: a single warm-up call left the first model's median up to 40% high in the seconds after
    /// a build.
    static func time(runs: Int, _ body: () throws -> Void) rethrows -> (median: Double, min: Double) {
        let warm = DispatchTime.now().uptimeNanoseconds
        var calls = 0
        repeat { try body(); calls += 1 } while calls < 2 || calls < 20 && DispatchTime.now().uptimeNanoseconds - warm < 250_000_000
        var t: [Double] = []
        for _ in 0 ..< runs {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            t.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        t.sort()
        return (t[t.count / 2], t[0])
    }

    /// GFLOP/s of a square sgemm of side 1536 (best of several).
    public static func sgemmPeak() -> Double {
        let n = 1536
        let a = [Float](repeating: 0.5, count: n * n), b = a
        var c = [Float](repeating: 0, count: n * n)
        let t = time(runs: 4) {
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                BLAS.gemm(m: n, n: n, k: n, a: ap.baseAddress!, lda: n, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
            } } }
        }
        return 2 * Double(n * n * n) / (t.min / 1e3) / 1e9
    }

    /// Peak resident set size in MB (getrusage).
    public static var peakRSS: Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_maxrss) / 1024
    }

    /// Runs every workload on one model.
    /// - Parameters:
    ///   - name: a zoo name; the installed weights when present, else seeded random weights.
    ///   - runs: timed repetitions per workload.
    public static func run(_ name: String, runs: Int = 5, progress: (String) -> Void = { _ in }) throws -> ModelResult {
        let model = try benchModel(name), arch = model.architecture
        let g = model.inference(), (h, w) = (model.inputShape[2], model.inputShape[3])
        let camGraph = model.inference(keeping: [arch.camLayer])
        let layer = arch.layout == "onnx" ? arch.camLayer : patternLayer(name)
        let patternGraph = model.inference(keeping: [layer])
        var rng = SplitMix64(1)
        func input(_ n: Int, _ side: Int, _ width: Int? = nil) -> Tensor {
            let wd = width ?? side
            return Tensor(shape: [n, 3, side, wd], data: (0 ..< n * 3 * side * wd).map { _ in Float.random(in: -1 ... 1, using: &rng) })
        }
        let x1 = input(1, h, w), x8 = input(8, h, w)
        progress("\(name): forward")
        let fwd = try time(runs: runs) { _ = try g.forward(x1) }
        let fwd8 = try time(runs: max(2, runs / 2)) { _ = try g.forward(x8) }
        progress("\(name): grad-cam")
        let cam = try time(runs: runs) { _ = try CAM.compute(.gradcam, graph: camGraph, input: x1, layers: [arch.camLayer]) }
        progress("\(name): backward to the input")
        let back = try time(runs: runs) {
            let acts = try g.forward(x1)
            let logits = try acts.output("logits")
            var seed = Tensor(zeros: logits.shape)
            seed.data[logits.data.indices.max { logits.data[$0] < logits.data[$1] }!] = 1
            _ = try g.backward(acts, seed: seed, at: "logits", to: ["input"])
        }
        progress("\(name): pattern step")
        let filters = 16
        var xp = input(filters, 150)
        let step = try time(runs: max(2, runs / 2)) {
            let acts = try patternGraph.forward(xp, until: layer)
            let a = try acts.output(layer)                                      // (16, C, h, w)
            let (c, hw) = (a.shape[1], a.shape[2] * a.shape[3])
            var seed = Tensor(zeros: a.shape)
            for f in 0 ..< filters { for p in 0 ..< hw { seed.data[(f * c + f % c) * hw + p] = 1 / Float(hw) } }
            let grad = try patternGraph.backward(acts, seed: seed, at: layer, to: ["input"])["input"]!
            let per = grad.count / filters
            for f in 0 ..< filters {
                var ss: Float = 0
                for j in f * per ..< (f + 1) * per { ss += grad.data[j] * grad.data[j] }
                let scale = 1 / ((ss / Float(per)).squareRoot() + 1e-5)
                for j in f * per ..< (f + 1) * per { xp.data[j] += grad.data[j] * scale }
            }
        }
        let shapes = try g.shapes(input: x1.shape)
        let macs = g.nodes.enumerated().reduce(0) { sum, item in
            let ins = item.element.inputs.map { $0 == Graph.inputIndex ? x1.shape : shapes[$0] }
            return sum + item.element.layer.macs(ins, shapes[item.offset])
        }
        let gflop = 2 * Double(macs) / 1e9
        return ModelResult(model: name, weights: model.source, input: h, forward_ms: round2(fwd.median), forward_min_ms: round2(fwd.min),
                           forward_b8_ms_per_image: round2(fwd8.median / 8), gradcam_ms: round2(cam.median), gradcam_min_ms: round2(cam.min),
                           backward_to_input_ms: round2(back.median), pattern_step_ms: round2(step.median / Double(filters)),
                           pattern_layer: layer, gflop: round2(gflop), gflops: round2(gflop / (fwd.median / 1e3)), peak_rss_mb: round2(peakRSS))
    }

    /// The model a bench runs: an ONNX file as it is; a zoo name with its installed weights when present, else
    /// seeded random weights.
    static func benchModel(_ name: String) throws -> Model {
        if ModelStore.isModelFile(name) { return try ModelStore.load(name: name).model }
        let arch = try Zoo.layouts(name)[0]
        if let path = ModelStore.installedWeights(name), (try? ModelStore.load(name: name, weights: path).model.architecture.layout) == arch.layout {
            return try ModelStore.load(name: name, weights: path).model
        }
        return Model.random(arch, seed: 0)
    }

    /// The whole benchmark.
    public static func run(models: [String], runs: Int = 5, renderFigures: Bool = true, progress: (String) -> Void = { _ in }) throws -> Report {
        progress("sgemm peak")
        let machine = Machine(cores: Parallelism.cores, sgemm_gflops: round2(sgemmPeak()))
        let results = try models.map { try run($0, runs: runs, progress: progress) }
        var render: [String: Double]?, resize: Double?
        if renderFigures {
            progress("rendering")
            render = Dictionary(RenderBenchmark.run().map { ($0.name, round2($0.seconds * 1e3)) }, uniquingKeysWith: { a, _ in a })
            progress("resizing")
            var pixels = [UInt8](repeating: 0, count: 4000 * 3000 * 3)          // (H, W, 3), a smooth ramp
            for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: (i / 3) % 4000 / 16 + i % 7) }
            let photo = RGBImage(width: 4000, height: 3000, pixels: pixels)
            resize = round2(time(runs: 3) { _ = photo.resizedShorterSide(to: 256) }.median)
        }
        return Report(machine: machine, models: results, render: render, resize_4000x3000_ms: resize)
    }

    /// Each layer's median time per pass (seconds) over `runs` calls of `pass`, which runs `g` once: on a shared
    /// machine a busy neighbour's slice lands in a few passes, and the median leaves those out where a sum would not.
    static func medians(_ g: Graph, runs: Int, _ pass: () throws -> Void) rethrows -> [String: Double] {
        var seen: [String: [Double]] = [:]
        for _ in 0 ..< runs {
            g.profile = [:]
            try pass()
            for (k, v) in g.profile! { seen[k, default: []].append(v) }
        }
        g.profile = nil
        return seen.mapValues { v in v.sorted()[v.count / 2] }
    }

    /// Median time per layer of `runs` forward passes at batch `batch`, summed by layer kind and listed by layer,
    /// the `top` slowest first.
    public static func profile(_ name: String, batch: Int = 1, runs: Int = 5, size: Int? = nil, until: String? = nil, top count: Int = 12) throws -> String {
        let model = ModelStore.isModelFile(name) ? try ModelStore.load(name: name).model : Model.random(try Zoo.layouts(name)[0], seed: 0)
        let x = Tensor(shape: [batch, 3, size ?? model.inputShape[2], size ?? model.inputShape[3]], repeating: 0.5)
        let plain = model.graph
        _ = try plain.forward(x, until: until)
        let unfused = try medians(plain, runs: runs) { _ = try plain.forward(x, until: until) }.values.reduce(0, +)
        let top = until ?? "logits"
        let g = model.inference(keeping: until.map { [$0] } ?? [])
        _ = try g.forward(x, until: until)
        var p = try medians(g, runs: runs) { _ = try g.forward(x, until: until) }
        // The backward from one channel of the top layer (or the first logit) to the input, timed per layer too.
        let back = try medians(g, runs: runs) {
            let acts = try g.forward(x, until: until)
            let y = try acts.output(top)
            var seed = Tensor(zeros: y.shape)
            let per = y.count / batch
            for i in 0 ..< batch { seed.data[i * per] = 1 }
            _ = try g.backward(acts, seed: seed, at: top, to: ["input"])
        }.filter { $0.key.hasSuffix(" (backward)") }
        let backTotal = back.values.reduce(0, +)
        var byKind: [String: Double] = [:]
        var backByKind: [String: Double] = [:]
        for node in g.nodes {
            byKind[node.layer.kind, default: 0] += p[node.name] ?? 0
            backByKind[node.layer.kind, default: 0] += back[node.name + " (backward)"] ?? 0
        }
        let total = p.values.reduce(0, +)
        var s = "\(name) batch \(batch) at \(x.shape[2])x\(x.shape[3])px\(until.map { " until \($0)" } ?? ""): " + String(format: "%.2f ms per forward (%.2f ms without BN folding and ReLU fusion), the sum of each layer's median over %d passes\n",
                                                       total * 1e3, unfused * 1e3, runs)
        for (k, v) in byKind.sorted(by: { $0.value > $1.value }) { s += "  " + pad(k, 18) + String(format: "%8.2f ms  %5.1f%%\n", v * 1e3, 100 * v / total) }
        s += String(format: "backward from %@ to the input: %.2f ms\n", top, backTotal * 1e3)
        for (k, v) in backByKind.sorted(by: { $0.value > $1.value }) where v > 0 {
            s += "  " + pad(k, 18) + String(format: "%8.2f ms  %5.1f%%\n", v * 1e3, 100 * v / backTotal)
        }
        p.merge(back) { a, _ in a }
        s += "slowest layers:\n"
        for (k, v) in p.sorted(by: { $0.value > $1.value }).prefix(count) {
            let node = try g.node(k.replacingOccurrences(of: " (backward)", with: ""))
            s += "  " + pad(k, 22) + pad(node.layer.kind, 12) + String(format: "%8.3f ms  ", v * 1e3) + node.layer.summary + "\n"
        }
        return s
    }

    /// im2col + sgemm against Winograd F(4x4, 3x3) on the 3x3 stride-1 shapes of ResNet-18, VGG16 and SqueezeNet:
    /// (C, O, H = W, batch) → best-of-runs milliseconds of each, interleaved so that load affects both alike.
    public static func convAlgorithms(runs: Int = 7, only: (Int, Int, Int, Int)? = nil) -> String {
        let all = [(64, 64, 56, 1), (128, 128, 28, 1), (256, 256, 14, 1), (512, 512, 7, 1), (64, 64, 224, 1), (128, 128, 112, 1),
                      (256, 256, 56, 1), (512, 512, 28, 1), (512, 512, 14, 1), (16, 64, 56, 1), (64, 256, 14, 1), (512, 512, 7, 8),
                      (256, 256, 14, 8)]
        let shapes = only.map { [$0] } ?? all
        var s = "shape (C→O, HxW, batch)      tiles   im2col ms   winograd ms   speed-up   (best of \(runs))\n"
        var rng = SplitMix64(7)
        for (c, o, h, n) in shapes {
            let conv = Conv2d(c, o, kernel: 3, padding: 1)
            conv.weight = Tensor(shape: conv.weight.shape, data: (0 ..< conv.weight.count).map { _ in Float.random(in: -0.1 ... 0.1, using: &rng) })
            let x = Tensor(shape: [n, c, h, h], data: (0 ..< n * c * h * h).map { _ in Float.random(in: -1 ... 1, using: &rng) })
            var y = Tensor(zeros: [0])
            var t: [Conv2d.Algorithm: [Double]] = [.im2col: [], .winograd: []]
            for r in 0 ... runs {
                for alg in [Conv2d.Algorithm.im2col, .winograd] {
                    conv.algorithm = alg
                    let start = DispatchTime.now().uptimeNanoseconds
                    conv.forward([x], &y)
                    if r > 0 { t[alg]!.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
                }
            }
            let a = t[.im2col]!.min()!, b = t[.winograd]!.min()!                 // best of the runs: least disturbed
            let tiles = n * ((h + 3) / 4) * ((h + 3) / 4)
            s += String(format: "%4d→%-4d %4dx%-4d batch %d   %5d   %9.2f   %11.2f   %7.2fx\n", c, o, h, h, n, tiles, a, b, a / b)
        }
        return s
    }

    static func round2(_ x: Double) -> Double { (x * 100).rounded() / 100 }

    /// A table for people.
    public static func text(_ r: Report) -> String {
        var s = String(format: "machine: %d cores, sgemm %.0f GFLOP/s (measured now)\n", r.machine.cores, r.machine.sgemm_gflops)
        s += "model           forward b1    b8/img   gradcam  back→input  pattern step   GFLOP/s (of peak)   peak RSS\n"
        for m in r.models {
            let name = m.model.count < 14 ? m.model + String(repeating: " ", count: 14 - m.model.count) : m.model
            s += name + String(format: " %7.1f ms %7.1f ms %7.1f ms %8.1f ms %8.2f ms/filter %7.1f (%3.0f%%) %8.0f MB\n",
                        m.forward_ms, m.forward_b8_ms_per_image, m.gradcam_ms, m.backward_to_input_ms, m.pattern_step_ms,
                        m.gflops, 100 * m.gflops / r.machine.sgemm_gflops, m.peak_rss_mb)
        }
        if let resize = r.resize_4000x3000_ms { s += String(format: "resize 4000x3000 → 341x256: %.0f ms\n", resize) }
        if let render = r.render {
            s += "render: " + render.sorted { $0.key < $1.key }.map { String(format: "%@ %.0f ms", $0.key, $0.value) }.joined(separator: ", ") + "\n"
        }
        return s
    }
}

#if canImport(Glibc)
import Glibc
#endif
