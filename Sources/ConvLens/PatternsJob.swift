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
        let name = o.layers.joined(separator: "+").replacingOccurrences(of: "/", with: "_")
        let out = try o.out ?? (Environment.reportsDirectory() + "/patterns_\(lm.model.name)_\(name).png")
        _ = try FigureWriter.Format(path: out)
        let p = try compute(lm, options: o, progress: progress)
        try FigureWriter.write(p.figure, to: out, scale: p.scale)
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
        guard !o.layers.isEmpty else { throw UsageError("give at least one --layer; `convlens layers` lists them") }
        guard o.size >= 16 else { throw UsageError("--size must be at least 16 pixels, got \(o.size)") }
        guard o.perRow >= 1 else { throw UsageError("--per-row must be at least 1") }
        if let s = o.steps, s < 1 { throw UsageError("--steps must be at least 1") }
        let recipe = try recipe(o.recipe, preprocessing: lm.preprocessing, steps: o.steps)
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
        return (results, figure(results, model: lm.model.name, recipe: recipe, columns: o.perRow, tile: tile),
                max(1, Double(o.size) / tile), warnings, seconds)
    }

    /// One grid per layer, captioned with each filter's index and mean activation on its pattern; several layers
    /// go on one page, two grids a row.
    static func figure(_ results: [FilterPatterns.Result], model: String, recipe: PatternRecipe, columns: Int, tile: Double) -> any Figure {
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

/// A one-line progress bar on standard error, redrawn in place: filters done, the bar, and the time left.
public final class ProgressBar {
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let width = 30

    /// A bar when standard error is a terminal, else nil (no bar in logs and pipes).
    public static func ifTerminal() -> ProgressBar? { isatty(2) != 0 ? ProgressBar() : nil }

    /// Redraws the bar with filters done (at most ten times a second, and always at the end).
    public func update(_ p: FilterPatterns.Progress) {
        update(done: Double(p.stepsDone), total: Double(p.stepsTotal), what: "\(p.filtersDone)/\(p.filtersTotal) filters")
    }

    /// Redraws the bar with the report's current stage.
    public func update(_ p: ReportJob.Progress) {
        update(done: p.done, total: p.total, what: p.stage)
    }

    /// Redraws the bar: `done` of `total` units, what is being done, and the time left at the pace so far.
    public func update(done: Double, total: Double, what: String) {
        let now = Date(), finished = done >= total
        guard finished || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let f = min(max(done / max(total, 1e-9), 0), 1)
        let elapsed = now.timeIntervalSince(start)
        let eta = f > 0 ? elapsed * (1 - f) / f : 0
        let filled = Int((f * Double(width)).rounded(.down))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        // Erase to the end of the line: a shorter stage name must not leave the tail of a longer one.
        let line = "\r\(bar) \(what)  " + (finished ? "\(Self.clock(elapsed)) total\u{1B}[K\n" : "ETA \(Self.clock(eta))\u{1B}[K")
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// "1:05" or "0:07".
    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return String(format: "%d:%02d", t / 60, t % 60)
    }
}
