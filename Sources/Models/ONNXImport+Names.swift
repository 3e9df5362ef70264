import Engine
import TensorIO

extension ONNXImport.Builder {
    /// Keeps the nodes the output needs, names them after their modules, and builds the graph.
    mutating func finish() throws -> ONNXImport.Imported {
        guard let out = model.graph.outputs.first else { throw ModelError("\(source): the graph declares no output") }
        if model.graph.outputs.count > 1 {
            notes.append("the model has \(model.graph.outputs.count) outputs; ConvLens uses the first, '\(out.name)'")
        }
        let last: Int
        switch values[out.name] {
        case let .computed(i, _)?: last = i
        case .input?: throw ModelError("\(source): the output '\(out.name)' is the input itself")
        case .known?: throw ModelError("\(source): the output '\(out.name)' does not depend on the input")
        case nil, .flattened?: throw ModelError("\(source): the output '\(out.name)' is not computed by any node ConvLens can run")
        }
        // Pending nodes are in dependency order; keep the output's ancestors, so the output is the last node.
        var live = [Bool](repeating: false, count: pending.count)
        live[last] = true
        for i in stride(from: last, through: 0, by: -1) where live[i] {
            for case let .node(j) in pending[i].inputs { live[j] = true }
        }
        let kept = pending.indices.filter { live[$0] }
        let ops = kept.filter { !(pending[$0].layer is Constant) }

        // The calls of each module: the nodes whose scope lies inside path P form runs of consecutive nodes (nodes
        // without a scope do not break a run); run 0 is P's first call, run k the call named P_k, as torch's hooks
        // and the zoo's `<block>.relu_1` tell them apart. A call's output is its last node's.
        var runs: [String: [[Int]]] = [:], lastPosition: [String: Int] = [:]
        var call: [Int: String] = [:]                          // op node → the call of its own (innermost) module
        for (position, i) in ops.filter({ !pending[$0].scope.isEmpty }).enumerated() {
            for p in modulePaths(pending[i].scope) {
                if lastPosition[p] == position - 1 { runs[p]![runs[p]!.count - 1].append(i) } else { runs[p, default: []].append([i]) }
                lastPosition[p] = position
            }
            let k = runs[pending[i].scope]!.count - 1
            call[i] = k == 0 ? pending[i].scope : "\(pending[i].scope)_\(k)"
        }
        var calls: [String: [Int]] = [:]                      // "layer1.0", "layer1.0.relu_1" → its nodes
        for (p, list) in runs {
            for (k, run) in list.enumerated() where calls[k == 0 ? p : "\(p)_\(k)"] == nil { calls[k == 0 ? p : "\(p)_\(k)"] = run }
        }
        var names: [Int: String] = [:], taken: Set<String> = [Graph.inputName, "output", "logits"]
        for i in ops {                                         // alone in its call: the call's path
            if let c = call[i], calls[c]?.count == 1, !taken.contains(c) {
                names[i] = c
                taken.insert(c)
            }
        }
        for i in kept where names[i] == nil {
            let p = pending[i]
            let base = p.layer is Constant ? p.tensors.first ?? "constant"
                                            : (call[i].map { $0 + "." } ?? "") + p.op.lowercased()
            var name = base, k = 1
            while taken.contains(name) || calls[name] != nil { name = "\(base)_\(k)"; k += 1 }
            names[i] = name
            taken.insert(name)
        }
        let lastIn = calls.mapValues { $0.last! }
        let g = Graph()
        for i in kept {
            let p = pending[i]
            try g.append(names[i]!, p.layer, inputs: p.inputs.map { if case let .node(j) = $0 { names[j]! } else { Graph.inputName } })
        }
        for (path, i) in lastIn.sorted(by: { $0.key < $1.key }) where !taken.contains(path) {
            try g.addAlias(path, names[i]!)
            taken.insert(path)
        }
        for i in ops {
            for t in pending[i].tensors where !taken.contains(t) {
                try g.addAlias(t, names[i]!, spelling: true)
                taken.insert(t)
            }
        }
        if let image = model.graph.inputs.first(where: { if case .input? = values[$0.name] { true } else { false } }),
           !taken.contains(image.name) {
            try g.addAlias(image.name, Graph.inputName)
        }
        try g.addAlias("output", names[last]!)
        let cam = camLayer(ops, last: last).map { i in
            // The shortest module path naming the node reads best ("layer4" rather than "layer4.1.relu_1").
            lastIn.filter { $0.value == i }.keys.min { ($0.count, $0) < ($1.count, $1) } ?? names[i]!
        }
        let input = values.values.first { if case .input = $0 { true } else { false } }!.shape
        return ONNXImport.Imported(graph: g, inputShape: input, outputShape: pending[last].shape, camLayer: cam, notes: notes)
    }

    /// "layer1.0.conv1" → ["layer1", "layer1.0", "layer1.0.conv1"]; "" → [].
    func modulePaths(_ scope: String) -> [String] {
        var paths: [String] = [], path = ""
        for part in scope.split(separator: ".") {
            path = path.isEmpty ? String(part) : path + "." + part
            paths.append(path)
        }
        return paths
    }

    /// The default Grad-CAM layer: the last node with a 4-D output of spatial size above 1 that feeds a node whose
    /// output has no spatial extent left (a global pooling, a flatten), as pytorch-grad-cam users pick it.
    func camLayer(_ ops: [Int], last: Int) -> Int? {
        func spatial(_ s: [Int]) -> Bool { s.count == 4 && s[2] * s[3] > 1 }
        var best: Int?
        for i in ops where !spatial(pending[i].shape) {
            for case let .node(j) in pending[i].inputs where spatial(pending[j].shape) && !(pending[j].layer is Constant) {
                best = Swift.max(best ?? j, j)
            }
        }
        return best
    }
}
