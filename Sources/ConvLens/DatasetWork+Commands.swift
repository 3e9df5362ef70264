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
        if method.needsClass && o.targets.isEmpty { try lm.requireClassifier("gradcam --method \(method.name)") }
        let layers = o.layers.isEmpty ? [lm.model.architecture.camLayer] : o.layers
        let output = try GradCAMJob.checkLayers(layers, lm, input: RGBImage(width: lm.preprocessing.cropWidth, height: lm.preprocessing.cropSize),
                                                reshape: o.reshape)
        guard o.targets.count <= 1 else { throw UsageError("give one target in dataset mode; give per-image targets in a JSON Lines manifest") }
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
                           refusesTargets: top.map { "--top \($0) explains each image's \($0) best classes" }) { images, targets in
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
    /// layer, logits, probabilities or a layer's channels averaged over space.
    /// - Parameters:
    ///   - command: "embeddings" or "activations", which names the files.
    public static func embeddings(_ lm: LoadedModel, feature name: String, command: String = "embeddings") throws -> DatasetWork {
        let feature = try CorrelateJob.feature(name, lm)
        var keep: Set<String> = []
        if case let .pooled(layer) = feature { keep.insert(layer) }
        return DatasetWork(command: command, settings: ["feature": feature.caption], array: command) { images, targets in
            let x = ImageBatch.tensor(images)                                    // (n, 3, S, S)
            let out = try Embeddings.compute(lm.model.inference(keeping: keep), x, features: lm.hasClassifier ? [feature, .logits] : [feature])
            let e = out[0]                                                       // (n, D)
            try Finite.check(e.data, "embeddings", lm: lm, input: x, paths: images.map(\.path))
            var records: [DatasetRecord] = []
            let tops = lm.hasClassifier ? Classify.predictions(out[1], min(topClasses, lm.model.classes), lm).best : nil
            for (i, image) in images.enumerated() {
                records.append(DatasetRecord(path: image.path, config: "", target: targets[i]?.classIndex, top: tops?[i]))
            }
            return Batch(records: records, rows: e.data, rowShape: [e.shape[1]])
        }
    }

    /// A short, stable prefix for a path's figures: two images named alike in different folders stay apart.
    static func unique(_ path: String) -> String { String(Shard.hash(path), radix: 16) }
}
