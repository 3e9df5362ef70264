import Engine

extension Objective {
    /// The layers the objective reads, each once, in the order given.
    public var layers: [String] {
        var seen = Set<String>()
        return terms.compactMap(\.layer).filter { seen.insert($0).inserted }
    }

    /// Each term's score and the gradient of the weighted total with respect to the image, through the network.
    ///
    /// One forward pass runs to the deepest layer the objective reads; the backward pass starts there and picks up
    /// each lower layer's seed on its way down, so several layers (style transfer's five) cost one backward pass, as
    /// autograd's would. Where a branch skips past a seeded layer (a connection from below it to above it), that
    /// stretch runs as a pass of its own, so the gradient stays exact on any graph.
    /// - Parameters:
    ///   - graph: the network.
    ///   - image: (N, 3, H, W), what the image terms (TV, L2) read.
    ///   - toModel: image → the network's input (the model's preprocessing).
    /// - Returns: `scores` (terms, N) unweighted, and the gradient of Σ_terms weight · Σ_items score, shaped like `image`.
    public func evaluate(_ graph: Graph, image: Tensor, toModel: [ImageOp] = []) throws -> (scores: [[Float]], gradient: Tensor) {
        var none: [PatternRandom] = []
        let (x, back) = toModel.apply(image, &none)                      // (N, 3, H', W')
        var scores = [[Float]](repeating: [], count: terms.count)
        var dImage = Tensor(zeros: image.shape)                          // (N, 3, H, W)
        if let top = try layers.max(by: { try graph.index(of: $0) < graph.index(of: $1) }) {
            let acts = try graph.forward(x, until: top)
            var seeds: [(layer: String, linear: Set<String>, seed: Tensor)] = []
            for (k, t) in terms.enumerated() {
                guard let layer = t.layer else { continue }
                let (s, g0) = t.score(try acts.output(layer))
                scores[k] = s
                var g = g0                                               // shaped like the layer's output
                if t.weight != 1 { for j in 0 ..< g.count { g.data[j] *= t.weight } }
                if let i = seeds.firstIndex(where: { $0.layer == layer && $0.linear == t.linearThrough }) {
                    seeds[i].seed.add(g)
                } else {
                    seeds.append((layer, t.linearThrough, g))
                }
            }
            dImage = back(try Self.backward(graph, acts, seeds))
        }
        for (k, t) in terms.enumerated() where t.layer == nil {
            let (s, g) = t.score(image)
            scores[k] = s
            for j in 0 ..< g.count { dImage.data[j] += t.weight * g.data[j] }
        }
        return (scores, dImage)
    }

    /// The input gradient of seeds placed at several layers: one pass chained down through them where no branch
    /// skips a seeded layer and the seeds agree on `linearThrough`, else one pass per seed.
    /// - Returns: (N, 3, H', W'), the gradient at the network's input.
    static func backward(_ graph: Graph, _ acts: Activations, _ seeds: [(layer: String, linear: Set<String>, seed: Tensor)]) throws -> Tensor {
        let order = try seeds.map { (try graph.index(of: $0.layer), $0) }.sorted { $0.0 > $1.0 }
        let chain = Set(order.map(\.1.linear)).count <= 1
            && zip(order, order.dropFirst()).allSatisfy { !skips(graph, from: $0.1.0, to: $0.0.0) }
        var total: Tensor?                                               // (N, 3, H', W')
        if chain {
            var carry: Tensor?                                           // the gradient at the current layer from above
            for (k, (_, s)) in order.enumerated() {
                let below = k + 1 < order.count ? order[k + 1].1.layer : Graph.inputName
                var seed = s.seed
                if let c = carry { seed.add(c) }
                carry = try graph.backward(acts, seed: seed, at: s.layer, to: [below], linearThrough: s.linear)[below]
            }
            total = carry
        } else {
            for (_, s) in order {
                let d = try graph.backward(acts, seed: s.seed, at: s.layer, to: [Graph.inputName], linearThrough: s.linear)[Graph.inputName]!
                if total == nil { total = d } else { total!.add(d) }
            }
        }
        return total ?? Tensor(zeros: acts.input.shape)
    }

    /// Whether a node above `low` and at most `high` reads a node below `low` (the input counts): a backward pass
    /// that stops at `low` would drop the gradient that such a branch carries.
    static func skips(_ graph: Graph, from low: Int, to high: Int) -> Bool {
        guard high > low else { return false }
        return graph.nodes[(low + 1) ... high].contains { node in
            node.inputs.contains { $0 < low && !graph.isConstant($0) }
        }
    }
}

extension Objective {
    /// Each batch item's weighted total, Σ_terms weight · score_i, with one forward pass and no backward.
    /// - Parameters:
    ///   - image: (N, 3, H, W), what the image terms read.
    ///   - input: (N, 3, H', W'), the network's input made from it.
    /// - Returns: (N).
    public func totals(_ graph: Graph, image: Tensor, input: Tensor) throws -> [Float] {
        var totals = [Float](repeating: 0, count: image.shape[0])
        let top = try layers.max { try graph.index(of: $0) < graph.index(of: $1) }
        let acts = try top.map { try graph.forward(input, until: $0) }
        for t in terms {
            let s = try t.layer.map { t.score(try acts!.output($0)).scores } ?? t.score(image).scores
            for i in totals.indices { totals[i] += t.weight * s[i] }
        }
        return totals
    }
}
