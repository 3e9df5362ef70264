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
                DatasetRecord(path: r.image, config: "", target: t, top: r.top)
            })
        }
    }

    /// `gradcam`: one map per image, (H, W) at the model's input, for the manifest's target, the one `--class`, or
    /// the top class; with `figures`, an overlay per image in `<figures>/`.
    public static func gradcam(_ lm: LoadedModel, options o: GradCAMOptions, dataset d: DatasetOptions) throws -> DatasetWork {
        let method = try usage { try CAMMethod.named(o.method) }
        if method.needsClass { try lm.requireClassifier("gradcam --method \(method.name)") }
        let layers = o.layers.isEmpty ? [lm.model.architecture.camLayer] : o.layers
        try GradCAMJob.checkLayers(layers, lm, input: RGBImage(width: lm.preprocessing.cropWidth, height: lm.preprocessing.cropSize))
        guard o.classes.count <= 1 else { throw UsageError("--class takes one class in dataset mode; give per-image targets in a JSON Lines manifest") }
        let k = lm.model.classes
        for c in o.classes where c < 0 || c >= k {
            throw UsageError("class index \(c) is out of range: the model has \(k) classes (0…\(k - 1))")
        }
        let colormap = try Lookup.colormap(o.colormap)
        let settings = ["method": method.name, "layers": layers.joined(separator: "+"), "class": o.classes.first.map(String.init) ?? "top"]
        let figures = d.figures ? d.out.map { $0 + "/figures" } : nil
        return DatasetWork(command: "gradcam", settings: settings, array: "maps", keepPhotos: figures != nil && o.view == .photo) { images, targets in
            // A target out of range fails the batch; the run then isolates the image it belongs to.
            let asked: [Int?] = targets.map { $0 ?? o.classes.first }
            let x = ImageBatch.tensor(images)                                    // (n, 3, S, S)
            let tops = lm.hasClassifier ? try Classify.run(lm, images: images, top: min(topClasses, k)).map(\.top) : nil
            let res = try CAM.compute(method, graph: lm.model.inference(keeping: Set(layers)), input: x, layers: layers,
                                      classes: lm.hasClassifier ? asked : nil)
            if let bad = res.nonFinite.first {
                throw Finite.error("\(method.name) map at '\(bad.layer)'", lm: lm, input: x, row: bad.image, path: images[bad.image].path)
            }
            let (h, w) = (x.shape[2], x.shape[3])
            var out: [DatasetRecord] = []
            for (i, image) in images.enumerated() {
                let map = Array(res.maps.data[i * h * w ..< (i + 1) * h * w])     // (H, W)
                var faith: Faithfulness?
                if d.faithfulness && method.output == .map && lm.hasClassifier {
                    faith = try Faithfulness.measure(graph: lm.model.inference(), image: x.item(i), map: map, classIndex: res.classes[i])
                }
                if let figures {
                    let style = CAMFigure.Style(view: o.view, colormap: colormap, alpha: o.alpha, panel: false, title: nil)
                    let m = CAMFigure.Map(image: image, heat: map, side: (w, h), picture: nil, caption: "")
                    let name = URL(fileURLWithPath: image.path).deletingPathExtension().lastPathComponent
                    try ImageIO.writePNG(CAMFigure.blended(m, style), to: "\(figures)/\(Self.unique(image.path))-\(name)_\(method.name).png")
                }
                out.append(DatasetRecord(path: image.path, config: "", target: lm.hasClassifier ? res.classes[i] : nil, top: tops?[i],
                                         faithfulness: faith))
            }
            let rows = (method.output == .image ? res.images?.data : res.maps.data) ?? res.maps.data
            return Batch(records: out, rows: rows, rowShape: method.output == .image ? [h, w, 3] : [h, w])
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
            for (i, image) in images.enumerated() {
                var top: [Prediction]?
                if lm.hasClassifier {
                    let logits = out[1], k = logits.count / images.count           // (n, K)
                    let p = Softmax.rows(Tensor(shape: [1, k], data: Array(logits.data[i * k ..< (i + 1) * k])))  // (1, K)
                    top = Classify.best(p.data[...], min(topClasses, k), lm)
                }
                records.append(DatasetRecord(path: image.path, config: "", target: targets[i], top: top))
            }
            return Batch(records: records, rows: e.data, rowShape: [e.shape[1]])
        }
    }

    /// A short, stable prefix for a path's figures: two images named alike in different folders stay apart.
    static func unique(_ path: String) -> String { String(Shard.hash(path), radix: 16) }
}
