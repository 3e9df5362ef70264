import Engine
import Foundation
import Imaging
import Render
import Support
import TensorIO

/// What to draw for `convlens activations`.
public struct ActivationsOptions {
    /// Layers to show; every layer with spatial extent when `all` is set.
    public var layers: [String] = []
    public var all = false
    /// Tiles per row; 16 (the Keras book's), or 32 above 256 channels, when nil.
    public var perRow: Int?
    /// Per-tile scaling: minmax, or standardize (the Keras book's per-tile standardisation).
    public var normalize = Scaling.minmax
    public var colormap = Colormap.viridis
    /// Every tile on its own colour scale, or one scale for a layer's whole grid, with a colorbar.
    public var tileScale = TileScale.each
    /// Write one file per layer ("<out stem>_<layer>.<ext>") instead of one tall page.
    public var split = false
    public var out: String?
    /// One layer's activations as float32 .npy, (C, H, W).
    public var raw: String?
    public var scale = 2.0
    public init() {}
}

/// `convlens activations`: every channel of a layer as a grid of tiles, for one layer or for all.
public enum ActivationsJob {
    /// The layers `--all` shows: those with spatial extent, at block level (names with at most one dot, e.g.
    /// "fire9", "layer4.1", "features.29"; an alias stands in for a deeper node), leaving out pre-activations and
    /// pre-normalisations (a layer whose only consumer is a ReLU or a BatchNorm shows through that consumer) and
    /// dropout.
    public static func tileLayers(_ graph: Graph, input: [Int]) throws -> [String] {
        let shapes = try graph.shapes(input: input)
        var names = [String: [String]]()
        for (alias, target) in graph.aliases { names[target, default: []].append(alias) }
        var out: [String] = []
        for (i, node) in graph.nodes.enumerated() {
            let s = shapes[i]
            guard s.count == 4, s[2] > 1 || s[3] > 1, !(node.layer is Dropout) else { continue }
            if graph.consumers[i].count == 1 {
                let next = graph.nodes[graph.consumers[i][0]].layer
                if next is ActivationLayer || next is BatchNorm2d { continue }
            }
            let name = ([node.name] + (names[node.name] ?? [])).min { dots($0) < dots($1) }!
            if dots(name) <= 1 { out.append(name) }
        }
        return out
    }

    /// One layer's activations as a grid of tiles drawn as `options` say, titled "layer · C×H×W".
    /// - Parameters:
    ///   - a: (1, C, H, W) maps, or (1, K) drawn as K 1×1 tiles.
    /// - Throws: a `UsageError` for any other shape.
    public static func grid(_ a: Tensor, layer: String, options o: ActivationsOptions) throws -> TileGrid {
        guard a.rank == 4 || a.rank == 2 else {
            throw UsageError("layer '\(layer)' has shape \(a.shape.map(String.init).joined(separator: "x")); tiles need (C, H, W) maps or (K) vectors")
        }
        let (c, h, w) = a.rank == 4 ? (a.shape[1], a.shape[2], a.shape[3]) : (a.shape[1], 1, 1)
        var g = TileGrid(values: a.data, count: c, height: h, width: w, columns: o.perRow ?? (c > 256 ? 32 : 16))
        g.scaling = o.normalize
        g.tileScale = o.tileScale
        g.colorbar = o.tileScale == .shared
        g.colormap = o.colormap
        g.captions = c <= 256 ? .index : .none
        g.title = "\(layer) · \(c)×\(h)×\(w)"
        return g
    }

    /// The settings that need no model, against `OptionLimits`: the job checks them, and the command before loading.
    public static func check(_ o: ActivationsOptions) throws {
        try OptionLimits.perRow.check(o.perRow)
        try OptionLimits.scale.check(o.scale)
    }

    static func dots(_ s: String) -> Int { s.filter { $0 == "." }.count }

    /// Runs the job on one prepared image.
    /// - Returns: the files written.
    public static func run(_ lm: LoadedModel, image: PreparedImage, options o: ActivationsOptions) throws -> [String] {
        try check(o)
        let layers = o.all ? try tileLayers(lm.model.graph, input: lm.model.inputShape) : o.layers
        guard !layers.isEmpty else { throw UsageError("name a layer with --layer, or pass --all") }
        for l in layers { _ = try usage { try lm.model.graph.index(of: l) } }
        let graph = lm.model.inference(keeping: Set(layers))
        if o.raw != nil && layers.count != 1 { throw UsageError("--raw saves one layer's activations; pass a single --layer") }
        let out = try Outputs.figurePath(o.out, or: Environment.defaultOutput(for: image.path, suffix: o.all ? "activations" : "activations_\(layers[0])"),
                                         with: [("--raw", o.raw)])

        let deepest = try layers.map { try graph.index(of: $0) }.max()!
        let x = ImageBatch.tensor([image])                                   // (1, 3, S, S)
        let acts = try graph.forward(x, until: graph.nodes[deepest].name)
        for layer in layers { try Finite.check(try acts.output(layer).data, "the activations of '\(layer)'", lm: lm, input: x, paths: [image.path]) }
        let first = try acts.output(layers[0]), name = URL(fileURLWithPath: image.path).lastPathComponent   // (1, ...)
        // A layer without spatial maps (logits, a pooled vector, a token sequence) is drawn as one strip of its values.
        let strip = layers.count == 1 && first.rank != 4
        var grids: [TileGrid] = [], titles: [String] = []
        for layer in strip ? [] : layers {
            var g = try grid(try acts.output(layer), layer: layer, options: o)
            titles.append(g.title ?? layer)
            g.title = !o.all && layers.count == 1 ? "\(g.title ?? layer) · \(lm.model.name) · \(name)" : nil
            grids.append(g)
        }
        if let raw = o.raw { try NPY.write(TensorData(shape: Array(first.shape.dropFirst()), values: first.data), to: raw) }
        if strip {
            let shape = first.shape.dropFirst().map(String.init).joined(separator: "×")
            let plot = StripPlot(items: [(label: layers[0], values: first.data)], title: "\(layers[0]) · \(shape) · \(lm.model.name) · \(name)",
                                 colormap: o.colormap)
            return try Outputs.writeFigure(plot, to: out, scale: o.scale)
        }
        // A page too tall for one file (--all at --scale 2 is about 48,000 pixels) is split by FigureWriter.
        if grids.count == 1 { return try FigureWriter.write(grids[0], to: out, scale: o.scale) }
        if o.split {
            let url = URL(fileURLWithPath: out)
            let stem = url.deletingPathExtension().path, ext = url.pathExtension
            return try zip(grids, zip(layers, titles)).flatMap { g, lt in
                var g = g
                g.title = lt.1
                return try FigureWriter.write(g, to: "\(stem)_\(lt.0).\(ext)", scale: o.scale)
            }
        }
        return try FigureWriter.write(Panels(grids, columns: 1, titles: titles, title: "\(lm.model.name) activations · \(name)"), to: out, scale: o.scale)
    }
}
