import Analysis
import Engine
import Foundation
import Imaging
import Render
import Support

/// What to do for `convlens style`.
public struct StyleOptions {
    /// Gram-matrix layers; the model's default (`DefaultLayers.style`) when nil.
    public var styleLayers: [String]?
    /// The content layer; the model's default when nil.
    public var contentLayer: String?
    /// β, α, γ of `StyleTransfer`.
    public var styleWeight: Float = 30, contentWeight: Float = 1, tvWeight: Float = 10
    public var steps = 200
    /// The result's longer side, in pixels; the style photo is squashed to the result's size (as Keras does).
    public var size = 256
    public var method = StyleTransfer.Method.lbfgs
    /// Start from white noise (seeded by `seed`) instead of the content photo.
    public var noise = false
    public var seed: UInt64 = 0
    /// Draw content | style | result with captions instead of the result alone.
    public var panel = false
    /// The image (.png, .jpg, .svg, .pdf); Reports/<content>_style.png when nil.
    public var out: String?
    public var title: String?
    public init() {}
}

/// What one transfer produced.
public struct StyleOutcome {
    public let out: String
    public let content: String, style: String
    public let settings: StyleTransfer.Settings
    public let result: StyleTransfer.Result
    public let width: Int, height: Int
    public let seconds: Double

    /// The losses at the start (the content photo, or noise) and of the result.
    public var start: StyleTransfer.Losses { result.curve[0] }
    public var final: StyleTransfer.Losses { result.curve[result.curve.count - 1] }

    /// JSON text: the files, layers, weights and method, the loss curve (the start, then every step; the last is
    /// "final"), how much the style loss fell, and the content loss of the style photo itself.
    public func json() throws -> String {
        struct Weights: Codable { let style: Float; let content: Float; let tv: Float }
        struct Document: Codable {
            let out: String; let content: String; let style: String; let width: Int; let height: Int
            let style_layers: [String]; let content_layer: String; let weights: Weights; let method: String; let steps: Int
            let curve: [StyleTransfer.Losses]; let start: StyleTransfer.Losses; let final: StyleTransfer.Losses
            let style_reduction: Float; let style_photo_content: Float; let seconds: Double
        }
        let s = settings
        let doc = Document(out: out, content: content, style: style, width: width, height: height, style_layers: s.styleLayers,
                           content_layer: s.contentLayer, weights: Weights(style: s.styleWeight, content: s.contentWeight, tv: s.tvWeight),
                           method: s.method.rawValue, steps: s.steps, curve: result.curve, start: start, final: final,
                           style_reduction: start.style / max(final.style, 1e-30), style_photo_content: result.styleContentLoss,
                           seconds: seconds)
        return try Outputs.json(doc)
    }
}

