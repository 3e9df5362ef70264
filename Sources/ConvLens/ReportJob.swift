import Analysis
import Engine
import Foundation
import Render
import Support

/// `convlens report`: one self-contained HTML page about a set of images: classification, Grad-CAM panels,
/// activation tiles, filter patterns and the correlation matrices. Figures are inline (base64 PNG for rasters,
/// SVG for matrices); nothing is loaded from the network.
public enum ReportJob {
    public struct Options {
        /// Layers whose activations are shown as tiles (default: the CAM layer).
        public var tileLayers: [String] = []
        /// A layer whose filter patterns are shown, and how many filters (0 leaves the section out).
        public var patternLayer: String?
        public var patternCount = 16
        public var top = 5
        public var scale = 1.5
        public init() {}
    }

    /// How far the report has got: `done` of `total` units of work (about one pass, forward or backward, of one image each).
    public struct Progress: Sendable {
        public let done: Double
        public let total: Double
        /// What is being computed, e.g. "Grad-CAM 2/5".
        public let stage: String
    }

    /// The side of the filter patterns in the report, in pixels: small, to keep the report quick.
    static let patternSize = 96

    /// Writes `dir/index.html` and returns its path.
    /// - Parameters:
    ///   - lm: the model.
    ///   - images: the images, already decoded and preprocessed.
    ///   - dir: the folder for index.html; created (with its parents) at the end, when everything has worked.
    ///   - progress: called as each part of the work finishes, and at the end with done == total.
    /// - Throws: `UsageError` for an unknown layer or a model without a classifier; `FileError` when `dir` cannot be
    ///   a folder for the report (checked before any work).
    public static func run(_ lm: LoadedModel, images: [PreparedImage], dir: String, options o: Options = Options(),
                           progress: ((Progress) -> Void)? = nil) throws -> String {
        let tileLayers = o.tileLayers.isEmpty ? [lm.model.architecture.camLayer] : o.tileLayers
        for l in tileLayers + [o.patternLayer].compactMap({ $0 }) { _ = try usage { try lm.model.graph.index(of: l) } }
        try lm.requireClassifier("report")
        try OptionLimits.top.check(min(o.top, lm.model.classes))
        try checkFolder(dir)
        let keep = Set(tileLayers + [lm.model.architecture.camLayer, lm.model.architecture.embeddingLayer])
        let graph = lm.model.inference(keeping: keep)
        let n = images.count, camLayer = lm.model.architecture.camLayer

        // Work in units of about one pass of one image: each image's forward pass and its Grad-CAM's backward pass,
        // and for the patterns a forward and a backward pass of a small image per step and filter.
        let patternFilters = o.patternLayer == nil ? 0 : o.patternCount
        let side = Double(lm.model.inputShape.last ?? 224)
        let recipeSteps = Double(PatternRecipe.clear(PatternsJob.inputSpace(lm.preprocessing)).steps)
        let patternUnits = 2 * Double(patternFilters) * recipeSteps * pow(Double(patternSize) / side, 2)
        let total = 2 * Double(n) + patternUnits
        var done = 0.0
        func advance(_ units: Double, _ stage: String) {
            done += units
            progress?(Progress(done: min(done, total), total: total, stage: stage))
        }

        var html = HTMLPage(title: "ConvLens report · \(lm.model.name)")
        html.paragraph([.text("Model "), .bold(lm.model.name),
                        .text(" (\(lm.model.architecture.layout) layout, weights \(lm.model.source)), input "
                            + "\(lm.model.inputShape.dropFirst().map(String.init).joined(separator: "×")), preprocessing \(lm.preprocessing.name).")])

        // One forward pass per image serves its classification, its Grad-CAM (one backward pass), the features the
        // correlations compare and, for the first image, the activation tiles.
        let top = min(o.top, lm.model.classes)
        var co = GradCAMOptions()                                         // as `gradcam --view input --panel` draws it
        co.layers = [camLayer]
        co.view = .input
        co.panel = true
        co.metrics = false
        let features = [Embeddings.Feature.pooled(lm.model.architecture.embeddingLayer), .logits]
        var best: [[Prediction]] = [], cams: [any Figure] = [], tiles: [(layer: String, grid: TileGrid)] = []
        var embedded: [[Float]] = [[], []]                                 // (n·D), (n·K)
        for (k, image) in images.enumerated() {
            let x = ImageBatch.tensor([image])                               // (1, 3, S, S)
            let pass = try CAMPass(graph: graph, input: x)
            let (probabilities, classes) = Classify.predictions(pass.output, top, lm)   // (1, K), top classes
            try Finite.check(probabilities.data, "class probabilities", lm: lm, input: x, paths: [image.path])
            best += classes
            advance(1, "classification")
            for layer in k == 0 ? tileLayers : [] {
                let a = try pass.activations.output(layer)                   // (1, C, H, W)
                if a.rank == 4 { tiles.append((layer, try ActivationsJob.grid(a, layer: layer, options: ActivationsOptions()))) }
            }
            for (f, e) in try Embeddings.read(pass.activations, features: features).enumerated() { embedded[f] += e.data }   // (1, D)
            cams.append(try GradCAMJob.compute(lm, images: [image], options: co, pass: pass).figure)
            advance(1, "Grad-CAM \(k + 1)/\(n)")
        }

        html.heading("Classification")
        html.table(header: ["image"] + (1 ... top).map { "top \($0)" }, rows: zip(images, best).map { image, top in
            [HTMLPage.Cell(URL(fileURLWithPath: image.path).lastPathComponent)]
                + top.map { HTMLPage.Cell($0.label, note: "(\($0.index))", second: String(format: "%.1f%%", $0.probability * 100)) }
        })
        html.heading("Where the network looks: Grad-CAM @ \(camLayer)")
        for (image, cam) in zip(images, cams) {
            try html.figure(cam, caption: URL(fileURLWithPath: image.path).lastPathComponent, scale: o.scale)
        }
        html.heading("Activations of \(URL(fileURLWithPath: images[0].path).lastPathComponent)")
        for (layer, grid) in tiles { try html.figure(grid, caption: layer, scale: 1) }

        // Filter patterns, drawn in memory.
        if let layer = o.patternLayer, o.patternCount > 0 {
            let channels = try FilterPatterns.channelCount(lm.model.graph, layer: layer, size: patternSize)
            var po = PatternsOptions()
            po.layers = [layer]
            po.filters = Array(0 ..< min(o.patternCount, channels))
            po.size = patternSize
            let start = done
            let r = try PatternsJob.compute(lm, options: po) { p in
                progress?(Progress(done: start + patternUnits * Double(p.stepsDone) / Double(max(p.stepsTotal, 1)), total: total,
                                   stage: "filter patterns \(100 * p.stepsDone / max(p.stepsTotal, 1))%"))
            }
            advance(patternUnits, "filter patterns")
            html.heading("Filter patterns of \(layer)")
            try html.figure(r.figure, caption: "\(po.filters!.count) filters of \(layer), clear recipe", scale: r.scale)
        }

        // Correlation matrices of the pooled features and of the logits.
        if n >= 2 {
            html.heading("How the network relates the images")
            for (f, rows) in zip(features, embedded) {
                let e = Tensor(shape: [n, rows.count / n], data: rows)                   // (n, D)
                var p = CorrelateJob.matrixPlot(Correlation.matrix(e, e, metric: .pearson), rows: best.map { $0[0].label }, columns: [],
                                                title: "Pearson correlation of \(f.caption)", metric: .pearson)
                p.annotate = n <= 20
                try html.svg(p, caption: f.caption)
            }
            advance(0, "correlations")
        }
        let path = dir + "/index.html"
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw FileError(path: dir, message: "cannot create the report folder")
        }
        try AtomicFile.write(Array(html.finish().utf8), to: path)
        return path
    }

    /// Checks, before any work, that `dir` is a folder the report can go in, or a path where one can be made.
    /// - Throws: `FileError` naming `dir`: a file is in the way, or the nearest existing folder is not writable.
    static func checkFolder(_ dir: String) throws {
        var path = dir.isEmpty ? "." : dir
        var isDir: ObjCBool = false
        while !FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            let parent = (path as NSString).deletingLastPathComponent
            path = parent.isEmpty ? "." : parent
        }
        guard isDir.boolValue else {
            throw FileError(path: dir, message: path == dir ? "is a file, not a folder; --out names the folder for index.html"
                                                              : "cannot make the report folder: '\(path)' is a file")
        }
        guard access(path, W_OK | X_OK) == 0 else {
            throw FileError(path: dir, message: "cannot write to '\(path)': \(String(cString: strerror(errno)))")
        }
    }

    /// A layer in the middle of the network for the patterns section: fire4 for SqueezeNet, else the layer a
    /// third of the way through the block-level layers.
    public static func defaultPatternLayer(_ lm: LoadedModel) -> String? {
        guard let layers = try? ActivationsJob.tileLayers(lm.model.graph, input: lm.model.inputShape), !layers.isEmpty else { return nil }
        return layers.contains("fire4") ? "fire4" : layers[layers.count / 3]
    }
}
