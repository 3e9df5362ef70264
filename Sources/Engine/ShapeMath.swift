/// Shape arithmetic shared by the shape ops: axis normalisation, strides and one strided copy that Transpose,
/// Slice and their gradients are made of.
enum ShapeMath {
    /// An axis given in [-rank, rank) as an index in [0, rank); negative axes count from the end (numpy).
    /// - Throws: an error naming the op, the axis and the rank.
    static func axis(_ a: Int, rank: Int, _ op: String) throws -> Int {
        try expect(a >= -rank && a < rank, "\(op): axis \(a) is out of range for a rank-\(rank) input")
        return a < 0 ? a + rank : a
    }

    /// Several axes normalised, refusing repeats.
    static func axes(_ axes: [Int], rank: Int, _ op: String) throws -> [Int] {
        let r = try axes.map { try axis($0, rank: rank, op) }
        try expect(Set(r).count == r.count, "\(op): axes \(axes) repeat an axis")
        return r
    }

    /// The element count of a shape whose sizes are ≥ 0, or an error naming the op when it does not fit in an Int
    /// (a hostile file's sizes must fail in the shape rule, not trap in a product).
    static func count(_ shape: [Int], _ op: String) throws -> Int {
        var n = 1
        for d in shape {
            try expect(d >= 0, "\(op): negative size in shape \(shape)")
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            try expect(!overflow, "\(op): shape \(shape) has more elements than an Int can count")
            n = p
        }
        return n
    }

    /// Row-major strides of a shape, in elements.
    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) { s[d] = acc; acc *= shape[d] }
        return s
    }

    /// Merges neighbouring axes that are contiguous in both layouts and drops axes of size 1, so the innermost loop
    /// of a copy is as long as it can be (a channel slice of NCHW becomes one block per image).
    static func collapse(_ shape: [Int], _ a: [Int], _ b: [Int]) -> (shape: [Int], a: [Int], b: [Int]) {
        var s: [Int] = [], sa: [Int] = [], sb: [Int] = []
        for d in shape.indices where shape[d] != 1 {
            if let last = s.indices.last, sa[last] == a[d] * shape[d], sb[last] == b[d] * shape[d] {
                s[last] *= shape[d]; sa[last] = a[d]; sb[last] = b[d]
            } else {
                s.append(shape[d]); sa.append(a[d]); sb.append(b[d])
            }
        }
        return (s, sa, sb)
    }

    /// Copies a box of `shape` elements: dst[Σ iₖ·dstStrides[k]] = src[Σ iₖ·srcStrides[k]]. Strides may be negative
    /// (the pointers then point at the box's first element, not at the lowest address). Each destination element
    /// is written once, so the rows are spread over the cores.
    static func copy(_ shape: [Int], _ src: UnsafePointer<Float>, _ srcStrides: [Int],
                     _ dst: UnsafeMutablePointer<Float>, _ dstStrides: [Int]) {
        let total = shape.reduce(1, *)
        if total == 0 { return }
        let (s, ss, ds) = collapse(shape, srcStrides, dstStrides)
        if s.isEmpty { dst[0] = src[0]; return }
        let r = s.count, inner = s[r - 1], si = ss[r - 1], di = ds[r - 1]
        parallelChunks(total / inner, work: total) { rows in
            var idx = [Int](repeating: 0, count: r - 1)                   // index of the current row over axes 0..<r-1
            var rem = rows.lowerBound, so = 0, dOff = 0
            for d in stride(from: r - 2, through: 0, by: -1) { idx[d] = rem % s[d]; rem /= s[d]; so += idx[d] * ss[d]; dOff += idx[d] * ds[d] }
            for _ in rows {
                let from = src + so, to = dst + dOff
                if si == 1 && di == 1 { to.update(from: from, count: inner) } else { for j in 0 ..< inner { to[j * di] = from[j * si] } }
                var d = r - 2
                while d >= 0 {
                    idx[d] += 1; so += ss[d]; dOff += ds[d]
                    if idx[d] < s[d] { break }
                    so -= ss[d] * s[d]; dOff -= ds[d] * s[d]; idx[d] = 0
                    d -= 1
                }
            }
        }
    }
}
