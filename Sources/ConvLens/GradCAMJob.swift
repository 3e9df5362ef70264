import Analysis
import Engine
import Foundation
import Imaging
import Render
import Support
import TensorIO

/// What to compute and draw for `convlens gradcam`.
public struct GradCAMOptions {
    /// What the maps are drawn over.
    public enum View: String, CaseIterable, Sendable {
        /// The whole photo at its own resolution, the map over the region the model saw, the rest dimmed.
        case photo
        /// The model's input (the crop or the squashed image).
        case input
    }
    public var method = CAMMethod.gradcam
    /// Target layers; the architecture's default when empty. Several are averaged as pytorch-grad-cam does.
    public var layers: [String] = []
    /// What to explain: one target for all images, or one per image; the top class when empty.
    public var targets: [CAMTargetSpec] = []
    /// Explain the K best classes of each image, side by side (ignored when `targets` are given).
    public var top = 1
    /// Token layouts: read a layer's (T, C) output as an (H, W) grid of its last H·W tokens.
    public var reshape: CAMGrid?
    public var alpha: Float = 0.4
    public var colormap = Colormap.jet
    /// Draw input | heatmap | overlay with a caption instead of the bare overlay; with several classes, the input
    /// once and then one overlay per class.
    public var panel = false
    /// The photo (default; needs images prepared with `keepPhotos`) or the model's input.
    public var view = View.photo
    /// A title over the figure.
    public var title: String?
    /// The figure (.png, .svg or .pdf); Reports/<image>_<method>.png when nil.
    public var out: String?
    /// The maps at the model's input as float32 .npy: (H, W) for one map, (N·K, H, W) for several, with a trailing 3
    /// for image methods.
    public var raw: String?
    /// PNG pixels per point; nil gives 1 for a bare overlay (one pixel per photo pixel) and 2 for captioned figures.
    public var scale: Double?
    /// Measure the faithfulness of each map (about 45 extra forward passes per map).
    public var metrics = true
    public init() {}
}

/// One explained (image, class) pair; the class fields are absent for a model without a classifier (Eigen-CAM).
public struct CAMEntry: Codable {
    public let image: String
    public let method: String
    public let layers: [String]
    /// What the map explains, e.g. "class 281", "σ(3)", "output[3]".
    public let target: String?
    public let classIndex: Int?
    public let label: String?
    public let probability: Float?
    public let score: Float?
    public let faithfulness: Faithfulness?
    public let warnings: [String]
    enum CodingKeys: String, CodingKey {
        case image, method, layers, target, classIndex = "class", label, probability, score, faithfulness, warnings
    }
}

/// What one `convlens gradcam` run produced.
public struct GradCAMOutcome {
    public let entries: [CAMEntry]
    public let out: String
    public let raw: String?
}

/// `convlens gradcam`: class activation maps of a batch of images, drawn over each photo (or the model's view).
public enum GradCAMJob {
    /// Checks everything, computes every map, checks that every result is finite, and only then writes.
    /// - Parameters:
    ///   - lm: the model.
    ///   - images: prepared with the model's recipe (and `keepPhotos` for the photo view).
    ///   - options: what to compute and draw.
    ///   - progress: for methods that run many extra passes (Score-CAM, Ablation-CAM): the fraction done and a label.
    public static func run(_ lm: LoadedModel, images: [PreparedImage], options o: GradCAMOptions,
                           progress: ((Double, String) -> Void)? = nil) throws -> GradCAMOutcome {
        let out = try Outputs.figurePath(o.out, or: Environment.defaultOutput(for: images[0].path, suffix: o.method.name),
                                         with: [("--raw", o.raw)])             // before the work, not after
        let r = try compute(lm, images: images, options: o, progress: progress)
        try Outputs.writeFigure(r.figure, to: out, scale: r.scale)
        if let raw = o.raw { try NPY.write(r.maps, to: raw) }
        return GradCAMOutcome(entries: r.entries, out: out, raw: o.raw)
    }

