import Engine

/// Filter patterns: for each filter of a layer, the input image that activates it most, found by gradient ascent on
/// the image (Erhan et al., 2009; the Keras book's §5.4.2; lucid). Many filters run at once, one batch item per
/// filter, and the forward pass stops at the layer, so the layers above it never run.
///
///     let r = try FilterPatterns.run(model.graph, layer: "fire4", filters: Array(0 ..< 16),
///                                    recipe: .clear(space), size: 150, seed: 0)
///     r.images      // (16, 3, 150, 150) RGB in [0, 1]
public enum FilterPatterns {
    /// How far a run is.
    public struct Progress: Sendable {
        public let stepsDone: Int, stepsTotal: Int
        public let filtersDone: Int, filtersTotal: Int
        public init(stepsDone: Int, stepsTotal: Int, filtersDone: Int, filtersTotal: Int) {
            self.stepsDone = stepsDone
            self.stepsTotal = stepsTotal
            self.filtersDone = filtersDone
            self.filtersTotal = filtersTotal
        }
    }

    /// The patterns of one layer.
    public struct Result {
        public let layer: String
        public let filters: [Int]
        /// What the network saw: the optimised inputs in the model's input space, (N, 3, H, W).
        public let inputs: Tensor
        /// The patterns for display, RGB in [0, 1], (N, 3, H, W).
        public let images: Tensor
        /// The mean activation of each filter (the layer's output) on its own pattern, (N).
        public let activations: [Float]
        /// The same on the starting image, (N).
        public let startActivations: [Float]
        /// What was maximised, e.g. "channel mean of fire4 (pre-ReLU)".
        public let objective: String
    }

    /// Optimises one pattern per filter.
    /// - Parameters:
    ///   - graph: the network.
    ///   - layer: the layer whose channels are the filters.
    ///   - filters: channel indices, one pattern each.
    ///   - recipe: how to optimise (`.keras(space)` or `.clear(space)`).
    ///   - size: the side of the square patterns, in pixels.
    ///   - seed: seeds one generator per filter, so results repeat and do not depend on the batching.
    ///   - batch: patterns per pass; by default as many as fit `memoryBudget`, at most 16.
    ///   - start: starting parameters (N, ...) instead of the recipe's, e.g. a fixture's noise.
    ///   - progress: called after every step.
    /// - Throws: `EngineError` for an unknown layer or a filter out of range.
    public static func run(_ graph: Graph, layer: String, filters: [Int], recipe: PatternRecipe, size: Int, seed: UInt64 = 0,
                           batch: Int? = nil, start: Tensor? = nil, progress: ((Progress) -> Void)? = nil) throws -> Result {
        let channels = try channelCount(graph, layer: layer, size: size)
        for f in filters where f < 0 || f >= channels {
            throw EngineError("filter \(f) is out of range: '\(layer)' has \(channels) channels (0…\(channels - 1))")
        }
        precondition(start == nil || start!.shape[0] == filters.count, "FilterPatterns: start \(start!.shape) does not fit \(filters.count) filters")
        let chunk = max(1, batch ?? batchSize(graph, layer: layer, size: size))
        let total = filters.count * recipe.steps
        var inputs: [Float] = [], images: [Float] = [], after: [Float] = [], before: [Float] = []
        var objective = ""
        for lo in stride(from: 0, to: filters.count, by: chunk) {
            let part = Array(filters[lo ..< min(lo + chunk, filters.count)])
            var rng = part.map { PatternRandom(seed: seed, filter: $0) }
            var p = start.map { s in                                         // (n, ...)
                let per = s.count / filters.count
                return Tensor(shape: [part.count] + s.shape.dropFirst(), data: Array(s.data[lo * per ..< (lo + part.count) * per]))
            } ?? recipe.start(size, size, &rng)
            let goal = try recipe.objective(graph, layer, part)
            objective = goal.description
            let parameterisation = recipe.parameterisation(size, size)
            let update = recipe.optimiser.start()
            before += try ownActivations(graph, layer: layer, filters: part, input: render(p, parameterisation, recipe.toModel).model)
            for step in 0 ..< recipe.steps {
                let g = try gradient(graph, goal, parameters: p, parameterisation: parameterisation,
                                     transforms: recipe.transforms + recipe.toModel, rng: &rng)
                update(&p, g)
                progress?(Progress(stepsDone: lo * recipe.steps + (step + 1) * part.count, stepsTotal: total,
                                   filtersDone: lo + (step + 1 == recipe.steps ? part.count : 0), filtersTotal: filters.count))
            }
            let (image, model) = render(p, parameterisation, recipe.toModel)
            after += try ownActivations(graph, layer: layer, filters: part, input: model)
            inputs += model.data
            images += recipe.display(image).data
        }
        let shape = [filters.count, 3, size, size]
        return Result(layer: layer, filters: filters, inputs: Tensor(shape: shape, data: inputs), images: Tensor(shape: shape, data: images),
                      activations: after, startActivations: before, objective: objective)
    }

