import ArgumentParser
import ConvLens

struct GramCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gram",
        abstract: "Draw each image's Gram matrix at a layer (its style statistics) and the style distances between the images.",
        discussion: "The Gram matrix of a layer's C channels over its M positions is F·Fᵀ / M (Gatys et al., 2015). The distance "
            + "between two images is Σ(Gᵢ − Gⱼ)² over the mean of Σ Gᵢ² and Σ Gⱼ²: 0 for the same statistics, up to 2.")

    @Argument(help: "Images (PNG or JPEG), each seen as the model sees it.") var images: [String]
    @OptionGroup var model: ModelOptions
    @Option(help: ArgumentHelp("The layer whose Gram matrices to take.", valueName: "name")) var layer: String
    @Option(help: ArgumentHelp("A title over the figure.", valueName: "text")) var title: String?
    @Option(help: ArgumentHelp("Output figure: .png, .jpg, .svg or .pdf (default Reports/<first image>_gram_<layer>.png).", valueName: "file"))
    var out: String?
    @Option(help: ArgumentHelp("Also save the Gram matrices as float32 .npy, (n, C, C), in input order.", valueName: "file.npy"))
    var raw: String?
    @Option(help: "PNG pixels per point.") var scale: Double = 2
    @Flag(help: "Print the layer, the images and the distance matrix as JSON.") var json = false

    func validate() throws {
        try validating { try OptionLimits.scale.check(scale) }
    }

    func run() throws {
        let lm = try model.load()
        var o = GramOptions()
        o.layer = layer
        o.title = title
        o.out = out
        o.raw = raw
        o.scale = scale
        let r = try GramJob.run(lm, images: images, options: o, maxPixels: model.maxPixels, fit: model.fit)
        if json { print(try r.json()); return }
        print("\(images.count) Gram matrices of \(layer) (\(r.grams.shape[1])x\(r.grams.shape[1])) and their style distances; wrote \(r.out)"
              + (r.raw.map { " and \($0)" } ?? ""))
    }
}
