import Analysis
import ArgumentParser
import ConvLens
import Engine
import Foundation

struct GradCAM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcam",
        abstract: "Draw class activation maps (Grad-CAM and its family) over images.",
        discussion: "Methods: \(CAMMethod.all.map(\.name).joined(separator: ", ")). By default the map is drawn over the whole photo "
            + "at its own resolution: over the region the model saw, with the rest (what a centre crop cut off) dimmed.")

    @Argument(help: "Images (PNG or JPEG); they run as one batch.") var images: [String]
    @OptionGroup var model: ModelOptions
    @OptionGroup var dataset: DatasetFlags
    @Option(help: ArgumentHelp("The method (default: gradcam).", valueName: "name"), transform: { try CAMMethod.named($0) })
    var method = CAMMethod.gradcam
    @Option(help: ArgumentHelp("Target layer; repeat for several, averaged (default: the architecture's last conv block, e.g. fire9).", valueName: "name"))
    var layer: [String] = []
    @Option(name: .customLong("class"), parsing: .upToNextOption,
            help: ArgumentHelp("The class to explain: one for all images or one per image (default: the top class).", valueName: "index"))
    var classes: [Int] = []
    @Option(help: ArgumentHelp("What to explain: class:C (a logit), prob:C, classes:C1,C2 (summed), sigmoid:I, output:I (a raw "
        + "output element), mask:C@FILE (class C over a PNG mask of a segmentation output); one for all images or one per image.",
        valueName: "kind:value"), transform: { try CAMTargetSpec(parsing: $0) })
    var target: [CAMTargetSpec] = []
    @Option(help: ArgumentHelp("Read a (tokens, channels) layer as an HxW grid of its last HxW tokens (ViT-style layouts).",
                               valueName: "HxW"), transform: { try CAMGrid(parsing: $0) })
    var reshape: CAMGrid?
    @Option(help: "Explain the K best classes of each image, side by side (dataset mode: K maps per image, (N, K, H, W)).")
    var top: Int?
    @Option(help: "Heatmap weight in the overlay, 0...1.") var alpha: Float = 0.4
    @Option(help: ArgumentHelp("Colormap of the heatmap (default: jet).", valueName: "name"), transform: { try Lookup.colormap($0) })
    var colormap = GradCAMOptions().colormap
    @Flag(help: "Draw input | heatmap | overlay with a caption; with --top K, the input once and then one overlay per class.")
    var panel = false
    @Option(help: ArgumentHelp("Draw over the whole photo (photo) or over the model's input, the crop (input).", valueName: "photo|input"))
    var view: GradCAMOptions.View = .photo
    @Option(help: ArgumentHelp("A title over the figure.", valueName: "text")) var title: String?
    @Option(help: ArgumentHelp("Output figure: .png, .svg or .pdf (default Reports/<image>_<method>.png).", valueName: "file"))
    var out: String?
    @Option(help: ArgumentHelp("Also save the maps at the model's input as float32 .npy: (H, W), or (N, H, W) for several.", valueName: "file.npy"))
    var raw: String?
    @Option(help: "PNG pixels per point (per photo pixel for a bare overlay); default 1 for a bare overlay, 2 otherwise.")
    var scale: Double?
    @Flag(help: "Print the results, with faithfulness figures, as JSON.") var json = false
    @Flag(help: "Skip the faithfulness figures (deletion/insertion curves).") var noMetrics = false
    @Flag(help: "Go on without images that cannot be read, and list them at the end.") var skipUnreadable = false

    var options: GradCAMOptions {
        var o = GradCAMOptions()
        o.method = method
        o.layers = layer
        o.targets = target.isEmpty ? classes.map { .value(.logit($0)) } : target
        o.reshape = reshape
        o.top = top ?? 1
        o.alpha = alpha
        o.colormap = colormap
        o.panel = panel
        o.view = view
        o.title = title
        o.out = out
        o.raw = raw
        o.scale = scale
        o.metrics = !noMetrics
        return o
    }

    func validate() throws {
        try validating { try GradCAMJob.check(options) }
        guard [top != nil, !classes.isEmpty, !target.isEmpty].filter({ $0 }).count <= 1 else {
            throw ValidationError("give one of --class, --target and --top")
        }
    }

    func run() throws {
        if dataset.active(images) { return try runDataset() }
        let lm = try model.load()
        let (batch, skipped) = try model.prepare(images, for: lm, keepPhotos: view == .photo, skipUnreadable: skipUnreadable)
        guard !batch.isEmpty else { throw ValidationError("no readable images") }
        let bar = ProgressBar.ifTerminal()
        let r = try GradCAMJob.run(lm, images: batch, options: options, progress: bar.map { b in { b.update(fraction: $0, $1) } })
        if json {
            print(try GradCAMJob.json(r))
        } else {
            for e in r.entries {
                let at = e.layers.isEmpty ? "" : " @ \(e.layers.joined(separator: "+"))"
                if let c = e.classIndex, let label = e.label, let p = e.probability {
                    print("\(e.image): \(label) (\(c)), p = \(String(format: "%.3f", p)), \(e.method)\(at)")
                } else if let t = e.target, let v = e.score {
                    print("\(e.image): \(t) = \(String(format: "%.4g", v)), \(e.method)\(at)")
                } else {
                    print("\(e.image): \(e.method)\(at) (no classifier: a class-free map)")
                }
                if let f = e.faithfulness {
                    print(String(format: "  faithfulness: drop removing top 20%% %.3f, drop keeping only top 20%% %.3f, deletion AUC %.3f, insertion AUC %.3f",
                                 f.dropRemovingTop20, f.dropKeepingTop20, f.deletionAUC, f.insertionAUC))
                }
            }
            print("wrote \(r.out)" + (r.raw.map { " and \($0)" } ?? ""))
        }
        for e in r.entries { e.warnings.forEach { warn("warning: \(e.image): \($0)") } }
        for (path, error) in skipped { warn("skipped \(path): \(error)") }
    }
}

extension GradCAMOptions.View: ExpressibleByArgument {}
