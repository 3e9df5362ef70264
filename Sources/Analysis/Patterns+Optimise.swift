import Engine

extension FilterPatterns {
    /// Optimises `count` images together for one objective, any sum of terms (channel + diversity, a neuron minus
    /// TV, …), with a recipe's start, parameterisation, transforms and optimiser. Unlike `run`, every item shares
    /// the objective and all of them are one batch, since a term such as diversity compares the items.
    /// - Parameters:
    ///   - objective: what every item maximises.
    ///   - count: the images to make, N.
    ///   - seed: item i starts from the generator of (seed, i), as filter i does in `run`.
    /// - Returns: a `Result` whose `filters` are the items 0..<N, `activations` and `startActivations` each item's
    ///   objective total on its final and its starting image, and `layer` the deepest layer the objective reads.
    public static func optimise(_ graph: Graph, objective: Objective, count: Int, recipe: PatternRecipe, size: Int, seed: UInt64 = 0,
                                progress: ((Progress) -> Void)? = nil) throws -> Result {
        precondition(count > 0, "FilterPatterns.optimise: count must be positive")
        var rng = (0 ..< count).map { PatternRandom(seed: seed, filter: $0) }
        var p = recipe.start(size, size, &rng)                              // (N, ...)
        let parameterisation = recipe.parameterisation(size, size)
        let update = recipe.optimiser.start()
        let first = render(p, parameterisation, recipe.toModel)
        let before = try objective.totals(graph, image: first.image, input: first.model)
        for step in 0 ..< recipe.steps {
            let g = try gradient(graph, objective, parameters: p, parameterisation: parameterisation,
                                 transforms: recipe.transforms + recipe.toModel, rng: &rng)
            update(&p, g)
            progress?(Progress(stepsDone: (step + 1) * count, stepsTotal: recipe.steps * count,
                               filtersDone: step + 1 == recipe.steps ? count : 0, filtersTotal: count))
        }
        let (image, model) = render(p, parameterisation, recipe.toModel)     // (N, 3, S, S) each
        let after = try objective.totals(graph, image: image, input: model)
        return Result(layer: try objective.layers.max { try graph.index(of: $0) < graph.index(of: $1) } ?? "input",
                      filters: Array(0 ..< count), inputs: model, images: recipe.display(image),
                      activations: after, startActivations: before, objective: objective.description)
    }
}
