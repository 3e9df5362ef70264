import Engine

/// Feature vectors of images as the network sees them.
public enum Embeddings {
    /// What to take from the network.
    public enum Feature: Equatable, Sendable {
        /// Global-average-pooled activations of a layer: (N, C, h, w) → (N, C).
        case pooled(String)
        /// The pre-softmax scores, (N, K).
        case logits
        /// The softmax of the logits, (N, K).
        case probabilities
        /// A layer's output as it is, (N, C, h, w) for a convolution: the full maps, not a vector.
        case maps(String)

        /// The layer the feature reads before the logits, if any.
        public var layer: String? {
            switch self {
            case let .pooled(l), let .maps(l): l
            case .logits, .probabilities: nil
            }
        }

        /// A short description for captions, e.g. "pooled fire9".
        public var caption: String {
            switch self {
            case let .pooled(l): "pooled \(l)"
            case .logits: "logits"
            case .probabilities: "probabilities"
            case let .maps(l): "maps \(l)"
            }
        }
    }

    /// Embeds a batch of preprocessed images, running the network only as far as the feature needs.
    /// - Parameters:
    ///   - graph: the network.
    ///   - batch: (N, C, H, W).
    ///   - feature: which vector to take.
    /// - Returns: (N, D) row-major.
    public static func compute(_ graph: Graph, _ batch: Tensor, feature: Feature) throws -> Tensor {
        try compute(graph, batch, features: [feature])[0]
    }

    /// Several features of a batch from one forward pass, which stops at the deepest layer they need.
    /// - Returns: one tensor per feature, (N, D), or the layer's own shape (N, ...) for `.maps`.
    public static func compute(_ graph: Graph, _ batch: Tensor, features: [Feature]) throws -> [Tensor] {
        var stop = -1, keep: Set<String> = []
        for f in features {
            if let layer = f.layer {
                stop = max(stop, try graph.index(of: layer))
                keep.insert(layer)
            } else {
                stop = graph.nodes.count - 1
                keep.insert("logits")
            }
        }
        let acts = try graph.forward(batch, until: graph.nodes[max(stop, 0)].name, retaining: keep)
        return try read(acts, features: features)
    }

    /// Several features from a forward pass already run (one that kept their layers), without running another.
    /// - Returns: one (N, D) tensor per feature.
    public static func read(_ acts: Activations, features: [Feature]) throws -> [Tensor] {
        let n = acts.input.shape[0]
        return try features.map { f in
            switch f {
            case let .pooled(layer):
                let a = try acts.output(layer)
                guard a.rank == 4 || a.rank == 2 else { throw EngineError("layer '\(layer)' has shape \(a.shape); it cannot be pooled") }
                if a.rank == 2 { return a }
                let (c, hw) = (a.shape[1], a.shape[2] * a.shape[3])
                var out = Tensor(zeros: [n, c])
                for p in 0 ..< n * c {
                    var s: Float = 0
                    for j in p * hw ..< (p + 1) * hw { s += a.data[j] }
                    out.data[p] = s / Float(hw)
                }
                return out
            case .logits:
                let y = try acts.output("logits")
                return y.reshaped([n, y.count / n])
            case .probabilities:
                let y = try acts.output("logits")
                return Softmax.rows(y.reshaped([n, y.count / n]))
            case let .maps(layer):
                return try acts.output(layer)
            }
        }
    }
}

/// Pairwise similarity of embeddings.
public enum Correlation {
    public enum Metric: String, CaseIterable, Sendable {
        /// Pearson's r of the two vectors' entries.
        case pearson
        /// The cosine of the angle between the vectors.
        case cosine
        /// Spearman's ρ: Pearson's r of the entries' ranks (ties get their average rank).
        case spearman
    }

