import Analysis
import Engine
import Foundation
import Imaging
import Render
import Support

extension PatternsJob {
    /// Reads an objective (`ObjectiveSpec`'s grammar or its JSON) and checks it against the model: the one boundary
    /// for `--objective`, in `patterns` and `dream`.
    /// - Parameters:
    ///   - defaultLayer: the layer of terms written without one (`--layer`).
    ///   - input: the network's input shape while optimising.
    ///   - preReLU: optimise channel, neuron and direction terms before their ReLUs (the clear recipe).
    /// - Throws: a `UsageError` starting "--objective: ", saying where the text stops making sense or which layer or
    ///   channel does not exist (with the closest layer names).
    public static func objective(_ text: String, _ lm: LoadedModel, defaultLayer: String?, input: [Int], preReLU: Bool = false) throws -> Objective {
        do {
            let spec = try ObjectiveSpec.parse(text)
            let graph = lm.model.graph
            if let d = defaultLayer { _ = try graph.index(of: d) }
            return try spec.resolve(graph, defaultLayer: defaultLayer, input: input) { layer in
                preReLU ? try FilterPatterns.preActivation(graph, layer) : []
            }
        } catch {
            throw UsageError("--objective: \(error)")
        }
    }

    /// `patterns --objective`: `batch` images optimised together for one objective, drawn in one grid captioned
    /// with each image's objective total.
    static func computeObjective(_ lm: LoadedModel, text: String, options o: PatternsOptions, recipe: PatternRecipe,
                                 progress: ((FilterPatterns.Progress) -> Void)?) throws
        -> (results: [FilterPatterns.Result], figure: any Figure, scale: Double, warnings: [String], seconds: Double) {
        guard o.filters == nil else { throw UsageError("--filters and --objective do not go together: the objective names its channels") }
        guard o.layers.count <= 1 else { throw UsageError("--objective takes at most one --layer (the layer of terms written without one)") }
        let graph = lm.model.graph
        // The clear recipe's network sees the image padded by 12 and jittered by 8 and 4: shapes at that size.
        let side = recipe.name == "clear" ? o.size + 12 : o.size
        let objective = try Self.objective(text, lm, defaultLayer: o.layers.first, input: [1, 3, side, side], preReLU: recipe.name == "clear")
        let hasDiversity = (try? ObjectiveSpec.parse(text))?.comparesItems ?? false
        let batch = o.batch ?? (hasDiversity ? 4 : 1)
        try OptionLimits.batch.check(batch)
        if hasDiversity && batch < 2 { throw UsageError("--objective: diversity compares the images of a batch; give --batch 2 or more") }
        let top = try objective.layers.max { try graph.index(of: $0) < graph.index(of: $1) }
        let perItem = try MemoryBudget.activationBytes(graph, input: [1, 3, o.size + 32, o.size + 32], upTo: top).multipliedSaturating(2)
        let image = (o.size * o.size).multipliedSaturating(3 * 4 * 4)
        try MemoryBudget.check(perItem.addingSaturating(image).multipliedSaturating(batch), "patterns --objective of \(batch) images at --size \(o.size)",
                               hint: "try a smaller --size or --batch")

        let keep = objective.terms.reduce(into: Set(objective.layers)) { set, t in set.formUnion(t.linearThrough) }
        let clock = Date()
        let r = try FilterPatterns.optimise(lm.model.inference(keeping: keep), objective: objective, count: batch, recipe: recipe,
                                            size: o.size, seed: o.seed, progress: progress)
        let names = (0 ..< batch).map { "image \($0) of the objective" }
        try Finite.check(r.activations, "objective totals", lm: lm, input: r.inputs, paths: names)
        try Finite.check(r.inputs.data, "patterns", lm: lm, input: r.inputs, paths: names)
        let seconds = Date().timeIntervalSince(clock)

        let images = (0 ..< batch).map { UnitImage.image(r.images, item: $0) }
        let captions = r.activations.enumerated().map { "\(batch > 1 ? "\($0.offset): " : "")\(String(format: "%.3g", $0.element))" }
        let tile = min(Double(o.size), (1600 / Double(min(o.perRow, batch))).rounded(.down))
        var grid = ImageGrid(images: images, columns: min(o.perRow, batch), captions: captions,
                             title: o.title ?? "\(lm.model.name) patterns, \(recipe.name) recipe: \(objective.description)")
        grid.tileSize = tile
        return ([r], grid, max(1, Double(o.size) / tile), [], seconds)
    }

    /// How different a batch of patterns is: the mean over pairs of 1 − cos between the items' activations at the
    /// result's layer, flattened (C·h·w) or averaged over positions (C). 0 for identical features.
    /// - Returns: (flattened, pooled), NaN for a single item.
    public static func spread(_ lm: LoadedModel, _ r: FilterPatterns.Result) throws -> (flat: Float, pooled: Float) {
        let n = r.inputs.shape[0]
        guard n > 1 else { return (.nan, .nan) }
        let a = r.layer == Graph.inputName ? r.inputs                                                       // (N, C, h, w)
            : try lm.model.inference(keeping: [r.layer]).forward(r.inputs, until: r.layer).output(r.layer)
        let plane = a.rank == 4 ? a.shape[2] * a.shape[3] : 1
        let flat = a.reshaped([n, a.count / n])                                                             // (N, C·h·w)
        let pooled = Tensor(shape: [n, a.count / n / plane], data: stride(from: 0, to: a.count, by: plane).map {
            a.data[$0 ..< $0 + plane].reduce(0, +) / Float(plane)
        })                                                                                                  // (N, C)
        func mean(_ x: Tensor) -> Float {
            let c = Correlation.matrix(x, x, metric: .cosine)
            var s: Float = 0
            for i in 0 ..< n { for j in i + 1 ..< n { s += 1 - c.data[i * n + j] } }
            return s / Float(n * (n - 1) / 2)
        }
        return (mean(flat), mean(pooled))
    }
}
