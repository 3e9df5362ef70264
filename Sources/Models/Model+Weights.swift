import Engine

extension Model {
    /// Builds a model from a state dict, choosing among the name's layouts the one whose keys match, reading the
    /// class count from the classifier's weight, and checking every key and shape.
    /// - Parameters:
    ///   - name: a zoo name, e.g. "squeezenet1_1".
    ///   - weights: tensors by key (torchvision or caffe names); "module." and "backbone." prefixes are stripped.
    ///   - source: where the weights came from, for messages and listings.
    ///   - widthDivisor: build a narrow copy (test fixtures); 1 is the real network.
    /// - Throws: a `ModelError` listing the missing, unexpected and wrongly shaped keys, with both shapes.
    public static func load(_ name: String, weights: [String: Tensor], source: String, widthDivisor: Int = 1) throws -> Model {
        let layouts = try Zoo.layouts(name)
        // Keys do not depend on width: a narrow build lists them cheaply.
        let keys = layouts.map { Set(expectedKeys($0.make(Variant(classes: 10, widthDivisor: 16)))) }
        let dict = stripPrefixes(weights, expected: keys.reduce(Set()) { $0.union($1) })
        // The layout whose keys overlap the dict most.
        let best = keys.indices.max { keys[$0].intersection(dict.keys).count < keys[$1].intersection(dict.keys).count }!
        let arch = layouts[best]
        var classes = arch.defaultClasses
        if let key = arch.classifierKey, let w = dict[key], let k = w.shape.first { classes = k }
        let graph = arch.make(Variant(classes: classes, widthDivisor: widthDivisor))
        try assign(dict, to: graph, source: source)
        return Model(architecture: arch, graph: graph, classes: classes, source: source)
    }

    /// Like `load`, but a classifier that does not fit (another class count and shape, a fine-tuned head, a head
    /// with other layers) is left out when every layer below it fits: the model then has the architecture's
    /// untrained head, and `skipped` lists what was left out. A mismatch below the head still throws.
    /// - Parameters:
    ///   - name: a zoo name.
    ///   - weights: tensors by key.
    ///   - source: where the weights came from.
    ///   - widthDivisor: build a narrow copy (test fixtures); 1 is the real network.
    /// - Returns: the model, the head's keys that were skipped (empty when everything fitted) and why.
    public static func loadFeatures(_ name: String, weights: [String: Tensor], source: String,
                                    widthDivisor: Int = 1) throws -> (model: Model, skipped: [String], reason: String) {
        do {
            return (try load(name, weights: weights, source: source, widthDivisor: widthDivisor), [], "")
        } catch let strict as ModelError {
            let layouts = try Zoo.layouts(name)
            for arch in layouts where arch.classifierKey != nil {
                let graph = arch.make(Variant(classes: arch.defaultClasses, widthDivisor: widthDivisor))
                let head = headPrefixes(graph, arch)
                let dict = stripPrefixes(weights, expected: Set(expectedKeys(graph)))
                let m = mismatches(dict, graph)
                let inHead = { (key: String) in head.contains { key.hasPrefix($0) } }
                guard !m.isEmpty, (m.missing + m.unexpected + m.wrong.map(\.key)).allSatisfy(inHead),
                      dict.keys.contains(where: { !inHead($0) }) else { continue }
                let body = dict.filter { !inHead($0.key) }
                try assign(body, to: graph, source: source, skipping: inHead)
                let skipped = Array(Set(m.missing + m.unexpected + m.wrong.map(\.key) + dict.keys.filter(inHead))).sorted()
                return (Model(architecture: arch, graph: graph, classes: arch.defaultClasses, source: source), skipped,
                        m.describe())
            }
            throw strict
        }
    }

