import Analysis
import Engine
import Foundation
import Imaging
import Render
import Support

/// What to do for `convlens dream`.
public struct DreamOptions {
    /// Layers whose L2 norm to amplify (weight 1 each); the model's default layers (`DefaultLayers.dream`) when empty.
    public var layers: [String] = []
    /// An objective in the grammar of `ObjectiveSpec` instead of the layers' norms; `layers[0]` is its default layer.
    public var objective: String?
    public var settings = DeepDream.Settings()
    /// Dream on the photo resized to this longer side; the photo's own size when nil.
    public var size: Int?
    /// The image (.png, .jpg: the dream itself, pixel for pixel; .svg, .pdf); Reports/<photo>_dream.png when nil.
    public var out: String?
    /// A title over the image (the image is then drawn in a figure with margins).
    public var title: String?
    public init() {}
}

/// What one dream produced.
public struct DreamOutcome {
    public let out: String
    /// What was maximised, e.g. "L2(fire7) + 1.5·L2(fire8)".
    public let objective: String
    public let width: Int, height: Int
    public let seconds: Double
}

/// `convlens dream`: DeepDream of a photo at its own size (`DeepDream`, after the Keras example).
public enum DreamJob {
    /// Dreams and writes the image.
    /// - Parameters:
    ///   - lm: the model and its preprocessing.
    ///   - path: the photo.
    ///   - maxPixels: the largest photo accepted.
    ///   - progress: called after every step with (steps done, steps in all).
    public static func run(_ lm: LoadedModel, path: String, options o: DreamOptions, maxPixels: Int = ImageIO.defaultMaxPixels,
                           progress: ((Int, Int) -> Void)? = nil) throws -> DreamOutcome {
        try check(o)
        let out = try Outputs.figurePath(o.out, or: Environment.defaultOutput(for: path, suffix: "dream"))
        let graph = lm.model.graph
        let objective = try objective(lm, o)
        let original = try ImageIO.read(path, maxPixels: maxPixels)
        let (w, h) = UnitImage.size(original, longerSide: o.size)
        func bytes(_ w: Int, _ h: Int) throws -> Int {
            try MemoryBudget.activationBytes(graph, input: [1, 3, h, w], upTo: deepest(graph, objective)).multipliedSaturating(2)
                .addingSaturating((h * w).multipliedSaturating(3 * 4 * 10))
        }
        if try bytes(w, h) > MemoryBudget.limit {
            let fits = try [4096, 2048, 1024, 512, 256].first { s in
                let (sw, sh) = UnitImage.size(original, longerSide: s)
                return try s < max(w, h) && bytes(sw, sh) <= MemoryBudget.limit
            }
            try MemoryBudget.check(try bytes(w, h), "dream of a \(w)x\(h) image", hint: fits.map { "try --size \($0)" } ?? "try a smaller --size")
        }
        let photo = UnitImage.resized(original, (w, h))
        let clock = Date()
        let run = lm.model.inference(keeping: Set(objective.layers))
        let x = UnitImage.tensor(photo)                                        // (1, 3, H, W)
        let dream = try DeepDream.run(run, objective, image: x, toModel: UnitImage.toModel(lm), settings: o.settings, progress: progress)
        var none: [PatternRandom] = []
        try Finite.check(dream.data, "dream", lm: lm, input: UnitImage.toModel(lm).apply(x, &none).0, paths: [path])
        let seconds = Date().timeIntervalSince(clock)
        let image = UnitImage.image(dream)
        if let title = o.title {
            var grid = ImageGrid(images: [image], columns: 1, captions: [objective.description], title: title)
            grid.tileSize = Double(max(w, h))
            try Outputs.writeFigure(grid, to: out, scale: 1)
        } else {
            try Outputs.writeFigure(Picture(image), to: out, scale: 1)
        }
        return DreamOutcome(out: out, objective: objective.description, width: w, height: h, seconds: seconds)
    }

    /// The settings that need no model, against `OptionLimits`: the job checks them, and the command before loading.
    public static func check(_ o: DreamOptions) throws {
        try OptionLimits.octaves.check(o.settings.octaves)
        try OptionLimits.octaveScale.check(Double(o.settings.octaveScale))
        try OptionLimits.steps.check(o.settings.steps)
        try OptionLimits.stepSize.check(Double(o.settings.stepSize))
        try OptionLimits.size.check(o.size)
    }

    /// The objective: the parsed `--objective`, the layers' norms, or the model's default layers.
    static func objective(_ lm: LoadedModel, _ o: DreamOptions) throws -> Objective {
        let graph = lm.model.graph
        if let text = o.objective {
            return try PatternsJob.objective(text, lm, defaultLayer: o.layers.first, input: lm.model.inputShape)
        }
        let weighted = o.layers.isEmpty ? try DefaultLayers.dream(lm) : o.layers.map { ($0, Float(1)) }
        var total: Objective?
        for (layer, weight) in weighted {
            _ = try usage { try graph.index(of: layer) }
            let term = weight * Objective.layerNorm(layer)
            total = total.map { $0 + term } ?? term
        }
        return total!
    }

    /// The deepest layer an objective reads.
    static func deepest(_ graph: Graph, _ o: Objective) throws -> String? {
        try o.layers.max { try graph.index(of: $0) < graph.index(of: $1) }
    }
}