    /// Checks everything, computes every map and lays out the figure, writing nothing.
    /// - Parameters:
    ///   - pass: the forward pass of `images` through a graph that keeps the target layers, when the caller has
    ///     run it for its own use (the report classifies from it); run here when nil.
    /// - Returns: the entries; the figure and the PNG scale to write it at; the maps at the model's input, (H, W)
    ///   for one map, (N·K, H, W) for several, with a trailing 3 for image methods.
    public static func compute(_ lm: LoadedModel, images: [PreparedImage], options o: GradCAMOptions, pass shared: CAMPass? = nil,
                               progress: ((Double, String) -> Void)? = nil) throws
        -> (entries: [CAMEntry], figure: any Figure, scale: Double, maps: TensorData) {
        let method = o.method
        if method.needsClass && o.targets.isEmpty { try lm.requireClassifier("gradcam --method \(method.name)") }
        if !lm.hasClassifier && o.top != 1 { try lm.requireClassifier("--top") }
        let layers = o.layers.isEmpty ? [lm.model.architecture.camLayer] : o.layers
        let output = try checkLayers(layers, lm, input: images[0].crop, reshape: o.reshape)
        let given = try o.targets.map { try $0.resolve() }                   // a mask file is read here
        try usage { for t in given { try t.check(output: output) } }
        guard o.targets.count <= 1 || o.targets.count == images.count else {
            throw UsageError("\(o.targets.count) targets given for \(images.count) image\(images.count == 1 ? "" : "s"); give one target, or one per image")
        }
        try check(o)
        try OptionLimits.top.check(o.top, upper: lm.model.classes)
        try MemoryBudget.check(try estimate(lm, images: images, method: method, layers: layers, options: o),
                               "gradcam --method \(method.name) of \(images.count) image\(images.count == 1 ? "" : "s")",
                               hint: "try fewer images at a time" + (o.view == .photo ? " or --view input" : ""))

        let x = ImageBatch.tensor(images)                                     // (N, 3, S, S)
        let n = images.count, paths = images.map(\.path)
        // One forward pass; each rank of targets adds only its backward passes.
        let pass = try shared ?? CAMPass(graph: lm.model.inference(keeping: Set(layers)), input: x, reshape: o.reshape)
        try Finite.check(pass.output.data, "logits", lm: lm, input: x, paths: paths)
        let ranks: [[CAMTarget]] = try given.isEmpty
            ? pass.top(lm.hasClassifier ? o.top : 1)                          // (K, N)
            : [given.count == 1 ? Array(repeating: given[0], count: n) : given]
        var results: [CAMResult] = []                                         // [rank], each over the batch
        var reported = false
        for (r, targets) in ranks.enumerated() {
            let res = try pass.explain(method, layers: layers, targets: targets) { done, total in
                reported = true
                progress?((Double(r) + Double(done) / Double(max(total, 1))) / Double(ranks.count),
                          "\(method.name): map \(r + 1)/\(ranks.count)")
            }
            if let bad = res.nonFinite.first {
                throw Finite.error("\(method.name) map at '\(bad.layer)'", lm: lm, input: x, row: bad.image, path: paths[bad.image])
            }
            results.append(res)
        }
        if reported { progress?(1, "\(method.name): \(ranks.count) map\(ranks.count == 1 ? "" : "s")") }

        let (h, w) = (x.shape[2], x.shape[3])
        var entries: [CAMEntry] = [], maps: [CAMFigure.Map] = [], rawMaps: [[Float]] = []
        for i in 0 ..< n {
            for (r, res) in results.enumerated() {
                let target = ranks[r][i], c = target.classIndex
                let explained = lm.hasClassifier || !o.targets.isEmpty      // a class-free map explains nothing
                let map = Array(res.maps.data[i * h * w ..< (i + 1) * h * w])    // (H, W)
                var faith: Faithfulness?
                if o.metrics && method.output == .map && explained {
                    let f = try Faithfulness.measure(CAMRerun(graph: lm.model.inference()), image: x.item(i), map: map, target: target)
                    let values = [f.confidence, f.dropRemovingTop20, f.dropKeepingTop20, f.deletionAUC, f.insertionAUC]
                    try Finite.check(values, "faithfulness figures", lm: lm, input: x.item(i), paths: [paths[i]])
                    faith = f
                }
                let at = method.usesLayer ? " @ \(layers.joined(separator: "+"))" : ""
                let value = String(format: "%.3f", lm.hasClassifier ? res.confidences[i] : res.scores[i])
                let caption = !explained ? "\(method.name)\(at) (no classifier: class-free)"
                    : c.map { "\(lm.label($0)) (\($0))  p = \(value)  ·  \(method.name)\(at)" }
                    ?? "\(target.description) = \(value)  ·  \(method.name)\(at)"
                entries.append(CAMEntry(image: paths[i], method: method.name, layers: method.usesLayer ? layers : [],
                                        target: explained ? target.description : nil,
                                        classIndex: explained ? c : nil, label: explained ? c.map(lm.label) : nil,
                                        probability: explained && lm.hasClassifier ? res.confidences[i] : nil,
                                        score: explained ? res.scores[i] : nil,
                                        faithfulness: faith, warnings: res.warnings.filter { $0.hasPrefix("image \(i):") }))
                var picture: RGBImage?
                if let rgb = res.images {
                    var pixels = Array(rgb.data[i * h * w * 3 ..< (i + 1) * h * w * 3])   // (H, W, 3) in [0, 1], model order
                    if lm.preprocessing.bgr {                                               // show and save as RGB
                        for p in 0 ..< h * w { pixels.swapAt(3 * p, 3 * p + 2) }
                    }
                    rawMaps.append(pixels)
                    picture = RGBImage(width: w, height: h, pixels: pixels.map { UInt8(($0 * 255).rounded()) })
                } else {
                    rawMaps.append(map)
                }
                maps.append(CAMFigure.Map(image: images[i], heat: map, side: (w, h), picture: picture, caption: caption))
            }
        }
        let style = CAMFigure.Style(view: o.view, colormap: o.colormap, alpha: o.alpha, panel: o.panel,
                                    title: o.title ?? (n > 1 || ranks.count > 1 ? "\(method.name) · \(lm.model.name)" : nil))
        let (figure, scale) = CAMFigure.make(maps, images: n, ranks: ranks.count, style: style, scale: o.scale)
        let shape: [Int] = (rawMaps.count == 1 ? [h, w] : [rawMaps.count, h, w]) + (method.output == .image ? [3] : [])
        return (entries, figure, scale, TensorData(shape: shape, values: rawMaps.flatMap { $0 }))
    }

