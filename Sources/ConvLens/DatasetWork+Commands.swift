import Analysis
import Engine
import Foundation
import Imaging
import Render
import Support

/// The dataset commands: what each computes per batch, by the same library calls as the one-image commands.
extension DatasetWork {
    /// How many classes each index line lists.
    public static let topClasses = 5

    /// `classify`: the top classes of each image.
    public static func classify(_ lm: LoadedModel, top: Int) throws -> DatasetWork {
        try lm.requireClassifier("classify")
        try OptionLimits.top.check(top, upper: lm.model.classes)
        return DatasetWork(command: "classify", settings: ["top": "\(top)"], array: nil) { images, targets in
            let results = try Classify.run(lm, images: images, top: top)          // one per image
            return Batch(records: zip(results, targets).map { r, t in
                DatasetRecord(path: r.image, config: "", target: t?.classIndex, top: r.top)
            })
        }
    }

    /// `gradcam`: one map per image, (H, W) at the model's input, for the manifest's target, the one `--class`, or
    /// the top class; with `top` K, the K best classes' maps, (K, H, W), from one forward and K backward passes.
    /// With `figures`, an overlay per map in `<figures>/`.
    public static func gradcam(_ lm: LoadedModel, options o: GradCAMOptions, dataset d: DatasetOptions, top: Int? = nil) throws -> DatasetWork {
        let method = o.method
        let layers = o.layers.isEmpty ? [lm.model.architecture.camLayer] : o.layers
        let output = try GradCAMJob.checkLayers(layers, lm, input: RGBImage(width: lm.preprocessing.cropWidth, height: lm.preprocessing.cropSize),
                                                reshape: o.reshape)
        guard o.targets.count <= 1 else { throw UsageError("give one target in dataset mode; give per-image targets in a JSON Lines manifest") }
        var needsTargets: String?                        // a model without a classifier has no top class to explain
        if method.needsClass && o.targets.isEmpty && top == nil {
            do { try lm.requireClassifier("gradcam --method \(method.name)") } catch { needsTargets = "\(error)" }
        }
        if let top {
            try lm.requireClassifier("--top")
            try OptionLimits.top.check(top, upper: lm.model.classes)
            guard o.targets.isEmpty else { throw UsageError("give one of --class, --target and --top") }
            guard !d.faithfulness else { throw UsageError("--faithfulness measures one map per image; drop --top or --faithfulness") }
        }
        let given = try o.targets.first?.resolve()                           // a mask file is read here
        if let given { try usage { try given.check(output: output) } }
        let colormap = o.colormap
        var settings = ["method": method.name, "layers": layers.joined(separator: "+"), "class": given?.description ?? "top",
                        "reshape": o.reshape.map { "\($0.height)x\($0.width)" } ?? ""]
        if let top { settings["top"] = "\(top)" }
        let figures = d.figures ? d.out.map { $0 + "/figures" } : nil
        return DatasetWork(command: "gradcam", settings: settings, array: "maps", keepPhotos: figures != nil && o.view == .photo,
                           checkTarget: { try $0.check(output: output) },
                           refusesTargets: top.map { "--top \($0) explains each image's \($0) best classes" },
                           needsTargets: needsTargets) { images, targets in
            // A target out of range fails the batch; the run then isolates the image it belongs to.
            let x = ImageBatch.tensor(images)                                    // (n, 3, S, S)
            let pass = try CAMPass(graph: lm.model.inference(keeping: Set(layers)), input: x, reshape: o.reshape)
            try Finite.check(pass.output.data, "logits", lm: lm, input: x, paths: images.map(\.path))
            let tops = lm.hasClassifier ? Classify.predictions(pass.output, min(topClasses, lm.model.classes), lm).best : nil
            let ranks: [[CAMTarget]] = try top.map { try pass.top($0) } ?? [{     // (K, n): one backward pass per rank
                let best = try pass.top(1)[0]                                    // (n)
                return targets.indices.map { i in targets[i] ?? given ?? best[i] }
            }()]
            let results = try ranks.map { asked in
                let res = try pass.explain(method, layers: layers, targets: asked)
                if let bad = res.nonFinite.first {
                    throw Finite.error("\(method.name) map at '\(bad.layer)'", lm: lm, input: x, row: bad.image, path: images[bad.image].path)
                }
                return res
            }
            let (h, w) = (x.shape[2], x.shape[3])
            let size = h * w * (method.output == .image ? 3 : 1)
            var out: [DatasetRecord] = [], rows: [Float] = []                   // rows: (n, K, H, W) or (n, H, W), image-major
            for (i, image) in images.enumerated() {
                for res in results {
                    rows += ((method.output == .image ? res.images?.data : nil) ?? res.maps.data)[i * size ..< (i + 1) * size]
                    let map = Array(res.maps.data[i * h * w ..< (i + 1) * h * w])     // (H, W)
                    guard let figures else { continue }
                    let style = CAMFigure.Style(view: o.view, colormap: colormap, alpha: o.alpha, panel: false, title: nil)
                    let m = CAMFigure.Map(image: image, heat: map, side: (w, h), picture: nil, caption: "")
                    let name = URL(fileURLWithPath: image.path).deletingPathExtension().lastPathComponent
                    let rank = top == nil ? "" : "_\(res.classes[i].map(String.init) ?? "")"
                    try ImageIO.writePNG(CAMFigure.blended(m, style), to: "\(figures)/\(Self.unique(image.path))-\(name)_\(method.name)\(rank).png")
                }
                var faith: Faithfulness?
                if d.faithfulness && method.output == .map && lm.hasClassifier {
                    let map = Array(results[0].maps.data[i * h * w ..< (i + 1) * h * w])     // (H, W)
                    faith = try Faithfulness.measure(CAMRerun(graph: lm.model.inference()), image: x.item(i), map: map, target: results[0].targets[i])
                }
                out.append(DatasetRecord(path: image.path, config: "", target: top == nil ? results[0].classes[i] : nil,
                                         classes: top == nil ? nil : results.compactMap { $0.classes[i] }, top: tops?[i], faithfulness: faith))
            }
            let shape = [h, w] + (method.output == .image ? [3] : [])
            return Batch(records: out, rows: rows, rowShape: top.map { [$0] + shape } ?? shape)
        }
    }

