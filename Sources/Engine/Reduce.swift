/// A reduction over a set of axes, as ONNX ReduceSum, ReduceMean, ReduceMax, ReduceMin and ReduceL2 (torch.sum,
/// mean, amax, amin and linalg.vector_norm over dims).
///
/// Gradients: sum and mean spread dy evenly; L2 gives dy·x/‖x‖ (0 where ‖x‖ = 0, as torch's norm_backward); max and
/// min split dy evenly among the values equal to the result, as torch.amax/amin do (torch.max(x, dim), which returns
/// indices, gives it all to one of them instead; with distinct values the two agree). NaN propagates forward.
public final class Reduce: Layer {
    public enum Op: String, Sendable { case sum, mean, max, min, l2 }
    public let op: Op
    /// The reduced axes as given; empty reduces all of them (ONNX's default with noop_with_empty_axes = 0).
    public let axes: [Int]
    /// Whether reduced axes stay as size 1 (ONNX's keepdims, torch's keepdim).
    public let keepDims: Bool

    /// - Parameters:
    ///   - axes: the axes to reduce, negative ones counting from the end; empty for all.
    public init(_ op: Op, axes: [Int] = [], keepDims: Bool) {
        self.op = op
        self.axes = axes
        self.keepDims = keepDims
    }

    public var kind: String {
        switch op {
        case .sum: "ReduceSum"
        case .mean: "ReduceMean"
        case .max: "ReduceMax"
        case .min: "ReduceMin"
        case .l2: "ReduceL2"
        }
    }
    public var summary: String { (axes.isEmpty ? "all axes" : "axes \(axes)") + (keepDims ? ", keepdims" : "") }

    /// Which axes of a rank-r input are reduced.
    func reduced(_ rank: Int) -> [Bool] {
        if axes.isEmpty { return [Bool](repeating: true, count: rank) }
        var r = [Bool](repeating: false, count: rank)
        for a in axes { r[a < 0 ? a + rank : a] = true }
        return r
    }