    /// The settings that need no model, against `OptionLimits`: the job checks them, and the command before loading.
    public static func check(_ o: GradCAMOptions) throws {
        try OptionLimits.alpha.check(Double(o.alpha))
        if let s = o.scale { try OptionLimits.scale.check(s) }
        try OptionLimits.top.check(o.top)
    }

    /// Every target layer must exist and have spatial extent (C, h, w), or be (T, C) tokens with `reshape`:
    /// `--layer logits` is bad usage, like an unknown name.
    /// - Returns: the shape of one image's output, without the batch axis.
    static func checkLayers(_ layers: [String], _ lm: LoadedModel, input: RGBImage, reshape: CAMGrid?) throws -> [Int] {
        let graph = lm.model.graph, shapes = try graph.shapes(input: [1, 3, input.height, input.width])
        for layer in layers {
            let i = try usage { try graph.index(of: layer) }
            guard i >= 0 else { throw UsageError("layer 'input' has no channels to weight; give a layer such as \(lm.model.architecture.camLayer)") }
            let shape = shapes[i].dropFirst(), text = shape.map(String.init).joined(separator: "x")
            if let (h, w) = reshape.map({ ($0.height, $0.width) }) {
                guard shape.count == 2, shape.first! >= h * w else {
                    throw UsageError("--reshape \(h)x\(w) reads (tokens, channels) with at least \(h * w) tokens; layer '\(layer)' has shape \(text)")
                }
            } else if shape.count != 3 {
                throw UsageError("layer '\(layer)' has shape \(text); gradcam needs a layer with spatial extent (C, h, w), "
                    + "such as \(lm.model.architecture.camLayer)" + (shape.count == 2 ? ", or --reshape HxW for (tokens, channels)" : ""))
            }
        }
        return Array(shapes[try graph.index(of: "logits")].dropFirst())
    }

    /// The bytes a run will hold at its peak, from the graph's shapes: every output of the forward pass and its
    /// gradient for the batch, the batches of extra passes (Score-CAM, Ablation-CAM, faithfulness), the maps, and
    /// the decoded photos with their overlays.
    static func estimate(_ lm: LoadedModel, images: [PreparedImage], method: CAMMethod, layers: [String],
                         options o: GradCAMOptions) throws -> Int {
        let (s, w) = (images[0].crop.height, images[0].crop.width), n = images.count
        let graph = lm.model.graph, one = [1, 3, s, w]
        let pass = try MemoryBudget.activationBytes(graph, input: one)
        let largest = try MemoryBudget.largestOutputBytes(graph, input: one)
        let extra = (method.reruns && method.usesLayer ? CAMMethod.chunk : 16) * 3 * largest
        let maps = n * o.top * s * w * 4 * 4
        let photos = o.view == .photo
            ? images.reduce(0) { $0.addingSaturating(($1.photoSize.width * $1.photoSize.height).multipliedSaturating(3 + 3 + 4 + 4)) } : 0
        return (2 * n).multipliedSaturating(pass).addingSaturating(extra).addingSaturating(maps).addingSaturating(photos)
    }

    /// JSON text of the entries.
    public static func json(_ outcome: GradCAMOutcome) throws -> String {
        struct Document: Codable { let out: String; let raw: String?; let maps: [CAMEntry] }
        return try Outputs.json(Document(out: outcome.out, raw: outcome.raw, maps: outcome.entries))
    }
}
