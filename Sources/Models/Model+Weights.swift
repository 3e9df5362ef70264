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

    /// Copies every expected tensor into the graph after checking all keys and shapes.
    static func assign(_ dict: [String: Tensor], to graph: Graph, source: String) throws {
        var missing: [String] = [], wrong: [String] = [], known = Set<String>()
        for node in graph.nodes {
            for spec in node.layer.parameterSpecs {
                let key = "\(node.name).\(spec.name)"
                known.insert(key)
                guard let t = dict[key] else {
                    if spec.required { missing.append(key) }
                    continue
                }
                if spec.required && t.shape != spec.shape && !(t.count == spec.shape.reduce(1, *) && spec.shape.count <= 1) {
                    wrong.append("\(key): file has \(t.shape), model expects \(spec.shape)")
                }
            }
        }
        let unexpected = dict.keys.filter { !known.contains($0) }.sorted()
        if !missing.isEmpty || !wrong.isEmpty || !unexpected.isEmpty {
            var parts: [String] = []
            func list(_ xs: [String]) -> String { xs.count > 8 ? xs.prefix(8).joined(separator: "; ") + "; … (\(xs.count) in all)" : xs.joined(separator: "; ") }
            if !wrong.isEmpty { parts.append("wrong shapes: " + list(wrong)) }
            if !missing.isEmpty { parts.append("missing keys: " + list(missing)) }
            if !unexpected.isEmpty { parts.append("unexpected keys: " + list(unexpected)) }
            throw ModelError("\(source): weights do not fit the model (" + parts.joined(separator: " | ") + ")")
        }
        for node in graph.nodes {
            for spec in node.layer.parameterSpecs where spec.required {
                let t = dict["\(node.name).\(spec.name)"]!
                node.layer.setParameter(spec.name, t.reshaped(spec.shape))
            }
        }
    }
}
