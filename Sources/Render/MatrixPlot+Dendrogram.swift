extension MatrixPlot {
    /// The leaves of a scipy-style linkage from left to right (first child first), as scipy's `dendrogram` lists
    /// them.
    /// - Parameters:
    ///   - merges: n - 1 merges; merge i creates cluster n + i from clusters a and b.
    ///   - leaves: n.
    static func leafOrder(_ merges: [(a: Int, b: Int, height: Float)], leaves n: Int) -> [Int] {
        precondition(merges.count == n - 1, "MatrixPlot: a dendrogram over \(n) leaves needs \(n - 1) merges, got \(merges.count)")
        guard n > 1 else { return Array(0 ..< n) }
        var out: [Int] = []
        var stack = [2 * n - 2]
        while let node = stack.popLast() {
            if node < n { out.append(node); continue }
            let m = merges[node - n]
            precondition(m.a < node && m.b < node, "MatrixPlot: merge \(node - n) joins \(m.a) and \(m.b), which are not earlier clusters")
            stack.append(m.b)
            stack.append(m.a)
        }
        return out
    }

    /// Draws the linkage as elbows: leaves at the right edge of `rect` on their rows, the root towards the left.
    /// - Parameters:
    ///   - order: screen row k shows data row order[k].
    func drawDendrogram(_ c: Canvas, _ merges: [(a: Int, b: Int, height: Float)], order: [Int], in rect: Rect) {
        let n = order.count
        guard n > 1, merges.count == n - 1 else { return }
        let top = merges.map(\.height).max() ?? 1
        let cell = rect.height / Double(n)
        // Position of every cluster: y at the middle of its children, x from its height.
        var ys = [Double](repeating: 0, count: 2 * n - 1)
        var xs = [Double](repeating: rect.maxX, count: 2 * n - 1)
        for (k, leaf) in order.enumerated() { ys[leaf] = rect.y + (Double(k) + 0.5) * cell }
        func x(_ h: Float) -> Double { rect.maxX - (top > 0 ? Double(h / top) : 0) * rect.width }
        var lines: [(Double, Double, Double, Double)] = []
        for (i, m) in merges.enumerated() {
            let node = n + i
            xs[node] = x(m.height)
            ys[node] = (ys[m.a] + ys[m.b]) / 2
            lines.append((xs[m.a], ys[m.a], xs[node], ys[m.a]))
            lines.append((xs[node], ys[m.a], xs[node], ys[m.b]))
            lines.append((xs[node], ys[m.b], xs[m.b], ys[m.b]))
        }
        c.segments(lines, Color(0.25, 0.25, 0.3), width: 0.8)
    }
}
