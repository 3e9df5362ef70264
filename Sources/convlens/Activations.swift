import ArgumentParser
import ConvLens
import Render

struct Activations: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw every channel of a layer (or of every layer) as a grid of tiles, or run hand-made kernels on an image.",
        discussion: "--kernel FILE.json runs hand-made kernels instead of a model.\n\n" + KernelDemo.help)

    enum Normalize: String, ExpressibleByArgument, CaseIterable {
        case minmax, standardize
        var scaling: Scaling { self == .minmax ? .minmax : .standardize }
    }

    @Argument(help: "An image (PNG or JPEG).") var image: String
    @OptionGroup var model: ModelOptions
    @OptionGroup var dataset: DatasetFlags
    @Option(help: ArgumentHelp("A layer to show; repeat for several.", valueName: "name")) var layer: [String] = []
    @Flag(help: "Every layer with spatial extent, one section each (the Keras book's recipe).") var all = false
    @Option(help: ArgumentHelp("Hand-made kernels (JSON, format above) to run on the image instead of a model.", valueName: "file.json"))
    var kernel: String?
    @Option(help: "Tiles per row (default 16, or 32 above 256 channels).") var perRow: Int?
    @Option(help: "Per-tile scaling: minmax, or standardize (x - mean, / std, x 64 + 128, clipped).") var normalize: Normalize = .minmax
    @Option(help: ArgumentHelp("Colormap of the tiles (default: viridis).", valueName: "name"), transform: { try Lookup.colormap($0) })
    var colormap = Colormap.viridis
    @Option(help: "each: every tile on its own colour scale; shared: one scale for a layer's whole map, with a colorbar.")
    var tileScale: TileScale = .each
    @Flag(help: "With several layers, write one file per layer instead of one tall page.") var split = false
    @Option(help: ArgumentHelp("Output figure: .png, .jpg, .svg or .pdf (default in Reports/); a page too tall for one file is split.", valueName: "file")) var out: String?
    @Option(help: ArgumentHelp("Save the layer's activations as float32 .npy, (C, H, W); with --kernel, every stage (above).",
                               valueName: "file.npy")) var raw: String?
    @Option(help: "PNG and JPEG pixels per point.") var scale: Double = 2
    @Flag(help: "Dataset mode: store each image's full maps of the layer, (N, C, H, W) per shard, instead of its channel means (N, C).")
    var fullMaps = false

    func validate() throws {
        let modes = (all ? 1 : 0) + (layer.isEmpty ? 0 : 1) + (kernel == nil ? 0 : 1)
        guard modes == 1 else { throw ValidationError("give exactly one of --layer, --all or --kernel") }
        try validating { try ActivationsJob.check(options) }
    }

    var options: ActivationsOptions {
        var o = ActivationsOptions()
        o.layers = layer
        o.all = all
        o.perRow = perRow
        o.normalize = normalize.scaling
        o.colormap = colormap
        o.tileScale = tileScale
        o.split = split
        o.out = out
        o.raw = raw
        o.scale = scale
        return o
    }

    func run() throws {
        if dataset.active([image]) {
            guard layer.count == 1, kernel == nil else {
                throw ValidationError("in dataset mode give one --layer: each image's channel means (or --full-maps) at it go to --out DIR")
            }
            return try dataset.run([image], model: model, out: out) { lm, d in
                try DatasetWork.embeddings(lm, feature: layer[0], command: "activations", fullMaps: fullMaps, dataset: d)
            }
        }
        guard !fullMaps else { throw ValidationError("--full-maps is for dataset mode (a folder or manifest of images); for one image, --raw FILE.npy saves (C, H, W)") }
        if let kernel {
            for path in try KernelDemo.run(image: image, kernelFile: kernel, out: out, raw: raw, perRow: perRow, colormap: colormap,
                                           scale: scale, maxPixels: model.maxPixels) { print("wrote \(path)") }
            return
        }
        let lm = try model.load()
        let prepared = try model.prepare([image], for: lm).images[0]
        for path in try ActivationsJob.run(lm, image: prepared, options: options) { print("wrote \(path)") }
        if let raw { print("wrote \(raw)") }
    }
}

extension TileScale: ExpressibleByArgument {}
