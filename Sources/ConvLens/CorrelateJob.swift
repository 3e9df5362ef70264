import Analysis
import Engine
import Foundation
import Imaging
import Render
import Support
import TensorIO

/// What to compute and draw for `convlens correlate`.
public struct CorrelateOptions {
    /// "pooled" (the architecture's embedding layer, globally averaged), "logits", "probabilities", or a layer name.
    public var feature = "pooled"
    public var metric = Correlation.Metric.pearson
    /// Reorder rows and columns by average-linkage clustering and draw the dendrogram.
    public var cluster = false
    /// Label images by file name (true) or their top-1 class (false); nil labels by class when the model has a
    /// classifier and by file name when it has not.
    public var labelByFile: Bool?
    /// Add the Julia walkthrough's figure: pooled and logit correlations side by side, with strip plots.
    public var walkthrough = false
    public var out: String?
    /// The matrix as float32 .npy, rows and columns in input order.
    public var raw: String?
    /// The embeddings as float32 .npy, (n, D) (or (n + m, D) with a second set), rows in input order.
    public var saveEmbeddings: String?
    public var scale = 2.0
    /// The matrix's colormap (a diverging one suits correlations in [-1, 1]).
    public var colormap = Colormap.rdbu
    /// A title over the figure instead of the default.
    public var title: String?
    public init() {}
}

/// What one `convlens correlate` run produced.
public struct CorrelateOutcome {
    /// (n, m) in input order.
    public let matrix: Tensor
    public let rows: EmbeddedSet
    /// The second set, when there is one.
    public let columns: EmbeddedSet?
    public let metric: Correlation.Metric
    /// "pooled fire9", "logits", …
    public let feature: String
    public let out: String
    public let raw: String?

    /// JSON text: {"out", "raw", "metric", "feature", "rows": [{"image", "label"}], "columns", "matrix": [[…]]}.
    public func json() throws -> String {
        struct Item: Codable { let image: String; let label: String }
        struct Document: Codable {
            let out: String; let raw: String?; let metric: String; let feature: String
            let rows: [Item]; let columns: [Item]?; let matrix: [[Float]]
        }
        func items(_ e: EmbeddedSet) -> [Item] { zip(e.paths, e.labels).map { Item(image: $0, label: $1) } }
        let m = matrix.shape[1]
        let doc = Document(out: out, raw: raw, metric: metric.rawValue, feature: feature, rows: items(rows), columns: columns.map(items),
                           matrix: (0 ..< matrix.shape[0]).map { Array(matrix.data[$0 * m ..< ($0 + 1) * m]) })
        return try Outputs.json(doc)
    }
}

/// The embeddings of a set of images and what to call each.
public struct EmbeddedSet {
    public let paths: [String]
    /// (n, D)
    public let embeddings: Tensor
    /// (n, K): kept only for the walkthrough figure.
    public let logits: Tensor?
    public let labels: [String]
}

/// `convlens correlate`: how a network relates a set of images (or two sets), as a labelled correlation matrix.
public enum CorrelateJob {
    /// Images per forward pass; embeddings are kept, activations are not, so memory stays bounded for any n.
    public static let batchSize = 8

    /// Resolves the feature option against the model; logits and probabilities need a classifier.
    public static func feature(_ name: String, _ lm: LoadedModel) throws -> Embeddings.Feature {
        switch name {
        case "pooled": return .pooled(lm.model.architecture.embeddingLayer)
        case "logits", "probabilities":
            try lm.requireClassifier("correlate --feature \(name)")
            return name == "logits" ? .logits : .probabilities
        default:
            _ = try usage { try lm.model.graph.index(of: name) }
            return .pooled(name)
        }
    }

    /// Embeds images in batches, decoding each batch just before it runs.
    public static func embed(_ lm: LoadedModel, paths: [String], feature: Embeddings.Feature, labelByFile: Bool,
                             keepLogits: Bool, maxPixels: Int, fit: Fit? = nil) throws -> EmbeddedSet {
        var rows: [Float] = [], logitRows: [Float] = [], labels: [String] = [], d = 0
        for start in stride(from: 0, to: paths.count, by: batchSize) {
            let chunk = Array(paths[start ..< min(start + batchSize, paths.count)])
            let images = try ImageBatch.prepare(chunk, lm.preprocessing, fit: fit, maxPixels: maxPixels).images
            let x = ImageBatch.tensor(images)
            let needLogits = keepLogits || !labelByFile
            var keep: Set<String> = []
            if case let .pooled(layer) = feature { keep.insert(layer) }
            let out = try Embeddings.compute(lm.model.inference(keeping: keep), x, features: needLogits ? [feature, .logits] : [feature])
            let e = out[0], logits = out.last!                                          // (b, D), (b, K)
            try Finite.check(e.data, "embeddings", lm: lm, input: x, paths: chunk)
            if needLogits { try Finite.check(logits.data, "logits", lm: lm, input: x, paths: chunk) }
            d = e.shape[1]
            rows += e.data
            if keepLogits { logitRows += logits.data }
            labels += labelByFile ? chunk.map { URL(fileURLWithPath: $0).lastPathComponent }
                                  : Classify.predictions(logits, 1, lm).best.map { $0[0].label }
        }
        return EmbeddedSet(paths: paths, embeddings: Tensor(shape: [paths.count, d], data: rows),
                           logits: keepLogits ? Tensor(shape: [paths.count, logitRows.count / max(paths.count, 1)], data: logitRows) : nil,
                           labels: labels)
    }

