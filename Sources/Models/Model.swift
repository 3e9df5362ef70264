import Engine

/// A network ready to run: its graph with weights loaded, and what the analyses need to know about it.
///
/// Confined, not `Sendable`: its graphs reuse their buffers between passes and `inference(keeping:)` fills its
/// cache unsynchronised, so one thread (or task) uses a model at a time, and Swift 6 refuses to hand it to another
/// concurrency domain. Weights are set before the first `inference`: the fused graphs share the layers they do
/// not fuse with `graph`, and passes only read layers.
public final class Model {
    /// The architecture and key layout.
    public let architecture: Architecture
    /// The graph, with "logits" naming its output.
    public let graph: Graph
    /// Number of output classes (or embedding features for a backbone).
    public let classes: Int
    /// Where the weights came from: a file path, or "random (seed S)".
    public let source: String

    /// The input the model expects for one image, (1, 3, H, W).
    public let inputShape: [Int]

    init(architecture: Architecture, graph: Graph, classes: Int, source: String, inputShape: [Int]? = nil) {
        self.architecture = architecture
        self.graph = graph
        self.classes = classes
        self.source = source
        self.inputShape = inputShape ?? [1, 3, architecture.inputSize, architecture.inputSize]
        if (try? graph.index(of: "logits")) == nil, let last = graph.nodes.last { graph.alias("logits", last.name) }
    }

    public var name: String { architecture.name }

    /// Fused inference graphs by the names they keep (see `Graph.fused(keeping:)`); confined with the model.
    private var fusedGraphs: [[String]: Graph] = [:]

    /// The graph with BatchNorm folded into convolutions and ReLUs fused into their epilogues, keeping `names`
    /// (and "logits") as separate layers with their exact outputs. Made once per set of names.
    public func inference(keeping names: Set<String> = []) -> Graph {
        let key = (names.union(["logits"])).sorted()
        if let g = fusedGraphs[key] { return g }
        let g = graph.fused(keeping: Set(key))
        fusedGraphs[key] = g
        return g
    }

    /// Logits (N, K) for a batch of preprocessed images (N, 3, H, W), through the fused inference graph.
    public func logits(_ x: Tensor) throws -> Tensor {
        try inference().forward(x, retaining: ["logits"]).output("logits")
    }

    /// Builds the architecture with zero weights, for listings.
    public static func untrained(_ architecture: Architecture) -> Model {
        Model(architecture: architecture, graph: architecture.build(architecture.defaultClasses),
              classes: architecture.defaultClasses, source: "none")
    }

    /// Builds the architecture with seeded random weights (He-uniform convs and linears, random BN statistics),
    /// for tests and benchmarks where real weights are not installed.
    /// - Parameters:
    ///   - architecture: what to build.
    ///   - classes: the class count; the architecture's default when nil.
    ///   - seed: the random seed.
    ///   - widthDivisor: build a narrow copy; 1 is the real network.
    public static func random(_ architecture: Architecture, classes: Int? = nil, seed: UInt64 = 0, widthDivisor: Int = 1) -> Model {
        let k = classes ?? architecture.defaultClasses
        let g = architecture.make(Variant(classes: k, widthDivisor: widthDivisor))
        var rng = SplitMix64(seed)
        for node in g.nodes {
            for spec in node.layer.parameterSpecs where spec.required {
                let n = spec.shape.reduce(1, *)
                let fanIn = spec.shape.count > 1 ? spec.shape.dropFirst().reduce(1, *) : 1
                let bound: Float = spec.shape.count > 1 ? (6 / Float(fanIn)).squareRoot() : 0.1
                var values = (0 ..< n).map { _ in Float.random(in: -bound ... bound, using: &rng) }
                switch spec.name {
                case "running_var": values = values.map { 0.5 + abs($0) * 5 }
                case "weight" where node.layer is BatchNorm2d: values = values.map { 1 + $0 }
                default: break
                }
                node.layer.setParameter(spec.name, Tensor(shape: spec.shape, data: values))
            }
        }
        return Model(architecture: architecture, graph: g, classes: k, source: "random (seed \(seed))")
    }
}

