import Analysis
import ArgumentParser
import ConvLens
import Foundation

struct Style: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Style transfer (Gatys et al.): one photo's content in another's style, by L-BFGS from the content photo.",
        discussion: "It minimises style-weight · (mean over the style layers of each Gram matrix's squared error relative to the "
            + "style photo's) + content-weight · (the content layer's squared error relative to the content photo's) + tv-weight · "
            + "(the image's total variation). Without --style-layers and --content-layer the model's own are used: on VGG19 the "
            + "paper's (conv1_1 ... conv5_1, conv4_2), elsewhere the first block after each downsampling and the second block of "
            + "the fourth stage. The style photo is squashed to the result's size, as in the Keras example.")

    enum Start: String, ExpressibleByArgument, CaseIterable { case content, noise }

    @Argument(help: "The content photo (PNG or JPEG).") var content: String
    @Argument(help: "The style photo.") var style: String
    @OptionGroup var model: ModelOptions
    @Option(help: ArgumentHelp("The layer whose features the result keeps (default: the model's, e.g. features.22 on VGG19).", valueName: "name"))
    var contentLayer: String?
    @Option(help: ArgumentHelp("The layers whose Gram matrices the result matches, separated by commas.", valueName: "l1,l2,..."))
    var styleLayers: String?
    @Option(help: "Weight of the style loss.") var styleWeight: Double = 30
    @Option(help: "Weight of the content loss.") var contentWeight: Double = 1
    @Option(help: "Weight of the image's total variation (smoothness).") var tvWeight: Double = 10
    @Option(help: "Iterations of the optimiser.") var steps: Int = 200
    @Option(help: "lbfgs (Gatys's, the default) or adam (lr 0.01 in [0, 1] pixel units), for comparison.")
    var method: StyleTransfer.Method = .lbfgs
    @Option(help: "The result's longer side, in pixels.") var size: Int = 256
    @Option(help: "Start from the content photo or from white noise (seeded by --seed).") var start: Start = .content
    @Option(help: "Random seed of the noise start; the same seed gives the same image.") var seed: UInt64 = 0
    @Flag(help: "Draw content | style | result with the losses, instead of the result alone.") var panel = false
    @Option(help: ArgumentHelp("A title over the figure.", valueName: "text")) var title: String?
    @Option(help: ArgumentHelp("Output: .png or .jpg, .svg or .pdf (default Reports/<content>_style.png).", valueName: "file"))
    var out: String?
    @Flag(help: "Print the settings and the loss curve (style, content, tv and total at the start and after every step) as JSON.")
    var json = false

    var options: StyleOptions {
        var o = StyleOptions()
        o.contentLayer = contentLayer
        o.styleLayers = styleLayers.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        (o.styleWeight, o.contentWeight, o.tvWeight) = (Float(styleWeight), Float(contentWeight), Float(tvWeight))
        o.steps = steps
        o.method = method
        o.size = size
        o.noise = start == .noise
        o.seed = seed
        o.panel = panel
        o.title = title
        o.out = out
        return o
    }

    func validate() throws {
        try validating { try StyleJob.check(options) }
        if let s = styleLayers, s.split(separator: ",", omittingEmptySubsequences: false).contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) || s.isEmpty {
            throw ValidationError("--style-layers takes layer names separated by commas, got '\(s)'")
        }
    }

    func run() throws {
        let lm = try model.load()
        let bar = ProgressBar.ifTerminal()
        let r = try StyleJob.run(lm, content: content, style: style, options: options, maxPixels: model.maxPixels) { done, total, l in
            bar?.update(done: Double(done), total: Double(total), what: String(format: "step %d/%d, style %.3g, content %.3g", done, total, l.style, l.content))
        }
        if json { print(try r.json()); return }
        print(String(format: "style loss %.4g → %.4g (%.1fx lower), content loss %.4g (the style photo's: %.4g), in %.1f s", r.start.style,
                     r.final.style, r.start.style / max(r.final.style, 1e-30), r.final.content, r.result.styleContentLoss, r.seconds))
        print("wrote \(r.out)")
    }
}

extension StyleTransfer.Method: ExpressibleByArgument {}
