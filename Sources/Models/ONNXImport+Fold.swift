import Engine
import TensorIO

/// Integer arithmetic on known tensors: the shape chains exporters write (Shape → Gather → Unsqueeze → Concat →
/// Reshape, Range, ConstantOfShape, Equal/Where), computed at import so the engine sees only Float32.
enum IntFold {
    /// numpy broadcasting of two shapes, or nil when they do not broadcast.
    static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = Swift.max(a.count, b.count)
        let a = [Int](repeating: 1, count: r - a.count) + a, b = [Int](repeating: 1, count: r - b.count) + b
        var out: [Int] = []
        for (x, y) in zip(a, b) {
            guard x == y || x == 1 || y == 1 else { return nil }
            out.append(x == 1 ? y : x)
        }
        return out
    }

    /// The flat index into a tensor of `shape` (right-aligned, broadcast) of every element of `out`.
    static func sources(_ shape: [Int], into out: [Int]) -> [Int] {
        let s = [Int](repeating: 1, count: out.count - shape.count) + shape
        var strides = [Int](repeating: 0, count: out.count), step = 1
        for i in stride(from: out.count - 1, through: 0, by: -1) {
            strides[i] = s[i] == 1 ? 0 : step
            step *= s[i]
        }
        let n = out.reduce(1, *)
        var index = [Int](repeating: 0, count: out.count), result = [Int](repeating: 0, count: n)
        for k in 0 ..< n {
            result[k] = zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 }
            var d = out.count - 1
            while d >= 0 { index[d] += 1; if index[d] < out[d] { break }; index[d] = 0; d -= 1 }
        }
        return result
    }

    /// Elementwise `op` of integer tensors with broadcasting.
    static func binary(_ a: Folded, _ b: Folded, _ op: (Int, Int) -> Int?) -> Folded? {
        guard let x = a.ints, let y = b.ints, let shape = broadcast(a.shape, b.shape) else { return nil }
        let ia = sources(a.shape, into: shape), ib = sources(b.shape, into: shape)
        var out: [Int] = []
        for k in ia.indices {
            guard let v = op(x[ia[k]], y[ib[k]]) else { return nil }
            out.append(v)
        }
        return Folded(shape: shape, ints: out)
    }

    /// numpy `where(cond, a, b)` with broadcasting, for integer or float branches.
    static func select(_ c: Folded, _ a: Folded, _ b: Folded) -> Folded? {
        guard let cond = c.ints, let s1 = broadcast(c.shape, a.shape), let shape = broadcast(s1, b.shape) else { return nil }
        let ic = sources(c.shape, into: shape), ia = sources(a.shape, into: shape), ib = sources(b.shape, into: shape)
        if let x = a.ints, let y = b.ints {
            return Folded(shape: shape, ints: ic.indices.map { cond[ic[$0]] != 0 ? x[ia[$0]] : y[ib[$0]] })
        }
        return Folded(shape: shape, floats: ic.indices.map { cond[ic[$0]] != 0 ? a.floats[ia[$0]] : b.floats[ib[$0]] })
    }

    /// Elements of `data` along `axis` at `indices` (numpy `take`), negative indices counted from the end.
    static func gather(_ data: Folded, _ indices: Folded, axis: Int) -> Folded? {
        guard let idx = indices.ints, axis >= 0, axis < data.shape.count else { return nil }
        let dim = data.shape[axis], outer = data.shape[..<axis].reduce(1, *), inner = data.shape[(axis + 1)...].reduce(1, *)
        var picks: [Int] = []
        for i in idx {
            let j = i < 0 ? i + dim : i
            guard j >= 0 && j < dim else { return nil }
            picks.append(j)
        }
        let shape = Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...])
        var flat: [Int] = []
        flat.reserveCapacity(outer * picks.count * inner)
        for o in 0 ..< outer { for j in picks { for k in 0 ..< inner { flat.append((o * dim + j) * inner + k) } } }
        if let v = data.ints { return Folded(shape: shape, ints: flat.map { v[$0] }) }
        return Folded(shape: shape, floats: flat.map { data.floats[$0] })
    }

    /// ONNX Slice on a known tensor: starts, ends, axes and steps as given, clamped as the spec says.
    static func slice(_ data: Folded, starts: [Int], ends: [Int], axes: [Int], steps: [Int]) -> Folded? {
        var ranges = data.shape.map { (start: 0, end: $0, step: 1) }
        for (k, axis) in axes.enumerated() {
            let a = axis < 0 ? axis + data.shape.count : axis
            guard a >= 0, a < data.shape.count, k < starts.count, k < ends.count else { return nil }
            let r = sliceRange(dim: data.shape[a], start: starts[k], end: ends[k], step: k < steps.count ? steps[k] : 1)
            guard let r else { return nil }
            ranges[a] = r
        }
        let shape = ranges.map { r in Swift.max(0, (r.end - r.start + r.step + (r.step > 0 ? -1 : 1)) / r.step) }
        var flat: [Int] = []
        let n = shape.reduce(1, *)
        var index = [Int](repeating: 0, count: shape.count)
        for _ in 0 ..< n {
            var off = 0
            for d in 0 ..< shape.count { off = off * data.shape[d] + ranges[d].start + index[d] * ranges[d].step }
            flat.append(off)
            var d = shape.count - 1
            while d >= 0 { index[d] += 1; if index[d] < shape[d] { break }; index[d] = 0; d -= 1 }
        }
        if let v = data.ints { return Folded(shape: shape, ints: flat.map { v[$0] }) }
        return Folded(shape: shape, floats: flat.map { data.floats[$0] })
    }

    /// ONNX's clamping of one axis of a Slice: negative starts and ends count from the end; with a positive step
    /// start is clamped to [0, dim] and end to [0, dim], with a negative one to [−1, dim − 1].
    /// - Returns: the first index, the bound (exclusive) and the step, or nil for a zero step.
    static func sliceRange(dim: Int, start: Int, end: Int, step: Int) -> (start: Int, end: Int, step: Int)? {
        guard step != 0 else { return nil }
        // Clamp first, so INT64_MAX ("to the end") and INT64_MIN cannot overflow.
        let (s0, e0) = (Swift.min(Swift.max(start, -dim - 1), dim + 1), Swift.min(Swift.max(end, -dim - 1), dim + 1))
        var s = s0 < 0 ? s0 + dim : s0, e = e0 < 0 ? e0 + dim : e0
        if step > 0 {
            s = Swift.min(Swift.max(s, 0), dim)
            e = Swift.min(Swift.max(e, 0), dim)
        } else {
            s = Swift.min(Swift.max(s, -1), dim - 1)
            e = Swift.min(Swift.max(e, -1), dim - 1)
        }
        return (s, e, step)
    }

    /// numpy `transpose` of a known tensor.
    static func transpose(_ x: Folded, _ perm: [Int]) -> Folded {
        let shape = perm.map { x.shape[$0] }
        var strides = [Int](repeating: 1, count: x.shape.count)
        for d in stride(from: x.shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * x.shape[d + 1] }
        var flat: [Int] = [], index = [Int](repeating: 0, count: shape.count)
        for _ in 0 ..< x.count {
            flat.append(zip(index, perm).reduce(0) { $0 + $1.0 * strides[$1.1] })
            var d = shape.count - 1
            while d >= 0 { index[d] += 1; if index[d] < shape[d] { break }; index[d] = 0; d -= 1 }
        }
        if let v = x.ints { return Folded(shape: shape, ints: flat.map { v[$0] }) }
        return Folded(shape: shape, floats: flat.map { x.floats[$0] })
    }
}
