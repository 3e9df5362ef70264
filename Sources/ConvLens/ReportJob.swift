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

    /// Writes `dir/index.html` and returns its path.
    public static func run(_ lm: LoadedModel, images: [PreparedImage], dir: String, options o: Options = Options()) throws -> String {
        let tileLayers = o.tileLayers.isEmpty ? [lm.model.architecture.camLayer] : o.tileLayers
        for l in tileLayers + [o.patternLayer].compactMap({ $0 }) { _ = try usage { try lm.model.graph.index(of: l) } }
        let keep = Set(tileLayers + [lm.model.architecture.camLayer, lm.model.architecture.embeddingLayer])
        let graph = lm.model.inference(keeping: keep)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var html = Page(title: "ConvLens report · \(lm.model.name)")
        html.paragraph("Model <b>\(esc(lm.model.name))</b> (\(esc(lm.model.architecture.layout)) layout, weights \(esc(lm.model.source))), "
            + "input \(lm.model.inputShape.dropFirst().map(String.init).joined(separator: "×")), preprocessing \(esc(lm.preprocessing.name)).")

        // Classification.
        let results = try Classify.run(lm, images: images, top: min(o.top, lm.model.classes))
        html.heading("Classification")
        var table = "<table><tr><th>image</th>" + (1 ... min(o.top, lm.model.classes)).map { "<th>top \($0)</th>" }.joined() + "</tr>"
        for r in results {
            table += "<tr><td>\(esc(URL(fileURLWithPath: r.image).lastPathComponent))</td>"
                + r.top.map { "<td>\(esc($0.label)) <span class=dim>(\($0.index))</span><br>\(String(format: "%.1f%%", $0.probability * 100))</td>" }.joined()
                + "</tr>"
        }
        html.raw(table + "</table>")

        // Grad-CAM, one panel per image.
        html.heading("Where the network looks: Grad-CAM @ \(esc(lm.model.architecture.camLayer))")
        var camOptions = GradCAMOptions()
        camOptions.panel = true
        camOptions.metrics = false
        for image in images {
            let x = ImageBatch.tensor([image])
            let cam = try CAM.compute(.gradcam, graph: graph, input: x, layers: [lm.model.architecture.camLayer])
            let c = cam.classes[0]
            var overlay = Overlay(image: image.crop, heat: Heatmap(width: x.shape[3], height: x.shape[2], values: cam.maps.data),
                                  caption: "\(lm.label(c)) (\(c))  p = \(String(format: "%.3f", cam.probabilities[0]))  ·  gradcam @ \(lm.model.architecture.camLayer)")
            overlay.panel = true
            try html.figure(overlay, caption: URL(fileURLWithPath: image.path).lastPathComponent, scale: o.scale)
        }

        // Activation tiles of the chosen layers, for the first image.
        html.heading("Activations of \(esc(URL(fileURLWithPath: images[0].path).lastPathComponent))")
        let acts = try graph.forward(ImageBatch.tensor([images[0]]))
        for layer in tileLayers {
            let a = try acts.output(layer)
            guard a.rank == 4 else { continue }
            var g = TileGrid(values: a.data, count: a.shape[1], height: a.shape[2], width: a.shape[3], columns: a.shape[1] > 256 ? 32 : 16)
            g.title = "\(layer) · \(a.shape[1])×\(a.shape[2])×\(a.shape[3])"
            try html.figure(g, caption: layer, scale: 1)
        }

        // Filter patterns (the clear recipe at 96 px, to keep the report quick).
        if let layer = o.patternLayer, o.patternCount > 0 {
            let channels = try FilterPatterns.channelCount(lm.model.graph, layer: layer, size: 96)
            var po = PatternsOptions()
            po.layers = [layer]
            po.filters = Array(0 ..< min(o.patternCount, channels))
            po.size = 96
            po.out = dir + "/.patterns-\(getpid()).png"
            let r = try PatternsJob.run(lm, options: po)
            defer { try? FileManager.default.removeItem(atPath: r.out) }
            html.heading("Filter patterns of \(esc(layer))")
            html.png(try Data(contentsOf: URL(fileURLWithPath: r.out)), caption: "\(po.filters!.count) filters of \(layer), clear recipe")
        }

        // Correlation matrices of the pooled features and of the logits.
        if images.count >= 2 {
            html.heading("How the network relates the images")
            let x = ImageBatch.tensor(images)
            let feature = Embeddings.Feature.pooled(lm.model.architecture.embeddingLayer)
            let out = try Embeddings.compute(graph, x, features: [feature, .logits])
            let labels = results.map { $0.top[0].label }
            for (name, e) in [(feature.caption, out[0]), ("logits", out[1])] {
                var p = CorrelateJob.matrixPlot(Correlation.matrix(e, e, metric: .pearson), rows: labels, columns: [],
                                                title: "Pearson correlation of \(name)", metric: .pearson)
                p.annotate = images.count <= 20
                try html.svg(p, caption: name)
            }
        }
        let path = dir + "/index.html"
        try AtomicFile.write(Array(html.finish().utf8), to: path)
        return path
    }

    /// A layer in the middle of the network for the patterns section: fire4 for SqueezeNet, else the layer a
    /// third of the way through the block-level layers.
    public static func defaultPatternLayer(_ lm: LoadedModel) -> String? {
        guard let layers = try? ActivationsJob.tileLayers(lm.model.graph, input: lm.model.inputShape), !layers.isEmpty else { return nil }
        return layers.contains("fire4") ? "fire4" : layers[layers.count / 3]
    }

    /// Escapes text for HTML.
    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// The page being written.
    struct Page {
        var body = ""
        let title: String
        init(title: String) { self.title = title }
        mutating func heading(_ s: String) { body += "<h2>\(s)</h2>\n" }
        mutating func paragraph(_ s: String) { body += "<p>\(s)</p>\n" }
        mutating func raw(_ s: String) { body += s + "\n" }
        /// A figure as an inline base64 PNG.
        mutating func figure(_ f: any Figure, caption: String, scale: Double) throws {
            let png = try FigureWriter.render(f, format: .png, scale: scale)
            body += "<figure><img alt=\"\(esc(caption))\" width=\"\(Int(f.size.width))\" src=\"data:image/png;base64,\(Data(png).base64EncodedString())\">"
                + "<figcaption>\(esc(caption))</figcaption></figure>\n"
        }
        /// An already rendered PNG, inline.
        mutating func png(_ data: Data, caption: String) {
            body += "<figure><img alt=\"\(esc(caption))\" src=\"data:image/png;base64,\(data.base64EncodedString())\">"
                + "<figcaption>\(esc(caption))</figcaption></figure>\n"
        }
        /// A figure as inline SVG.
        mutating func svg(_ f: any Figure, caption: String) throws {
            var text = String(decoding: try FigureWriter.render(f, format: .svg, scale: 1), as: UTF8.self)
            if let start = text.range(of: "<svg") { text = String(text[start.lowerBound...]) }      // drop the XML prolog
            body += "<figure>\(text)<figcaption>\(esc(caption))</figcaption></figure>\n"
        }
        func finish() -> String {
            """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(esc(title))</title>
            <style>
            body { font-family: "DejaVu Sans", sans-serif; margin: 2em auto; max-width: 1600px; color: #222; }
            h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
            table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: 4px 8px; text-align: left; }
            .dim { color: #888; } figure { display: inline-block; margin: 0.5em; vertical-align: top; }
            figure img, figure svg { max-width: 100%; height: auto; } figcaption { color: #555; font-size: 0.9em; }
            </style></head>
            <body><h1>\(esc(title))</h1>
            \(body)
            <pre id="render-check"></pre>
            <script>
            // Self-check for headless browsers: how many figures rendered.
            window.addEventListener("load", () => {
              const imgs = [...document.images], svgs = [...document.querySelectorAll("figure > svg")];
              const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length + svgs.filter(s => s.getBBox().width > 0).length;
              document.getElementById("render-check").textContent = `rendered ${ok} of ${imgs.length + svgs.length} figures`;
            });
            </script>
            </body></html>
            """
        }
    }
}
