import ArgumentParser
import ConvLens

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write one self-contained HTML page: classification, Grad-CAM, activations, filter patterns, correlations.")

    @Argument(help: "Images (PNG or JPEG).") var images: [String]
    @OptionGroup var model: ModelOptions
    @Option(help: ArgumentHelp("Output folder; index.html goes in it.", valueName: "dir")) var out = "Reports/report"
    @Option(help: ArgumentHelp("A layer to show as activation tiles; repeat for several (default: the Grad-CAM layer).", valueName: "name"))
    var tiles: [String] = []
    @Option(help: ArgumentHelp("A layer whose filter patterns to show (default: a middle layer; 'none' to skip).", valueName: "name"))
    var patterns: String?
    @Flag(help: "Go on without images that cannot be read, and list them at the end.") var skipUnreadable = false

    func run() throws {
        let lm = try model.load()
        let (batch, skipped) = try model.prepare(images, for: lm, skipUnreadable: skipUnreadable)
        guard !batch.isEmpty else { throw ValidationError("no readable images") }
        var o = ReportJob.Options()
        o.tileLayers = tiles
        o.patternLayer = patterns == "none" ? nil : patterns ?? ReportJob.defaultPatternLayer(lm)
        let bar = ProgressBar.ifTerminal()
        print("wrote \(try ReportJob.run(lm, images: batch, dir: out, options: o, progress: bar.map { b in { b.update($0) } }))")
        for (path, error) in skipped { warn("skipped \(path): \(error)") }
    }
}