    /// Runs the job: every image is decoded once up front (failing on the first bad file before any work), then
    /// embedded in batches.
    /// - Parameters:
    ///   - fit: how images become the model's input; the preprocessing's default when nil.
    public static func run(_ lm: LoadedModel, images: [String], versus: [String], options o: CorrelateOptions,
                           maxPixels: Int = ImageIO.defaultMaxPixels, fit: Fit? = nil) throws -> CorrelateOutcome {
        let feature = try feature(o.feature, lm)
        if o.labelByFile == false { try lm.requireClassifier("correlate --label-by class") }
        if o.walkthrough { try lm.requireClassifier("correlate --walkthrough") }
        let labelByFile = o.labelByFile ?? !lm.hasClassifier
        try OptionLimits.scale.check(o.scale)
        let out = try Outputs.figurePath(o.out, or: Environment.defaultOutput(for: images[0], suffix: "correlation"),
                                         with: [("--raw", o.raw), ("--save-embeddings", o.saveEmbeddings)])
        try MemoryBudget.check(try estimate(lm, feature: feature, n: images.count, m: versus.count),
                               "correlate of \(images.count + versus.count) images", hint: "try fewer images at once")
        for path in images + versus { _ = try ImageIO.read(path, maxPixels: maxPixels) }
        let a = try embed(lm, paths: images, feature: feature, labelByFile: labelByFile, keepLogits: o.walkthrough, maxPixels: maxPixels, fit: fit)
        let b = versus.isEmpty ? a : try embed(lm, paths: versus, feature: feature, labelByFile: labelByFile,
                                               keepLogits: false, maxPixels: maxPixels, fit: fit)
        let m = Correlation.matrix(a.embeddings, b.embeddings, metric: o.metric)     // (n, m), input order
        let title = o.title ?? "\(o.metric.rawValue) correlation of \(feature.caption) · \(lm.model.name)"
        var plot = matrixPlot(m, rows: a.labels, columns: versus.isEmpty ? [] : b.labels, title: title, metric: o.metric,
                              colormap: o.colormap)
        if o.cluster {
            if versus.isEmpty {
                let merges = Clustering.averageLinkage(m.data.map { 1 - $0 }, n: m.shape[0])
                plot.dendrogram = merges.map { ($0.a, $0.b, $0.height) }
            } else {
                plot.rowOrder = order(Correlation.matrix(a.embeddings, a.embeddings, metric: o.metric))
                plot.columnOrder = order(Correlation.matrix(b.embeddings, b.embeddings, metric: o.metric))
            }
        }
        var figure: any Figure = plot
        if o.walkthrough, let logits = a.logits {
            let lc = Correlation.matrix(logits, logits, metric: o.metric)
            let lplot = matrixPlot(lc, rows: a.labels, columns: [], title: "\(o.metric.rawValue) correlation of logits", metric: o.metric,
                                   colormap: o.colormap)
            let strips = [StripPlot(items: zip(a.labels, rows(a.embeddings)).map { ($0, $1) }, title: feature.caption),
                          StripPlot(items: zip(a.labels, rows(logits)).map { ($0, $1) }, title: "logits")]
            if o.title != nil { plot.title = "\(o.metric.rawValue) correlation of \(feature.caption)" }
            figure = Panels(rows: [[plot, lplot], [strips[0]], [strips[1]]], title: o.title ?? "\(lm.model.name): how the network relates these images")
        }
        try Outputs.writeFigure(figure, to: out, scale: o.scale)
        if let raw = o.raw { try NPY.write(TensorData(shape: m.shape, values: m.data), to: raw) }
        if let path = o.saveEmbeddings {
            let all = versus.isEmpty ? a.embeddings : Tensor(shape: [a.paths.count + b.paths.count, a.embeddings.shape[1]],
                                                             data: a.embeddings.data + b.embeddings.data)
            try NPY.write(TensorData(shape: all.shape, values: all.data), to: path)
        }
        return CorrelateOutcome(matrix: m, rows: a, columns: versus.isEmpty ? nil : b, metric: o.metric, feature: feature.caption,
                                out: out, raw: o.raw)
    }

    /// The peak bytes of a run: a batch's forward pass, the embeddings, and the matrix with its clustering.
    static func estimate(_ lm: LoadedModel, feature: Embeddings.Feature, n: Int, m: Int) throws -> Int {
        let shape = lm.model.inputShape
        let pass = try MemoryBudget.activationBytes(lm.model.graph, input: shape)
        var d = lm.model.classes
        if case let .pooled(layer) = feature, let i = try? lm.model.graph.index(of: layer), i >= 0 {
            d = try lm.model.graph.shapes(input: shape)[i].dropFirst().first ?? d
        }
        let cols = m == 0 ? n : m
        return batchSize.multipliedSaturating(pass).addingSaturating((n + m).multipliedSaturating(d * 4))
            .addingSaturating(n.multipliedSaturating(cols).multipliedSaturating(4 * 4))
    }

    static func matrixPlot(_ m: Tensor, rows: [String], columns: [String], title: String, metric: Correlation.Metric,
                           colormap: Colormap = .rdbu) -> MatrixPlot {
        var p = MatrixPlot(values: m.data, rows: m.shape[0], columns: m.shape[1], rowLabels: rows, columnLabels: columns)
        p.colormap = colormap
        p.range = .correlation
        p.title = title
        p.colorbarLabel = metric.rawValue
        return p
    }

    /// The dendrogram leaf order of a set from its own (n, n) similarity matrix.
    static func order(_ s: Tensor) -> [Int] {
        Clustering.leafOrder(Clustering.averageLinkage(s.data.map { 1 - $0 }, n: s.shape[0]), n: s.shape[0])
    }

    static func rows(_ t: Tensor) -> [[Float]] {
        let d = t.shape[1]
        return (0 ..< t.shape[0]).map { Array(t.data[$0 * d ..< ($0 + 1) * d]) }
    }
}
