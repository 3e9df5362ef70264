import Analysis
import Engine
import Foundation
import Imaging
import Render
import Support
import TensorIO

/// What to compute and draw for `convlens gradcam`.
public struct GradCAMOptions {
    public var method = "gradcam"
    /// Target layers; the architecture's default when empty. Several are averaged as pytorch-grad-cam does.
    public var layers: [String] = []
    /// The class to explain: one for all images, or one per image; the top class when empty.
    public var classes: [Int] = []
    /// Explain the K best classes of each image, side by side (ignored when `classes` is given).
    public var top = 1
    public var alpha: Float = 0.4
    public var colormap = "jet"
    /// Draw input | heatmap | overlay with a caption instead of the bare overlay.
    public var panel = false
    /// The figure (.png, .svg or .pdf); Reports/<image>_<method>.png when nil.
    public var out: String?
    /// The maps as float32 .npy: (H, W) for one map, (N·K, H, W) for several, with a trailing 3 for image methods.
    public var raw: String?
    /// PNG pixels per point for captioned figures.
    public var scale = 2.0
    /// Measure the faithfulness of each map (about 45 extra forward passes per map).
    public var metrics = true
    public init() {}
}

/// One explained (image, class) pair.
public struct CAMEntry: Codable {
    public let image: String
    public let method: String
    public let layers: [String]
    public let classIndex: Int
    public let label: String
    public let probability: Float
    public let score: Float
    public let faithfulness: Faithfulness?
    public let warnings: [String]
    enum CodingKeys: String, CodingKey {
        case image, method, layers, classIndex = "class", label, probability, score, faithfulness, warnings
    }
}

/// What one `convlens gradcam` run produced.
public struct GradCAMOutcome {
    public let entries: [CAMEntry]
    public let out: String
    public let raw: String?
}

/// `convlens gradcam`: class activation maps of a batch of images, drawn over the model's view of each.
public enum GradCAMJob {
    public static func run(_ lm: LoadedModel, images: [PreparedImage], options o: GradCAMOptions) throws -> GradCAMOutcome {
        let method = try usage { try CAMMethod.named(o.method) }
        let k = lm.model.classes
        let layers = o.layers.isEmpty ? [lm.model.architecture.camLayer] : o.layers
        for layer in layers { _ = try usage { try lm.model.graph.index(of: layer) } }
        for c in o.classes where c < 0 || c >= k {
            throw UsageError("class index \(c) is out of range: the model has \(k) classes (0…\(k - 1))")
        }
        guard o.classes.count <= 1 || o.classes.count == images.count else {
            throw UsageError("\(o.classes.count) classes given for \(images.count) images; give one class, or one per image")
        }
        guard o.top >= 1 && o.top <= k else { throw UsageError("--top must be between 1 and \(k)") }
        let colormap = try usage { try Colormap.named(o.colormap) }
        let out = try o.out ?? Environment.defaultOutput(for: images[0].path, suffix: method.name)
        let format = try usage { try FigureWriter.Format(path: out) }
        for path in [out] + (o.raw.map { [$0] } ?? []) { try AtomicFile.checkWritable(path) }  // before the work, not after

        let x = ImageBatch.tensor(images)                                     // (N, 3, S, S)
        let n = images.count
        // Targets per image: the given classes, or the K best.
        var targets: [[Int]]
        if o.classes.isEmpty {
            let logits = try lm.model.logits(x)
            targets = (0 ..< n).map { i in
                let row = Array(logits.data[i * k ..< (i + 1) * k])
                return Array(row.indices.sorted { row[$0] > row[$1] }.prefix(o.top))
            }
        } else {
            targets = (0 ..< n).map { [o.classes.count == 1 ? o.classes[0] : o.classes[$0]] }
        }
        let ranks = targets[0].count
        var entries: [CAMEntry] = [], figures: [any Figure] = [], rawMaps: [[Float]] = []
        var results: [[CAMResult]] = []                                        // [rank][batch]
        for r in 0 ..< ranks {
            results.append([try CAM.compute(method, graph: lm.model.inference(keeping: Set(layers)), input: x, layers: layers,
                                            classes: targets.map { $0[r] })])
        }
        let (h, w) = (x.shape[2], x.shape[3])
        for i in 0 ..< n {
            for r in 0 ..< ranks {
                let res = results[r][0], c = res.classes[i]
                let map = Array(res.maps.data[i * h * w ..< (i + 1) * h * w])    // (H, W)
                let faith = o.metrics && method.output == .map
                    ? try Faithfulness.measure(graph: lm.model.inference(), image: x.item(i), map: map, classIndex: c) : nil
                let where_ = method.usesLayer ? " @ \(layers.joined(separator: "+"))" : ""
                let caption = "\(lm.label(c)) (\(c))  p = \(String(format: "%.3f", res.probabilities[i]))  ·  \(method.name)\(where_)"
                entries.append(CAMEntry(image: images[i].path, method: method.name, layers: method.usesLayer ? layers : [],
                                        classIndex: c, label: lm.label(c), probability: res.probabilities[i], score: res.scores[i],
                                        faithfulness: faith, warnings: res.warnings.filter { $0.hasPrefix("image \(i):") }))
                if let rgb = res.images {
                    var pixels = Array(rgb.data[i * h * w * 3 ..< (i + 1) * h * w * 3])   // (H, W, 3) in [0, 1], model order
                    if lm.preprocessing.bgr {                                               // show and save as RGB
                        for p in 0 ..< h * w { pixels.swapAt(3 * p, 3 * p + 2) }
                    }
                    rawMaps.append(pixels)
                    let picture = RGBImage(width: w, height: h, pixels: pixels.map { UInt8(($0 * 255).rounded()) })
                    figures.append(ImageGrid(images: [images[i].crop, picture], columns: 2, captions: ["input", caption]))
                } else {
                    rawMaps.append(map)
                    var overlay = Overlay(image: images[i].crop, heat: Heatmap(width: w, height: h, values: map),
                                          colormap: colormap, alpha: o.alpha, caption: caption)
                    overlay.panel = o.panel
                    figures.append(overlay)
                }
            }
        }
        if figures.count == 1 && format == .png && !o.panel, let overlay = figures[0] as? Overlay {
            try FigureWriter.write(Picture(overlay.blended()), to: out, scale: 1)      // the bare overlay, input-crop sized
        } else if figures.count == 1 {
            try FigureWriter.write(figures[0], to: out, scale: o.scale)
        } else {
            let title = n > 1 || ranks > 1 ? "\(method.name) · \(lm.model.name)" : nil
            try FigureWriter.write(Panels(figures, columns: ranks > 1 ? ranks : min(n, 4), title: title), to: out, scale: o.scale)
        }
        if let raw = o.raw {
            let channels = method.output == .image ? [3] : []
            let shape = (rawMaps.count == 1 ? [h, w] : [rawMaps.count, h, w]) + channels
            try NPY.write(TensorData(shape: shape, values: rawMaps.flatMap { $0 }), to: raw)
        }
        return GradCAMOutcome(entries: entries, out: out, raw: o.raw)
    }

    /// JSON text of the entries.
    public static func json(_ outcome: GradCAMOutcome) throws -> String {
        struct Document: Codable { let out: String; let raw: String?; let maps: [CAMEntry] }
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try enc.encode(Document(out: outcome.out, raw: outcome.raw, maps: outcome.entries)), as: UTF8.self)
    }
}