    /// The (n, m) matrix of similarities between the rows of `a` (n, D) and the rows of `b` (m, D).
    public static func matrix(_ a: Tensor, _ b: Tensor, metric: Metric) -> Tensor {
        precondition(a.shape[1] == b.shape[1], "Correlation: embeddings of width \(a.shape[1]) and \(b.shape[1]) differ")
        let (n, m, d) = (a.shape[0], b.shape[0], a.shape[1])
        func rows(_ t: Tensor) -> [[Double]] {
            (0 ..< t.shape[0]).map { i in
                var r = t.data[i * d ..< (i + 1) * d].map(Double.init)
                if metric == .spearman { r = ranks(r) }
                if metric != .cosine {
                    let mean = r.reduce(0, +) / Double(d)
                    r = r.map { $0 - mean }
                }
                let norm = r.reduce(0) { $0 + $1 * $1 }.squareRoot()
                return norm > 0 ? r.map { $0 / norm } : r
            }
        }
        let (ra, rb) = (rows(a), rows(b))
        var out = Tensor(zeros: [n, m])
        for i in 0 ..< n {
            for j in 0 ..< m {
                var s = 0.0
                for k in 0 ..< d { s += ra[i][k] * rb[j][k] }
                out.data[i * m + j] = Float(s)
            }
        }
        return out
    }

    /// Ranks 1...n with ties sharing their average rank, as scipy.stats.rankdata.
    static func ranks(_ x: [Double]) -> [Double] {
        let order = x.indices.sorted { x[$0] < x[$1] }
        var r = [Double](repeating: 0, count: x.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
            for k in i ... j { r[order[k]] = Double(i + j) / 2 + 1 }
            i = j + 1
        }
        return r
    }
}

/// Average-linkage (UPGMA) hierarchical clustering, as scipy.cluster.hierarchy.linkage(method="average").
public enum Clustering {
    /// One merge: clusters `a` and `b` (leaves are 0..<n, merge i makes cluster n+i) at `height`, with `size` leaves.
    public struct Merge: Equatable, Sendable {
        public let a: Int, b: Int
        public let height: Float
        public let size: Int
    }

    /// Clusters n items from their (n, n) distance matrix.
    /// - Returns: n − 1 merges in order of height, smaller cluster id first.
    public static func averageLinkage(_ distances: [Float], n: Int) -> [Merge] {
        precondition(distances.count == n * n, "Clustering: \(distances.count) distances do not fill \(n)x\(n)")
        var active: [Int: (members: Int, id: Int)] = [:]       // slot → (size, cluster id)
        for i in 0 ..< n { active[i] = (1, i) }
        var d = distances.map(Double.init)                      // (n, n), reused by slot
        var merges: [Merge] = []
        for step in 0 ..< max(0, n - 1) {
            var best = (Double.infinity, 0, 0)
            let slots = active.keys.sorted()
            for (x, i) in slots.enumerated() {
                for j in slots[(x + 1)...] where d[i * n + j] < best.0 { best = (d[i * n + j], i, j) }
            }
            let (h, i, j) = best
            let (ci, cj) = (active[i]!, active[j]!)
            merges.append(Merge(a: min(ci.id, cj.id), b: max(ci.id, cj.id), height: Float(h), size: ci.members + cj.members))
            // The merged cluster takes slot i; distance to k is the size-weighted mean (UPGMA).
            for k in slots where k != i && k != j {
                let v = (d[i * n + k] * Double(ci.members) + d[j * n + k] * Double(cj.members)) / Double(ci.members + cj.members)
                d[i * n + k] = v
                d[k * n + i] = v
            }
            active[i] = (ci.members + cj.members, n + step)
            active[j] = nil
        }
        return merges
    }

    /// The leaf order of a dendrogram: left subtree (the first cluster of a merge) before the right, as scipy's
    /// leaves_list.
    public static func leafOrder(_ merges: [Merge], n: Int) -> [Int] {
        guard n > 1, let root = merges.indices.last else { return Array(0 ..< n) }
        var order: [Int] = [], stack = [n + root]
        while let c = stack.popLast() {
            if c < n { order.append(c); continue }
            let m = merges[c - n]
            stack.append(m.b)
            stack.append(m.a)
        }
        return order
    }
}