    /// The name prefixes of the classifier head: every layer with parameters after the embedding layer, by the
    /// first part of its name ("classifier.", "fc.", "conv10.").
    static func headPrefixes(_ graph: Graph, _ arch: Architecture) -> [String] {
        guard let e = try? graph.index(of: arch.embeddingLayer), e >= 0 else { return [] }
        let names = graph.nodes[(e + 1)...].filter { !$0.layer.parameterSpecs.isEmpty }.map(\.name)
        return Array(Set(names.map { String($0.split(separator: ".")[0]) + "." })).sorted()
    }

    /// The state-dict keys a graph expects: "<layer>.<parameter>" for every parameter and buffer.
    static func expectedKeys(_ graph: Graph) -> [String] {
        graph.nodes.flatMap { n in n.layer.parameterSpecs.map { "\(n.name).\($0.name)" } }
    }

    /// Removes "module." (DataParallel) and "backbone." prefixes when that makes keys match.
    static func stripPrefixes(_ dict: [String: Tensor], expected: Set<String>) -> [String: Tensor] {
        var out = dict
        for prefix in ["module.", "backbone.", "model."] {
            let matching = out.keys.filter { $0.hasPrefix(prefix) && expected.contains(String($0.dropFirst(prefix.count))) }
            if matching.isEmpty || out.keys.contains(where: { expected.contains($0) }) && matching.count * 2 < out.count { continue }
            out = Dictionary(out.map { k, v in (k.hasPrefix(prefix) ? String(k.dropFirst(prefix.count)) : k, v) },
                             uniquingKeysWith: { a, _ in a })
        }
        return out
    }

    /// What does not fit between a state dict and a graph.
    struct Mismatches {
        var missing: [String] = [], wrong: [(key: String, message: String)] = [], unexpected: [String] = []
        var isEmpty: Bool { missing.isEmpty && wrong.isEmpty && unexpected.isEmpty }

        /// "wrong shapes: … | missing keys: … | unexpected keys: …", the first eight of each.
        func describe() -> String {
            func list(_ xs: [String]) -> String { xs.count > 8 ? xs.prefix(8).joined(separator: "; ") + "; … (\(xs.count) in all)" : xs.joined(separator: "; ") }
            var parts: [String] = []
            if !wrong.isEmpty { parts.append("wrong shapes: " + list(wrong.map(\.message))) }
            if !missing.isEmpty { parts.append("missing keys: " + list(missing)) }
            if !unexpected.isEmpty { parts.append("unexpected keys: " + list(unexpected)) }
            return parts.joined(separator: " | ")
        }
    }

    /// Checks every key and shape of `dict` against what `graph` expects.
    static func mismatches(_ dict: [String: Tensor], _ graph: Graph) -> Mismatches {
        var m = Mismatches(), known = Set<String>()
        for node in graph.nodes {
            for spec in node.layer.parameterSpecs {
                let key = "\(node.name).\(spec.name)"
                known.insert(key)
                guard let t = dict[key] else {
                    if spec.required { m.missing.append(key) }
                    continue
                }
                if spec.required && t.shape != spec.shape && !(t.count == spec.shape.reduce(1, *) && spec.shape.count <= 1) {
                    m.wrong.append((key, "\(key): file has \(t.shape), model expects \(spec.shape)"))
                }
            }
        }
        m.unexpected = dict.keys.filter { !known.contains($0) }.sorted()
        return m
    }

    /// Copies every expected tensor into the graph after checking all keys and shapes.
    /// - Parameters:
    ///   - skipping: keys left out on purpose (a head that does not fit); their layers keep their weights.
    static func assign(_ dict: [String: Tensor], to graph: Graph, source: String, skipping: (String) -> Bool = { _ in false }) throws {
        var m = mismatches(dict, graph)
        m.missing.removeAll(where: skipping)
        guard m.isEmpty else {
            throw ModelError("\(source): weights do not fit the model (" + m.describe() + ")")
        }
        for node in graph.nodes {
            for spec in node.layer.parameterSpecs where spec.required {
                let key = "\(node.name).\(spec.name)"
                guard let t = dict[key] else { continue }   // only skipped keys are absent by now
                node.layer.setParameter(spec.name, t.reshaped(spec.shape))
            }
        }
    }
}
