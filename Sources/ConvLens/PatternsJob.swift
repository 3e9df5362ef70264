import Analysis
import Engine
import Foundation
import Imaging
import Render
import Support
import TensorIO

/// What to draw for `convlens patterns`.
public struct PatternsOptions {
    /// The layers whose filters to draw, one grid each.
    public var layers: [String] = []
    /// Channel indices per layer; the first 64 (or all, if fewer) when nil.
    public var filters: [Int]?
    /// "clear" (default) or "keras".
    public var recipe = "clear"
    /// The side of the square patterns, in pixels.
    public var size = 150
    /// Optimisation steps; the recipe's default (keras 40, clear 64) when nil.
    public var steps: Int?
    public var seed: UInt64 = 0
    /// Patterns per row.
    public var perRow = 8
    /// The figure (.png, .jpg, .svg or .pdf); Reports/patterns_<model>_<layer>.png when nil.
    public var out: String?
    /// The optimised inputs as float32 .npy in the model's input space: (N, 3, S, S), layer after layer.
    public var raw: String?
    /// A title over the figure instead of the default.
    public var title: String?
    /// An objective (`ObjectiveSpec`'s grammar or JSON) instead of one channel per filter; `layers` then holds at
    /// most its default layer.
    public var objective: String?
    /// Images optimised together for `objective`; 1, or 4 when it has a diversity term, when nil.
    public var batch: Int?
    public init() {}
}

/// What one run produced.
public struct PatternsOutcome {
    public let results: [FilterPatterns.Result]
    public let out: String
    public let raw: String?
    public let seconds: Double
    /// Things the user should know, e.g. filters that never responded.
    public let warnings: [String]
}

/// `convlens patterns`: the input each filter of a layer responds to most, by gradient ascent on the image.
public enum PatternsJob {
    /// The recipes by name.
    public static let recipes = ["clear", "keras"]

    /// The recipe called `name` for a model's preprocessing.
    public static func recipe(_ name: String, preprocessing p: Preprocessing, steps: Int? = nil) throws -> PatternRecipe {
        let space = inputSpace(p)
        var r: PatternRecipe
        switch name {
        case "clear": r = .clear(space)
        case "keras": r = .keras(space)
        default: throw UsageError("unknown recipe '\(name)'; recipes are: \(recipes.joined(separator: ", "))")
        }
        if let steps { r.steps = steps }
        return r
    }

    /// The model's preprocessing as the affine map Analysis works with.
    public static func inputSpace(_ p: Preprocessing) -> InputSpace {
        InputSpace(name: p.name, bgr: p.bgr, scale: p.scale, mean: p.mean, std: p.std)
    }

