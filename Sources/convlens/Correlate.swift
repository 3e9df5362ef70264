import Analysis
import ArgumentParser
import ConvLens

struct Correlate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Correlate the network's embeddings of a set of images (or two sets) and draw the labelled matrix.")

    enum Order: String, ExpressibleByArgument, CaseIterable { case input, cluster }
    enum LabelBy: String, ExpressibleByArgument, CaseIterable { case `class`, file }

    @Argument(help: "Images (PNG or JPEG), or a manifest (a directory, a list, -, a .jsonl file) for dataset mode.") var images: [String] = []
    @Option(help: ArgumentHelp("Reduce embedding shards of dataset runs (quote the pattern): class-mean correlation, neighbours, projector.",
                               valueName: "'dir/*.npy'")) var embeddings: String?
    @Option(help: "With --embeddings: nearest neighbours listed per image (0 for none).") var neighbours = 5
    @Flag(help: "With --embeddings: write the full (N, N) cosine matrix block by block to OUT/similarity.npy.") var fullMatrix = false
    @Flag(help: "With --embeddings: write a TensorBoard projector export to OUT/projector.") var projector = false
    @Option(parsing: .upToNextOption, help: ArgumentHelp("A second set: the matrix is then n x m.", valueName: "image"))
    var vs: [String] = []
    @OptionGroup var model: ModelOptions
    @OptionGroup var dataset: DatasetFlags
    @Option(help: ArgumentHelp("pooled (the last conv block, globally averaged), logits, probabilities, or a layer name to pool.",
                               valueName: "feature"))
    var feature = "pooled"
    @Option(help: "pearson, cosine or spearman.") var metric: Correlation.Metric = .pearson
    @Option(help: "input, or cluster (average linkage, with a dendrogram).") var order: Order = .input
    @Option(help: "Label each image by its top-1 class (class) or its file name (file); default class, or file for a model without a classifier.")
    var labelBy: LabelBy?
    @Flag(help: "Draw the walkthrough figure: pooled and logit correlations side by side, with strip plots of each vector.")
    var walkthrough = false
    @Option(help: ArgumentHelp("Colormap of the matrix (default: rdbu).", valueName: "name"), transform: { try Lookup.colormap($0) })
    var colormap = CorrelateOptions().colormap
    @Option(help: ArgumentHelp("A title over the figure.", valueName: "text")) var title: String?
    @Option(help: ArgumentHelp("Output figure: .png, .svg or .pdf (default Reports/<first image>_correlation.png).", valueName: "file"))
    var out: String?
    @Option(help: ArgumentHelp("Save the matrix as float32 .npy (input order).", valueName: "file.npy")) var raw: String?
    @Option(help: ArgumentHelp("Save the embeddings as float32 .npy, (n, D) (input order; a second set's rows follow).", valueName: "file.npy"))
    var saveEmbeddings: String?
    @Option(help: "PNG pixels per point.") var scale: Double = 2
    @Flag(help: "Print the matrix, labels and files as JSON: {\"metric\", \"feature\", \"rows\": [{\"image\", \"label\"}], \"columns\", \"matrix\", \"out\", \"raw\"}.")
    var json = false

    func validate() throws {
        guard images.count + vs.count >= 2 || dataset.active(images) || embeddings != nil else { throw ValidationError("give at least two images") }
        try validating {
            try OptionLimits.scale.check(scale)
            try OptionLimits.neighbours.check(neighbours)
        }
    }

    func run() throws {
        if let embeddings { return try reduce(embeddings) }
        if dataset.active(images) {
            guard vs.isEmpty else { throw ValidationError("--vs is for single runs; in dataset mode embeddings go to --out DIR") }
            return try dataset.run(images, model: model, out: out) { lm, _ in try DatasetWork.embeddings(lm, feature: feature) }
        }
        let lm = try model.load()
        var o = CorrelateOptions()
        o.feature = feature
        o.metric = metric
        o.cluster = order == .cluster
        o.labelByFile = labelBy.map { $0 == .file }
        o.walkthrough = walkthrough
        o.colormap = colormap
        o.title = title
        o.out = out
        o.raw = raw
        o.saveEmbeddings = saveEmbeddings
        o.scale = scale
        let r = try CorrelateJob.run(lm, images: images, versus: vs, options: o, maxPixels: model.maxPixels, fit: model.fit)
        if json { print(try r.json()); return }
        print("\(r.matrix.shape[0])x\(r.matrix.shape[1]) \(metric.rawValue) matrix; wrote \(r.out)")
    }
}

extension Correlation.Metric: ExpressibleByArgument {}