/// `convlens style`: Gatys's style transfer (`StyleTransfer`) from one photo's content and another's style.
public enum StyleJob {
    /// Runs the transfer and writes the image.
    /// - Parameters:
    ///   - content, style: the photos.
    ///   - progress: called after every step with (steps done, steps in all, the losses).
    public static func run(_ lm: LoadedModel, content: String, style: String, options o: StyleOptions, maxPixels: Int = ImageIO.defaultMaxPixels,
                           progress: ((Int, Int, StyleTransfer.Losses) -> Void)? = nil) throws -> StyleOutcome {
        try check(o)
        let out = try Outputs.figurePath(o.out, or: Environment.defaultOutput(for: content, suffix: "style"))
        let graph = lm.model.graph
        let defaults = o.styleLayers == nil || o.contentLayer == nil ? try DefaultLayers.style(lm) : nil
        var s = StyleTransfer.Settings(styleLayers: o.styleLayers ?? defaults!.style, contentLayer: o.contentLayer ?? defaults!.content)
        guard !s.styleLayers.isEmpty else { throw UsageError("--style-layers names no layer") }
        for layer in s.styleLayers + [s.contentLayer] {
            let i = try usage { try graph.index(of: layer) }
            guard i >= 0, try graph.shapes(input: lm.model.inputShape, through: i)[i].count == 4 else {
                throw UsageError("layer '\(layer)' has no feature maps (C, H, W) to compare; give a convolutional layer such as \(lm.model.architecture.camLayer)")
            }
        }
        (s.styleWeight, s.contentWeight, s.tvWeight, s.steps, s.method) = (o.styleWeight, o.contentWeight, o.tvWeight, o.steps, o.method)

        let original = try ImageIO.read(content, maxPixels: maxPixels), originalStyle = try ImageIO.read(style, maxPixels: maxPixels)
        let (w, h) = UnitImage.size(original, longerSide: o.size)
        let deepest = try (s.styleLayers + [s.contentLayer]).max { try graph.index(of: $0) < graph.index(of: $1) }!
        let pixels = (h * w).multipliedSaturating(3 * 4)
        let bytes = try MemoryBudget.activationBytes(graph, input: [1, 3, h, w], upTo: deepest).multipliedSaturating(3)
            .addingSaturating(pixels.multipliedSaturating(2 * 10 + 12))
        try MemoryBudget.check(bytes, "style --size \(o.size)", hint: "try --size \(max(16, o.size / 2))")

        let photo = UnitImage.resized(original, (w, h)), stylePhoto = UnitImage.resized(originalStyle, (w, h))
        let clock = Date()
        let x = UnitImage.tensor(photo), y = UnitImage.tensor(stylePhoto)     // (1, 3, H, W) each
        let start = o.noise ? StyleTransfer.noise(x.shape, seed: o.seed) : nil
        let run = lm.model.inference(keeping: Set(s.styleLayers + [s.contentLayer]))
        let result = try StyleTransfer.run(run, content: x, style: y, start: start, toModel: UnitImage.toModel(lm), settings: s, progress: progress)
        var none: [PatternRandom] = []
        let input = UnitImage.toModel(lm).apply(result.image, &none).0
        try Finite.check(result.image.data + result.curve.flatMap { [$0.total, $0.style, $0.content, $0.tv] }, "style transfer", lm: lm,
                         input: input, paths: [content])
        let seconds = Date().timeIntervalSince(clock)
        let outcome = StyleOutcome(out: out, content: content, style: style, settings: s, result: result, width: w, height: h, seconds: seconds)
        try Outputs.writeFigure(figure(outcome, lm: lm, photo: photo, stylePhoto: stylePhoto, options: o), to: out, scale: 1)
        return outcome
    }

    /// The settings that need no model, against `OptionLimits`: the job checks them, and the command before loading.
    public static func check(_ o: StyleOptions) throws {
        try OptionLimits.styleWeight.check(Double(o.styleWeight))
        try OptionLimits.contentWeight.check(Double(o.contentWeight))
        try OptionLimits.tvWeight.check(Double(o.tvWeight))
        try OptionLimits.steps.check(o.steps)
        try OptionLimits.size.check(o.size)
    }

    /// The result alone (pixel for pixel), or with a title, or content | style | result with the losses.
    static func figure(_ r: StyleOutcome, lm: LoadedModel, photo: RGBImage, stylePhoto: RGBImage, options o: StyleOptions) -> any Figure {
        let image = UnitImage.image(r.result.image)
        guard o.panel || o.title != nil else { return Picture(image) }
        let name = { (p: String) in URL(fileURLWithPath: p).lastPathComponent }
        let f = String(format: "style loss %.3g → %.3g, content loss %.3g", r.start.style, r.final.style, r.final.content)
        var grid = o.panel
            ? ImageGrid(images: [photo, stylePhoto, image], columns: 3, captions: ["content: \(name(r.content))", "style: \(name(r.style))", f])
            : ImageGrid(images: [image], columns: 1, captions: [f])
        grid.title = o.title ?? "\(lm.model.name) style transfer (Gatys et al.): \(r.settings.styleLayers.joined(separator: ", ")) for style, \(r.settings.contentLayer) for content"
        grid.tileSize = Double(max(r.width, r.height))
        return grid
    }
}
