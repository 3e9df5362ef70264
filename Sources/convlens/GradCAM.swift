import ArgumentParser
import ConvLens

struct GradCAM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcam", abstract: "Draw a class activation map (Grad-CAM) over an image.")

    @Argument(help: "An image (PNG or JPEG).") var image: String
    @OptionGroup var model: ModelOptions
    @Option(help: ArgumentHelp("Target layer (default: the architecture's last conv block, e.g. fire9).", valueName: "name"))
    var layer: [String] = []
    @Option(name: .customLong("class"), help: ArgumentHelp("The class to explain (default: the top class).", valueName: "index"))
    var classIndex: Int?
    @Option(help: "Heatmap weight in the overlay, 0...1.") var alpha: Float = 0.4
    @Option(help: ArgumentHelp("Output figure: .png, .svg or .pdf (default Reports/<image>_gradcam.png).", valueName: "file"))
    var out: String?
    @Option(help: ArgumentHelp("Also save the map as float32 .npy, (H, W).", valueName: "file.npy")) var raw: String?

    func validate() throws {
        guard (0 ... 1).contains(alpha) else { throw ValidationError("--alpha must be between 0 and 1") }
    }

    func run() throws {
        let lm = try model.load()
        let prepared = try ImageBatch.prepare([image], lm.preprocessing, maxPixels: model.maxPixels).images[0]
        var o = GradCAMOptions()
        o.layers = layer
        o.classIndex = classIndex
        o.alpha = alpha
        o.out = out
        o.raw = raw
        let r = try GradCAMJob.run(lm, image: prepared, options: o)
        print("\(r.image): \(r.label) (\(r.classIndex)), p = \(String(format: "%.3f", r.probability)), layer \(r.layers.joined(separator: "+"))")
        print("wrote \(r.out)" + (r.raw.map { " and \($0)" } ?? ""))
        r.warnings.forEach { warn("warning: \($0)") }
    }
}
