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
    /// Target layers; the architecture's default when empty.
    public var layers: [String] = []
    /// The class to explain per image; the top class when nil.
    public var classIndex: Int?
    public var alpha: Float = 0.4
    public var colormap = "jet"
    /// Draw input | heatmap | overlay with a caption instead of the bare overlay.
    public var panel = false
    /// The figure (.png, .svg or .pdf); Reports/<image>_<method>.png when nil.
    public var out: String?
    /// The map as float32 .npy, (H, W).
    public var raw: String?
    /// PNG pixels per point for captioned figures.
    public var scale = 2.0
    public init() {}
}

/// What one Grad-CAM run produced.
public struct GradCAMOutcome {
    public let image: String
    public let classIndex: Int
    public let label: String
    public let probability: Float
    public let layers: [String]
    public let out: String
    public let raw: String?
    public let warnings: [String]
}

/// `convlens gradcam`: a class activation map over the model's view of an image.
public enum GradCAMJob {
    public static func run(_ lm: LoadedModel, image: PreparedImage, options o: GradCAMOptions) throws -> GradCAMOutcome {
        let method = try usage { try CAMMethod.named(o.method) }
        let layers = o.layers.isEmpty ? [lm.model.architecture.camLayer] : o.layers
        for layer in layers { _ = try usage { try lm.model.graph.index(of: layer) } }
        if let c = o.classIndex, c < 0 || c >= lm.model.classes {
            throw UsageError("class index \(c) is out of range: the model has \(lm.model.classes) classes (0…\(lm.model.classes - 1))")
        }
        let colormap = try usage { try Colormap.named(o.colormap) }
        let out = try o.out ?? Environment.defaultOutput(for: image.path, suffix: method.name)
        let format = try usage { try FigureWriter.Format(path: out) }
        for path in [out] + (o.raw.map { [$0] } ?? []) { try AtomicFile.checkWritable(path) }  // before the work, not after

        let x = ImageBatch.tensor([image])
        let result = try CAM.compute(method, graph: lm.model.graph, input: x, layers: layers, classes: [o.classIndex])
        let (h, w) = (result.maps.shape[1], result.maps.shape[2])
        let map = Array(result.maps.data[0 ..< h * w])                             // (H, W)
        let c = result.classes[0]
        let caption = "\(lm.label(c)) (\(c))  p = \(String(format: "%.3f", result.probabilities[0]))  ·  \(method.name) @ \(layers.joined(separator: "+"))"

        var overlay = Overlay(image: image.crop, heat: Heatmap(width: w, height: h, values: map), colormap: colormap, alpha: o.alpha, caption: caption)
        overlay.panel = o.panel
        if format == .png && !o.panel {
            // The bare overlay, pixel for pixel the size of the model's input crop.
            try FigureWriter.write(Picture(overlay.blended()), to: out, scale: 1)
        } else {
            try FigureWriter.write(overlay, to: out, scale: o.scale)
        }
        if let raw = o.raw { try NPY.write(TensorData(shape: [h, w], values: map), to: raw) }
        return GradCAMOutcome(image: image.path, classIndex: c, label: lm.label(c), probability: result.probabilities[0],
                              layers: layers, out: out, raw: o.raw, warnings: result.warnings)
    }
}