    /// Parses a filter list: ranges and single indices separated by commas, "0..63", "3,7,9", "0..15,32"
    /// ("a...b" and "a-b" read like "a..b"; ends are inclusive).
    /// - Throws: a `UsageError` naming the part that is not a number or range.
    public static func parseFilters(_ spec: String) throws -> [Int] {
        var out: [Int] = []
        for part in spec.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let ends = part.replacingOccurrences(of: "...", with: "..").replacingOccurrences(of: "-", with: "..")
                .components(separatedBy: "..")
            guard (1 ... 2).contains(ends.count), let a = Int(ends[0]), let b = Int(ends[ends.count - 1]), a >= 0, a <= b else {
                throw UsageError("cannot read '\(part)' in --filters '\(spec)'; give indices and ranges such as 0..63, 3,7,9 or 0..15,32")
            }
            try OptionLimits.filter.check(b)                    // before the range becomes an array
            out += Array(a ... b)
        }
        return out
    }

    /// Optimises and draws the patterns of every layer asked for, and writes the figure (and `raw`).
    /// - Parameters:
    ///   - lm: the model and its preprocessing.
    ///   - options: what to draw.
    ///   - progress: called after every optimisation step with the totals over all layers.
    public static func run(_ lm: LoadedModel, options o: PatternsOptions, progress: ((FilterPatterns.Progress) -> Void)? = nil) throws -> PatternsOutcome {
        let name = (o.layers.isEmpty ? "objective" : o.layers.joined(separator: "+")).replacingOccurrences(of: "/", with: "_")
        let out = try Outputs.figurePath(o.out, or: Environment.reportsDirectory() + "/patterns_\(lm.model.name)_\(name).png",
                                         with: [("--raw", o.raw)])
        let p = try compute(lm, options: o, progress: progress)
        try Outputs.writeFigure(p.figure, to: out, scale: p.scale)
        if let raw = o.raw {
            let results = p.results
            let shape = results.count == 1 ? results[0].inputs.shape : [results.reduce(0) { $0 + $1.filters.count }, 3, o.size, o.size]
            try NPY.write(TensorData(shape: shape, values: results.flatMap(\.inputs.data)), to: raw)
        }
        return PatternsOutcome(results: p.results, out: out, raw: o.raw, seconds: p.seconds, warnings: p.warnings)
    }

    /// Optimises the patterns of every layer asked for and lays out their figure, writing nothing.
    /// - Parameters:
    ///   - lm: the model and its preprocessing.
    ///   - options: what to draw (`out` and `raw` are not used).
    ///   - progress: called after every optimisation step with the totals over all layers.
    /// - Returns: the results, the figure and the PNG scale that gives one pixel per pattern pixel.
    public static func compute(_ lm: LoadedModel, options o: PatternsOptions, progress: ((FilterPatterns.Progress) -> Void)? = nil) throws
        -> (results: [FilterPatterns.Result], figure: any Figure, scale: Double, warnings: [String], seconds: Double) {
        let graph = lm.model.graph
        try check(o)
        let recipe = try recipe(o.recipe, preprocessing: lm.preprocessing, steps: o.steps)
        if let text = o.objective { return try computeObjective(lm, text: text, options: o, recipe: recipe, progress: progress) }
        guard !o.layers.isEmpty else { throw UsageError("give at least one --layer; `convlens layers` lists them") }
        // Check everything before the long part.
        var plan: [(layer: String, filters: [Int])] = []
        for layer in o.layers {
            let channels = try usage { try FilterPatterns.channelCount(graph, layer: layer, size: o.size) }
            let filters = o.filters ?? Array(0 ..< min(64, channels))
            if let bad = filters.first(where: { $0 >= channels }) {
                throw UsageError("filter \(bad) is out of range: '\(layer)' has \(channels) channels (0…\(channels - 1))")
            }
            guard !filters.isEmpty else { throw UsageError("--filters selects no filter") }
            plan.append((layer, filters))
        }
        let what = "patterns --size \(o.size) of \(plan.reduce(0) { $0 + $1.filters.count }) filters"
        if try estimate(graph, plan, size: o.size) > MemoryBudget.limit {
            let fits = [2048, 1024, 512, 256, 150].first { s in s < o.size && (try? estimate(graph, plan, size: s)).map { $0 <= MemoryBudget.limit } == true }
            try MemoryBudget.check(try estimate(graph, plan, size: o.size), what,
                                   hint: fits.map { "try --size \($0) or fewer --filters" } ?? "try fewer --filters or a lower layer")
        }

        let clock = Date()
        let total = plan.reduce(0) { $0 + $1.filters.count } * recipe.steps
        var results: [FilterPatterns.Result] = [], warnings: [String] = [], doneSteps = 0, doneFilters = 0
        for (layer, filters) in plan {
            // The fused inference graph, keeping the layer and the ReLUs the clear recipe treats as identity.
            let keep = Set([layer]).union(try FilterPatterns.preActivation(graph, layer))
            let r = try FilterPatterns.run(lm.model.inference(keeping: keep), layer: layer, filters: filters, recipe: recipe, size: o.size, seed: o.seed) { p in
                progress?(FilterPatterns.Progress(stepsDone: doneSteps + p.stepsDone, stepsTotal: total,
                                                  filtersDone: doneFilters + p.filtersDone, filtersTotal: total / recipe.steps))
            }
            doneSteps += filters.count * recipe.steps
            doneFilters += filters.count
            let names = r.filters.map { "filter \($0) of \(layer)" }
            try Finite.check(r.activations, "pattern activations", lm: lm, input: r.inputs, paths: names)
            try Finite.check(r.inputs.data, "patterns", lm: lm, input: r.inputs, paths: names)
            let stuck = zip(r.filters, r.activations).filter { $0.1 <= 0 }.map { String($0.0) }
            if !stuck.isEmpty {
                warnings.append("\(layer): filters \(stuck.joined(separator: ", ")) never responded"
                    + (recipe.name == "keras" ? " (their ReLU is dead on the starting noise; the clear recipe optimises the pre-activation)" : ""))
            }
            results.append(r)
        }
        let seconds = Date().timeIntervalSince(clock)

        // One point per pattern pixel up to 1600 points across; PNG pixels match the patterns' own.
        let tile = min(Double(o.size), (1600 / Double(min(o.perRow, plan[0].filters.count))).rounded(.down))
        var page = figure(results, model: lm.model.name, recipe: recipe, columns: o.perRow, tile: tile)
        if let title = o.title { page.title = title }
        return (results, page, max(1, Double(o.size) / tile), warnings, seconds)
    }

    /// The settings that need no model, against `OptionLimits`: the job checks them, and the command before loading.
    public static func check(_ o: PatternsOptions) throws {
        try OptionLimits.batch.check(o.batch)
        try OptionLimits.size.check(o.size)
        try OptionLimits.steps.check(o.steps)
        try OptionLimits.perRow.check(o.perRow)
    }

    /// The peak bytes of a run, from the graph's shapes: one batch's forward outputs and their gradients at the
    /// jittered size (as `FilterPatterns` batches them, at least one item), the patterns kept for the figure and
    /// `--raw` (inputs, images, and the page's pixels), and the Fourier basis of the clear recipe.
    static func estimate(_ graph: Graph, _ plan: [(layer: String, filters: [Int])], size s: Int) throws -> Int {
        let n = plan.reduce(0) { $0 + $1.filters.count }
        var peak = 0
        for (layer, filters) in plan {
            let perItem = try MemoryBudget.activationBytes(graph, input: [1, 3, s + 32, s + 32], upTo: layer).multipliedSaturating(2)
            let items = max(1, min(16, filters.count, FilterPatterns.memoryBudget / max(perItem, 1)))
            peak = max(peak, perItem.multipliedSaturating(items))
        }
        let image = (s * s).multipliedSaturating(3 * 4)
        return peak.addingSaturating(n.multipliedSaturating(image).multipliedSaturating(4)).addingSaturating((s * s).multipliedSaturating(8))
    }

    /// One grid per layer, captioned with each filter's index and mean activation on its pattern; several layers
    /// go on one page, two grids a row.
    static func figure(_ results: [FilterPatterns.Result], model: String, recipe: PatternRecipe, columns: Int, tile: Double) -> Panels {
        let grids = results.map { r in
            let (n, h, w) = (r.filters.count, r.images.shape[2], r.images.shape[3])
            let images = (0 ..< n).map { i in
                RGBImage(planar: r.images.data[i * 3 * h * w ..< (i + 1) * 3 * h * w].map { $0 * 255 }, height: h, width: w)
            }
            let captions = zip(r.filters, r.activations).map { "\($0.0): \(String(format: "%.3g", $0.1))" }
            var grid = ImageGrid(images: images, columns: min(columns, n), captions: captions, title: results.count == 1 ? nil : r.layer)
            grid.tileSize = tile
            return grid
        }
        let objective = results[0].objective.replacingOccurrences(of: results[0].layer, with: "the layer")
        let title = "\(model) \(results.count == 1 ? results[0].layer : "") filter patterns, \(recipe.name) recipe: \(objective)"
            .replacingOccurrences(of: "  ", with: " ")
        return Panels(grids, columns: min(2, grids.count), titles: [], title: title)
    }
}