    /// The gradient of the objective with respect to the parameters, through one random draw of the transforms.
    /// - Parameters:
    ///   - parameters: (N, ...).
    ///   - transforms: image → network input.
    /// - Returns: shaped like `parameters`.
    static func gradient(_ graph: Graph, _ objective: Objective, parameters: Tensor, parameterisation: [ImageOp],
                         transforms: [ImageOp], rng: inout [PatternRandom]) throws -> Tensor {
        let (image, backParam) = parameterisation.apply(parameters, &rng)   // (N, 3, H, W)
        let (x, backTransforms) = transforms.apply(image, &rng)              // (N, 3, H', W')
        let layerTerms = objective.terms.filter { $0.layer != nil }
        var dImage = Tensor(zeros: image.shape)                              // (N, 3, H, W)
        if !layerTerms.isEmpty {
            let top = try layerTerms.max { try graph.index(of: $0.layer!) < graph.index(of: $1.layer!) }!.layer!
            let acts = try graph.forward(x, until: top)
            var dx: Tensor?                                                  // (N, 3, H', W')
            // One backward pass per (layer, linearThrough) group, with the group's seeds summed.
            var groups: [(layer: String, linear: Set<String>, seed: Tensor)] = []
            for t in layerTerms {
                var s = t.score(try acts.output(t.layer!)).gradient
                if t.weight != 1 { for j in 0 ..< s.count { s.data[j] *= t.weight } }
                if let k = groups.firstIndex(where: { $0.layer == t.layer! && $0.linear == t.linearThrough }) {
                    groups[k].seed = groups[k].seed + s
                } else {
                    groups.append((t.layer!, t.linearThrough, s))
                }
            }
            for g in groups {
                let d = try graph.backward(acts, seed: g.seed, at: g.layer, to: [Graph.inputName], linearThrough: g.linear)[Graph.inputName]!
                dx = dx.map { $0 + d } ?? d
            }
            if let dx { dImage = backTransforms(dx) }
        }
        for t in objective.terms where t.layer == nil {
            let g = t.score(image).gradient
            for j in 0 ..< g.count { dImage.data[j] += t.weight * g.data[j] }
        }
        return backParam(dImage)
    }

    /// The image and the model input of parameters, without the random transforms.
    static func render(_ p: Tensor, _ parameterisation: [ImageOp], _ toModel: [ImageOp]) -> (image: Tensor, model: Tensor) {
        var none: [PatternRandom] = []
        let image = parameterisation.apply(p, &none).0
        return (image, toModel.apply(image, &none).0)
    }

    /// The mean activation of filter filters[i] on input item i, at the layer's output.
    static func ownActivations(_ graph: Graph, layer: String, filters: [Int], input: Tensor) throws -> [Float] {
        let a = try graph.forward(input, until: layer).output(layer)
        return Objective.channel(layer, filters: filters).terms[0].score(a).scores
    }

    /// The number of channels of a layer's output for square inputs of `size`.
    /// - Throws: for an unknown layer (listing the valid ones and the closest) or a layer without channels.
    public static func channelCount(_ graph: Graph, layer: String, size: Int) throws -> Int {
        let i = try graph.index(of: layer)
        if i == Graph.inputIndex { return 3 }
        let shape = try graph.shapes(input: [1, 3, size, size], through: i)[i]
        guard shape.count == 4 else { throw EngineError("layer '\(layer)' has output shape \(shape), not (N, C, H, W): it has no filters to draw") }
        return shape[1]
    }

    /// The activation layers just below `layer` whose gradient the clear recipe passes through unchanged: the layer
    /// itself if it is a ReLU, or the ReLUs a concatenation joins (SqueezeNet's fire modules); none otherwise.
    public static func preActivation(_ graph: Graph, _ layer: String) throws -> Set<String> {
        let node = try graph.node(layer)
        if node.layer is ActivationLayer { return [node.name] }
        if node.layer is Concat {
            return Set(node.inputs.filter { $0 >= 0 && graph.nodes[$0].layer is ActivationLayer }.map { graph.nodes[$0].name })
        }
        return []
    }

    /// The memory the activations of one batch may take, in bytes.
    public static let memoryBudget = 1 << 30

    /// Patterns per pass: the forward outputs and their gradients up to the layer (about twice the outputs) of
    /// this many items fit `memoryBudget`; at most 16, at least 1.
    static func batchSize(_ graph: Graph, layer: String, size: Int) -> Int {
        guard let last = try? graph.index(of: layer), last >= 0,
              let shapes = try? graph.shapes(input: [1, 3, size + 16, size + 16], through: last) else { return 1 }
        let perItem = shapes[0 ... last].reduce(0) { $0 + $1.reduce(1, *) } * 4 * 2
        return min(16, max(1, memoryBudget / max(perItem, 1)))
    }
}
