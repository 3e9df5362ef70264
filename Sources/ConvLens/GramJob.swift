import Analysis
import Engine
import Foundation
import Imaging
import Render
import Support
import TensorIO

/// What to draw for `convlens gram`.
public struct GramOptions {
    /// The layer whose Gram matrices to take.
    public var layer = ""
    /// The figure; Reports/<first image>_gram_<layer>.png when nil.
    public var out: String?
    /// The Gram matrices as float32 .npy, (n, C, C), in input order.
    public var raw: String?
    public var title: String?
    public var scale = 2.0
    public init() {}
}

/// What one `convlens gram` run produced.
public struct GramOutcome {
    public let layer: String
    public let images: [String]
    /// (n, C, C).
    public let grams: Tensor
    /// (n, n) style distances (`Gram.distances`), row-major.
    public let distances: [Float]
    public let out: String
    public let raw: String?

    /// JSON text: {"layer", "images", "channels", "distances": [[…]], "out", "raw"}.
    public func json() throws -> String {
        struct Document: Codable {
            let layer: String; let images: [String]; let channels: Int; let distances: [[Float]]; let out: String; let raw: String?
        }
        let n = images.count
        let doc = Document(layer: layer, images: images, channels: grams.shape[1],
                           distances: (0 ..< n).map { Array(distances[$0 * n ..< ($0 + 1) * n]) }, out: out, raw: raw)
        return try Outputs.json(doc)
    }
}

/// `convlens gram`: each image's Gram matrix at a layer (its style statistics, Gatys et al., 2015) and the matrix of
/// style distances between the images, drawn with `MatrixPlot`.
public enum GramJob {
    /// Images per forward pass; only the Grams are kept.
    static let chunk = 8

    /// Computes, draws and writes.
    /// - Parameters:
    ///   - paths: the images, each seen as the model sees it (its crop or squash).
    public static func run(_ lm: LoadedModel, images paths: [String], options o: GramOptions, maxPixels: Int = ImageIO.defaultMaxPixels,
                           fit: Fit? = nil) throws -> GramOutcome {
        try OptionLimits.scale.check(o.scale)
        guard !paths.isEmpty else { throw UsageError("give at least one image") }
        let graph = lm.model.graph
        let i = try usage { try graph.index(of: o.layer) }
        let shape = i >= 0 ? try graph.shapes(input: lm.model.inputShape, through: i)[i] : lm.model.inputShape
        guard shape.count == 4 else {
            throw UsageError("layer '\(o.layer)' has output shape \(shape.dropFirst().map(String.init).joined(separator: "x")); a Gram matrix needs feature maps (C, H, W)")
        }
        let c = shape[1]
        let out = try Outputs.figurePath(o.out, or: Environment.defaultOutput(for: paths[0], suffix: "gram_\(o.layer.replacingOccurrences(of: "/", with: "_"))"),
                                         with: [("--raw", o.raw)])
        let pass = try MemoryBudget.activationBytes(graph, input: [1] + lm.model.inputShape.dropFirst(), upTo: o.layer)
        try MemoryBudget.check(pass.multipliedSaturating(chunk).addingSaturating(paths.count.multipliedSaturating(c * c * 4 * 3)),
                               "gram of \(paths.count) images at '\(o.layer)' (\(c) channels)", hint: "try an earlier --layer or fewer images")

        let run = lm.model.inference(keeping: [o.layer])
        var grams: [Float] = []
        for start in stride(from: 0, to: paths.count, by: chunk) {
            let part = Array(paths[start ..< min(start + chunk, paths.count)])
            let x = ImageBatch.tensor(try ImageBatch.prepare(part, lm.preprocessing, fit: fit, maxPixels: maxPixels).images)
            let g = Gram.matrices(try run.forward(x, until: o.layer).output(o.layer))   // (b, C, C)
            try Finite.check(g.data, "Gram matrices at '\(o.layer)'", lm: lm, input: x, paths: part)
            grams += g.data
        }
        let all = Tensor(shape: [paths.count, c, c], data: grams)                // (n, C, C)
        let distances = Gram.distances(all)
        try Outputs.writeFigure(figure(all, distances, paths: paths, lm: lm, options: o), to: out, scale: o.scale)
        if let raw = o.raw { try NPY.write(TensorData(shape: all.shape, values: all.data), to: raw) }
        return GramOutcome(layer: o.layer, images: paths, grams: all, distances: distances, out: out, raw: o.raw)
    }

    /// The Grams in rows of up to four, then the distance matrix. The Grams share one colour scale, from the 1st to
    /// the 99th percentile of all their entries (a few large entries would otherwise leave the rest dark), and one
    /// channel order, by the channels' mean energy (the diagonal), so the images compare cell by cell.
    static func figure(_ grams: Tensor, _ distances: [Float], paths: [String], lm: LoadedModel, options o: GramOptions) -> Panels {
        let (n, c) = (grams.shape[0], grams.shape[1])
        let names = paths.map { URL(fileURLWithPath: $0).lastPathComponent }
        let energy = (0 ..< c).map { k in (0 ..< n).reduce(Float(0)) { $0 + grams.data[($1 * c + k) * c + k] } }
        let order = (0 ..< c).sorted { energy[$0] > energy[$1] }
        let sorted = grams.data.sorted()
        let (lo, hi) = (min(0, sorted[sorted.count / 100]), sorted[sorted.count * 99 / 100])
        let plots: [any Figure] = (0 ..< n).map { i in
            var p = MatrixPlot(values: Array(grams.data[i * c * c ..< (i + 1) * c * c]), rows: c, columns: c)
            p.colormap = .viridis
            p.range = .fixed(lo, hi > lo ? hi : lo + 1)
            p.rowOrder = order
            p.annotate = false
            p.cellSize = max(0.25, min(12, 200 / Double(c)))
            p.title = names[i]
            return p
        }
        var d = MatrixPlot(values: distances, rows: n, columns: n, rowLabels: names)
        d.colormap = .viridis
        d.range = .minmax
        d.colorbarLabel = "style distance"
        d.title = "style distance: Σ(Gᵢ − Gⱼ)² / mean(Σ Gᵢ², Σ Gⱼ²)"
        let columns = n <= 5 ? n : 4
        let rows = stride(from: 0, to: n, by: columns).map { Array(plots[$0 ..< min($0 + columns, n)]) } + [[d]]
        return Panels(rows: rows, title: o.title ?? "\(lm.model.name) Gram matrices at \(o.layer) (\(c)×\(c), channels by energy, colours to the 99th percentile) and the style distances")
    }
}
