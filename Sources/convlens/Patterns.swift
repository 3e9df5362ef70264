import Analysis
import ArgumentParser
import ConvLens

struct Patterns: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw the input pattern each filter of a layer responds to most (gradient ascent on the image).",
        discussion: "With --objective, --batch images are optimised together for one objective instead.\n\n" + ObjectiveSpec.help)

    enum Recipe: String, ExpressibleByArgument, CaseIterable {
        case clear, keras
    }

    @OptionGroup var model: ModelOptions
    @Option(help: ArgumentHelp("The layer whose filters to draw; repeat it or separate with commas for one grid per layer.", valueName: "name"))
    var layer: [String] = []
    @Option(help: ArgumentHelp("Filters: indices and ranges, e.g. 0..63, 3,7,9 or 0..15,32 (default: the first 64).", valueName: "list"))
    var filters: String?
    @Option(help: "clear (Fourier parameterisation, transforms, Adam, pre-ReLU objective) or keras (the Keras book's recipe).")
    var recipe: Recipe = .clear
    @Option(help: "Pattern side in pixels.") var size: Int = 150
    @Option(help: "Optimisation steps (default: clear 64, keras 40).") var steps: Int?
    @Option(help: "Random seed; the same seed gives the same patterns.") var seed: UInt64 = 0
    @Option(help: "Patterns per row.") var perRow: Int = 8
    @Option(help: ArgumentHelp("An objective instead of one channel per filter, e.g. \"fire8:12 + 0.5*fire8:40 - 1e-3*tv\" (grammar below).",
                               valueName: "expr"))
    var objective: String?
    @Option(help: "Images optimised together for --objective (default 1; 4 with a diversity term).") var batch: Int?
    @Option(help: ArgumentHelp("A title over the figure.", valueName: "text")) var title: String?
    @Option(help: ArgumentHelp("Output figure: .png, .svg or .pdf (default Reports/patterns_<model>_<layer>.png).", valueName: "file"))
    var out: String?
    @Option(help: ArgumentHelp("Also save the optimised inputs as float32 .npy, (N, 3, S, S), in the model's input space.", valueName: "file.npy"))
    var raw: String?

    func options() throws -> PatternsOptions {
        var o = PatternsOptions()
        o.layers = layer.flatMap { $0.split(separator: ",").map(String.init) }
        o.filters = try filters.map(PatternsJob.parseFilters)
        o.recipe = recipe.rawValue
        o.size = size
        o.steps = steps
        o.seed = seed
        o.perRow = perRow
        o.objective = objective
        o.batch = batch
        o.title = title
        o.out = out
        o.raw = raw
        return o
    }

    func validate() throws {
        guard !layer.isEmpty || objective != nil else { throw ValidationError("give a layer with --layer NAME; `convlens layers` lists them") }
        try validating {
            try PatternsJob.check(options())
            if let objective { _ = try Self.checkSyntax(objective) }
        }
    }

    func run() throws {
        let lm = try model.load()
        let o = try options()
        let bar = ProgressBar.ifTerminal()
        let r = try PatternsJob.run(lm, options: o, progress: bar.map { b in { b.update($0) } })
        let n = r.results.reduce(0) { $0 + $1.filters.count }
        let what = objective == nil ? o.layers.joined(separator: ", ") : r.results[0].objective
        print("\(n) patterns of \(what) (\(recipe.rawValue) recipe) in "
              + String(format: "%.1f s (%.2f s per filter)", r.seconds, r.seconds / Double(max(n, 1))))
        if objective != nil && n > 1 {
            let d = try PatternsJob.spread(lm, r.results[0])
            print(String(format: "the %d images' activations at %@ differ by a mean pairwise cosine distance of %.3f (%.3f averaged over positions)",
                         n, r.results[0].layer, d.flat, d.pooled))
        }
        print("wrote \(r.out)" + (r.raw.map { " and \($0)" } ?? ""))
        r.warnings.forEach { warn("warning: \($0)") }
    }

    /// Reads an objective's text for its syntax alone, before the model is loaded: "--objective: cannot read …".
    static func checkSyntax(_ text: String) throws -> ObjectiveSpec {
        do { return try ObjectiveSpec.parse(text) } catch { throw ValidationError("--objective: \(error)") }
    }
}