    /// The input shape with reduced axes set to 1: the output with keepDims, and the shape dy broadcasts from.
    func keptShape(_ shape: [Int]) -> [Int] { zip(shape, reduced(shape.count)).map { $1 ? 1 : $0 } }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        let s = try onlyInput(inputs)
        for a in axes { try expect(a >= -s.count && a < s.count, "\(kind): axis \(a) is out of range for input shape \(s)") }
        let r = reduced(s.count)
        return keepDims ? keptShape(s) : s.indices.filter { !r[$0] }.map { s[$0] }
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let x = inputs[0]
        let shape = try! outputShape([x.shape])
        var values = reduce(x, op == .l2 ? .sumSquares : op == .max ? .max : op == .min ? .min : .sum)
        let count = Float(x.count / Swift.max(values.count, 1))
        if op == .mean { values = values.map { $0 / count } }
        if op == .l2 { values = values.map { $0.squareRoot() } }
        y = Tensor(shape: shape, data: values)
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        guard needed[0] else { return [nil] }
        let x = inputs[0], kept = keptShape(x.shape)
        let dyk = dy.reshaped(kept), yk = y.reshaped(kept)  // like the kept shape
        var dx = Tensor(zeros: [0])                         // like x
        switch op {
        case .sum: Broadcast.map(dyk, x, &dx) { d, _ in d }
        case .mean:
            let scale = Float(y.count) / Float(Swift.max(x.count, 1))
            Broadcast.map(dyk, x, &dx) { d, _ in d * scale }
        case .l2:
            var share = Tensor(zeros: [0])                  // dy / ‖x‖, 0 where ‖x‖ = 0
            Broadcast.map(dyk, yk, &share) { d, n in (d / n).replacing(with: 0, where: n .== 0) }
            Broadcast.map(x, share, &dx) { $0 * $1 }
        case .max, .min:
            var hits = Tensor(zeros: [0]), share = Tensor(zeros: [0])   // hits like x: 1 where x equals the result
            Broadcast.map(x, yk, &hits) { x, y in Float8(repeating: 1).replacing(with: 0, where: x .!= y) }
            let ties = Tensor(shape: kept, data: reduce(hits, .sum))
            Broadcast.map(dyk, ties, &share) { $0 / $1 }
            Broadcast.map(hits, share, &dx) { $0 * $1 }
        }
        return [dx]
    }

    /// One combining rule of a reduction step.
    enum Step { case sum, sumSquares, max, min }

    /// x reduced over this layer's axes by `step`, in the kept shape's row-major order. Consecutive axes that are
    /// all reduced or all kept merge, and each run of reduced axes is one pass [A, R, B] → [A, B], last run first.
    func reduce(_ x: Tensor, _ step: Step) -> [Float] {
        var groups: [(n: Int, reduced: Bool)] = []
        for (n, r) in zip(x.shape, reduced(x.rank)) where n != 1 {
            if let last = groups.last, last.reduced == r { groups[groups.count - 1].n *= n } else { groups.append((n, r)) }
        }
        guard let last = groups.lastIndex(where: \.reduced), x.count > 0 else {
            return x.count == 0 ? [Float](repeating: step == .max ? -.infinity : step == .min ? .infinity : 0, count: keptShape(x.shape).reduce(1, *))
                                : x.data.map { step == .sumSquares ? $0 * $0 : $0 }
        }
        var values = x.data, first = true, j = last
        while j >= 0 {
            if groups[j].reduced {
                let a = groups[..<j].reduce(1) { $0 * $1.n }, b = groups[(j + 1)...].reduce(1) { $0 * $1.n }
                values = Reduce.pass(values, a, groups[j].n, b, first || step != .sumSquares ? step : .sum)
                groups.remove(at: j)
                first = false
            }
            j -= 1
        }
        return values
    }

    /// dst[a, b] = ⊕ over r of src[a, r, b].
    static func pass(_ src: [Float], _ a: Int, _ r: Int, _ b: Int, _ step: Step) -> [Float] {
        switch step {
        case .sum: pass(src, a, r, b, 0, { $0 + $1 }, { $0.sum() })
        case .sumSquares: pass(src, a, r, b, 0, { $0 + $1 * $1 }, { $0.sum() })
        case .max: pass(src, a, r, b, -.infinity, { a, v in a.replacing(with: v, where: (v .> a) .| (v .!= v)) }, nil)
        case .min: pass(src, a, r, b, .infinity, { a, v in a.replacing(with: v, where: (v .< a) .| (v .!= v)) }, nil)
        }
    }

    /// One pass with a combining rule: `start` its neutral value, `combine(acc, v)` adding v to the accumulator, and
    /// `total` the sum of a vector's lanes (nil: fold the lanes with `combine`).
    @inline(__always)
    private static func pass(_ src: [Float], _ a: Int, _ r: Int, _ b: Int, _ start: Float,
                             _ combine: (Float8, Float8) -> Float8, _ total: ((Float8) -> Float)?) -> [Float] {
        var dst = [Float](repeating: start, count: a * b)   // (A, B)
        if src.isEmpty || dst.isEmpty { return dst }
        src.withUnsafeBufferPointer { sp in
            dst.withUnsafeMutableBufferPointer { dp in
                let s = sp.baseAddress!, d = dp.baseAddress!
                if b == 1 {                                 // contiguous rows
                    parallelChunks(a, work: (a * r) >> 5) { range in        // memory-bound, as `Broadcast`
                        for i in range {
                            let row = s + i * r
                            var acc = Float8(repeating: start)
                            each8(0 ..< r) { k, m in
                                let v = load8(row + k, m)
                                acc = combine(acc, m == 8 ? v : v.replacing(with: start, where: .!lanesBelow(m)))
                            }
                            if let total { d[i] = total(acc) } else {
                                var v = Float8(repeating: acc[0])
                                for k in 1 ..< 8 { v = combine(v, Float8(repeating: acc[k])) }
                                d[i] = v[0]
                            }
                        }
                    }
                } else {                                    // rows b wide, combined into the output row one by one
                    parallelChunks(a * b, work: (a * r * b) >> 5) { range in
                        var i = range.lowerBound
                        while i < range.upperBound {
                            let ai = i / b, end = Swift.min(range.upperBound, (ai + 1) * b), cols = i - ai * b ..< end - ai * b
                            let out = d + ai * b
                            for ri in 0 ..< r {
                                let row = s + (ai * r + ri) * b
                                each8(cols) { k, m in store8(combine(load8(out + k, m), load8(row + k, m)), out + k, m) }
                            }
                            i = end
                        }
                    }
                }
            }
        }
        return dst
    }
}
