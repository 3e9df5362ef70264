extension Tensor {
    /// Whether every value is finite (no NaN, no infinity).
    public var isFinite: Bool {
        data.withUnsafeBufferPointer { p in
            var ok = true
            for v in p where !v.isFinite { ok = false; break }
            return ok
        }
    }
}

extension Activations {
    /// The first layer, in the order the forward pass ran them, whose output holds a NaN or an infinity: "input"
    /// when the input itself does; nil when every computed output is finite.
    public var firstNonFinite: String? {
        if !input.isFinite { return Graph.inputName }
        for (i, out) in outputs.enumerated() { if let out, !out.isFinite { return graph.nodes[i].name } }
        return nil
    }
}
