import Analysis
import ArgumentParser
import ConvLens

struct Dream: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "DeepDream: amplify what some layers see in a photo, at the photo's size (the Keras example).",
        discussion: "Octaves from small to full size, gradient steps normalised by their mean absolute value, the detail lost by "
            + "shrinking put back after each octave, and a clip to valid pixels. Without --layer, the layers come from the model "
            + "(its blocks at a stride near 16, weighted 1, 1.5, 2, 2.5, as Keras weights InceptionV3's mixed4 to mixed7).\n\n"
            + ObjectiveSpec.help)

    @Argument(help: "The photo (PNG or JPEG).") var image: String
    @OptionGroup var model: ModelOptions
    @Option(help: ArgumentHelp("A layer whose activations to amplify (its mean squared activation); repeat or separate with commas.", valueName: "name"))
    var layer: [String] = []
    @Option(help: ArgumentHelp("An objective instead of the layers' norms, e.g. \"l2(fire7) + 2*fire8:12\" (grammar below).", valueName: "expr"))
    var objective: String?
    @Option(help: "Scales to dream at, each --octave-scale times smaller than the next.") var octaves: Int = 3
    @Option(help: "Size ratio between octaves.") var octaveScale: Double = 1.4
    @Option(help: "Ascent steps per octave.") var steps: Int = 20
    @Option(help: "The mean change of a pixel per step, in [0, 1] units (Keras's 0.01 on InceptionV3's [-1, 1] input is 0.005).")
    var stepSize: Double = 0.005
    @Option(help: "Dream on the photo resized to this longer side, in pixels (default: the photo's own size).") var size: Int?
    @Option(help: ArgumentHelp("A title over the image (then drawn with margins and the objective as caption).", valueName: "text"))
    var title: String?
    @Option(help: ArgumentHelp("Output: .png or .jpg (the dream, pixel for pixel), .svg or .pdf (default Reports/<image>_dream.png).", valueName: "file"))
    var out: String?

    var options: DreamOptions {
        var o = DreamOptions()
        o.layers = layer.flatMap { $0.split(separator: ",").map(String.init) }
        o.objective = objective
        o.settings = DeepDream.Settings(octaves: octaves, octaveScale: Float(octaveScale), steps: steps, stepSize: Float(stepSize))
        o.size = size
        o.title = title
        o.out = out
        return o
    }

    func validate() throws {
        try validating {
            try DreamJob.check(options)
            if let objective { _ = try Patterns.checkSyntax(objective) }
        }
    }

    func run() throws {
        let lm = try model.load()
        let bar = ProgressBar.ifTerminal()
        let r = try DreamJob.run(lm, path: image, options: options, maxPixels: model.maxPixels) { done, total in
            bar?.update(done: Double(done), total: Double(total), what: "\(done)/\(total) steps")
        }
        print("dreamt \(r.objective) on a \(r.width)x\(r.height) image in " + String(format: "%.1f s", r.seconds))
        print("wrote \(r.out)")
    }
}