    /// Correlate's embeddings (and activations' channel means): one vector per image, (D): the pooled embedding
    /// layer, logits, probabilities or a layer's channels averaged over space; with `fullMaps`, the layer's whole
    /// output per image instead, (C, H, W) for a convolution.
    /// - Parameters:
    ///   - command: "embeddings" or "activations", which names the files.
    ///   - fullMaps: store the layer's full maps; the memory of one batch is checked against `MemoryBudget` here,
    ///     and the run checks that the shard fits on disk.
    ///   - d: the run's batch size and passes, for that check.
    public static func embeddings(_ lm: LoadedModel, feature name: String, command: String = "embeddings", fullMaps: Bool = false,
                                  dataset d: DatasetOptions = DatasetOptions()) throws -> DatasetWork {
        let feature = fullMaps ? Embeddings.Feature.maps(name) : try CorrelateJob.feature(name, lm)
        let rowBytes = fullMaps ? try mapBytes(lm, layer: name, dataset: d) : nil
        let keep = Set(feature.layer.map { [$0] } ?? [])
        return DatasetWork(command: command, settings: ["feature": feature.caption], array: command, rowBytes: rowBytes) { images, targets in
            let x = ImageBatch.tensor(images)                                    // (n, 3, S, S)
            let out = try Embeddings.compute(lm.model.inference(keeping: keep), x, features: lm.hasClassifier ? [feature, .logits] : [feature])
            let e = out[0]                                                       // (n, D), or (n, C, H, W) with fullMaps
            try Finite.check(e.data, fullMaps ? "activations at '\(name)'" : "embeddings", lm: lm, input: x, paths: images.map(\.path))
            var records: [DatasetRecord] = []
            let tops = lm.hasClassifier ? Classify.predictions(out[1], min(topClasses, lm.model.classes), lm).best : nil
            for (i, image) in images.enumerated() {
                records.append(DatasetRecord(path: image.path, config: "", target: targets[i]?.classIndex, top: tops?[i]))
            }
            return Batch(records: records, rows: e.data, rowShape: Array(e.shape.dropFirst()))
        }
    }

    /// The bytes of one image's full maps at `layer`, after checking that a batch of them fits the memory budget.
    /// - Throws: a `UsageError` naming an unknown layer, or saying what a batch would need and what to change.
    static func mapBytes(_ lm: LoadedModel, layer: String, dataset d: DatasetOptions) throws -> Int {
        let g = lm.model.graph, input = [1, 3, lm.preprocessing.cropSize, lm.preprocessing.cropWidth]
        let index = try usage { try g.index(of: layer) }
        let shape = index < 0 ? input : try g.shapes(input: input, through: index)[index]            // (1, C, H, W)
        let row = MemoryBudget.elements(Array(shape.dropFirst())).multipliedSaturating(4)
        // One pass's activations (through the logits, for the top classes), and the batch's maps three times over:
        // as computed, gathered for the part, and copied into the part's array.
        let pass = [d.batchedPasses ? d.batch : 1] + input.dropFirst()
        let forward = try MemoryBudget.activationBytes(g, input: pass, upTo: lm.hasClassifier ? nil : layer)
        try MemoryBudget.check(forward.addingSaturating(row.multipliedSaturating(3 * d.batch)),
                               "activations --full-maps at '\(layer)' (\(MemoryBudget.format(row)) an image) with --batch-size \(d.batch)",
                               hint: "try a smaller --batch-size or a layer with smaller maps")
        return row
    }

    /// A short, stable prefix for a path's figures: two images named alike in different folders stay apart.
    static func unique(_ path: String) -> String { String(Shard.hash(path), radix: 16) }
}
