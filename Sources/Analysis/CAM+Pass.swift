import Engine

/// One forward pass kept for explanations: every explanation of these images reads it, and adds only its own
/// backward passes (one per target, two for guided Grad-CAM). `gradcam --top 3` is one `CAMPass` and three
/// `explain` calls: one forward and three backward passes.
public struct CAMPass {
    public let graph: Graph
    /// The forward pass of the images, keeping every output.
    public let activations: Activations
    /// The layer whose output the targets read.
    public let outputName: String
    /// The model's output, (N, ...): logits (N, K) for a classifier.
    public let output: Tensor
    /// Token layouts: the (H, W) grid that (N, T, C) layer outputs are read as (the last H·W tokens).
    public let reshape: CAMGrid?

    /// Runs the forward pass.
    /// - Parameters:
    ///   - graph: the network.
    ///   - input: preprocessed images, (N, C, H, W).
    ///   - output: the layer the targets read ("logits", which every model names).
    ///   - reshape: the grid of a token layout, for layers whose output is (N, T, C).
    public init(graph: Graph, input: Tensor, output: String = "logits", reshape: CAMGrid? = nil) throws {
        self.graph = graph
        activations = try graph.forward(input)
        outputName = output
        self.output = try activations.output(output)
        self.reshape = reshape
    }

    /// The images, (N, C, H, W).
    public var input: Tensor { activations.input }

    /// Image `i`'s output, flat.
    func row(_ i: Int) -> ArraySlice<Float> {
        let per = output.count / output.shape[0]
        return output.data[i * per ..< (i + 1) * per]
    }

    /// The K best targets of each image, best first: class logits for a classifier's (N, K) output, raw output
    /// elements otherwise. (K, N): one row per rank.
    public func top(_ k: Int) throws -> [[CAMTarget]] {
        let n = output.shape[0], classifier = output.rank == 2
        let best = (0 ..< n).map { i in
            let row = Array(self.row(i))
            return Array(row.indices.sorted { row[$0] > row[$1] || row[$0] == row[$1] && $0 < $1 }.prefix(k))
        }
        return (0 ..< Swift.min(k, best[0].count)).map { r in best.map { classifier ? .logit($0[r]) : .output($0[r]) } }
    }

    /// Explains one target per image with `method`: the method's backward passes, its map per layer, then the
    /// shared ReLU, normalisation, resize and mean over layers.
    /// - Parameters:
    ///   - layers: the target layers, outputs of rank 4 (N, C, h, w), or (N, T, C) with `reshape`.
    ///   - targets: one per image, (N).
    ///   - progress: methods that rerun the network report (done, total) here.
    public func explain(_ method: CAMMethod, layers: [String], targets: [CAMTarget],
                        progress: ((Int, Int) -> Void)? = nil) throws -> CAMResult {
        let n = input.shape[0], size = (input.shape[2], input.shape[3])
        guard !layers.isEmpty else { throw EngineError("CAM: no target layer given") }
        guard targets.count == n else { throw EngineError("CAM: \(targets.count) targets for \(n) images") }
        for t in targets { try t.check(output: Array(output.shape.dropFirst())) }
        let seed = CAMTarget.seed(targets, output: output)               // (N, ...) like the output
        let reached = method.usesLayer ? layers : ["input"]
        let plain = method.gradients.contains(.plain)
            ? try graph.backward(activations, seed: seed, at: outputName, to: reached) : [:]
        let guided = method.gradients.contains(.guided)
            ? try graph.backward(activations, seed: seed, at: outputName, to: ["input"], guidedReLU: true)["input"] : nil
        let scores = (0 ..< n).map { targets[$0].score(row($0)).value }
        let confidences = (0 ..< n).map { targets[$0].confidence(row($0)) }
        func inputs(_ layer: String) throws -> CAMInputs {
            let a = try layout(layer)                                    // (N, C, h, w)
            let g = try plain[layer].map { try layout($0, of: layer) } ?? Tensor(zeros: a.shape)
            return CAMInputs(activations: a, gradients: g, guided: guided, input: input, targets: targets,
                             rerun: method.reruns ? CAMRerun(pass: self, layer: layer) : nil, progress: progress)
        }
        if method.output == .image {
            let img = try method.map(inputs(reached[0]))                 // (N, 3, H, W)
            let (h, w) = size
            var hwc = Tensor(zeros: [n, h, w, 3]), gray = Tensor(zeros: [n, h, w])
            for i in 0 ..< n { for c in 0 ..< 3 { for p in 0 ..< h * w {
                let v = img.data[(i * 3 + c) * h * w + p]
                hwc.data[(i * h * w + p) * 3 + c] = v
                gray.data[i * h * w + p] += v / 3
            } } }
            return CAMResult(maps: gray, images: hwc, featureMaps: [:], targets: targets, scores: scores,
                             confidences: confidences, warnings: [], nonFinite: hwc.isFinite ? [] : [(0, "input")])
        }
        let raws = try (method.usesLayer ? layers : ["input"]).map { (layer: $0, map: try method.map(inputs($0))) }
        let f = CAM.finish(raws, method: method.name, size: size)
        return CAMResult(maps: f.maps, images: nil, featureMaps: f.featureMaps, targets: targets, scores: scores,
                         confidences: confidences, warnings: f.warnings, nonFinite: f.nonFinite)
    }

    /// A layer's output (or a gradient shaped like it) as (N, C, h, w): as it is for rank 4, and for a token layout
    /// (N, T, C) with `reshape` (H, W), the last H·W tokens (after any class tokens) as an (H, W) grid, as
    /// pytorch-grad-cam's ViT reshape_transform does.
    func layout(_ layer: String) throws -> Tensor { try layout(activations.output(layer), of: layer) }

    func layout(_ t: Tensor, of layer: String) throws -> Tensor {
        let shape = t.shape.dropFirst().map(String.init).joined(separator: "x")
        if layer == "input" || t.rank == 4 && reshape == nil { return t }
        guard t.rank == 3, let (h, w) = reshape.map({ ($0.height, $0.width) }) else {
            throw EngineError("layer '\(layer)' has shape \(shape); CAM needs a layer with spatial extent (C, h, w)"
                + (t.rank == 3 ? ", or --reshape HxW to read its (tokens, channels) as a grid" : ""))
        }
        let (n, tokens, c) = (t.shape[0], t.shape[1], t.shape[2])
        guard h * w <= tokens else {
            throw EngineError("--reshape \(h)x\(w) needs \(h * w) tokens; layer '\(layer)' has \(tokens) (shape \(shape))")
        }
        var out = Tensor(zeros: [n, c, h, w])                            // (N, C, H, W)
        for i in 0 ..< n {
            for p in 0 ..< h * w {
                let token = (i * tokens + tokens - h * w + p) * c
                for k in 0 ..< c { out.data[(i * c + k) * h * w + p] = t.data[token + k] }
            }
        }
        return out
    }
}
