/// How two shapes broadcast against each other (numpy's rules), collapsed into rows for the kernels.
///
/// Shapes are aligned at their last axis; a missing or size-1 axis repeats. Output axes along which both inputs step
/// the same way (both vary, or one of them repeats) merge into one, and the last merged axis is the row: so
/// (N, C, H, W)·(N, C, 1, 1) runs N·C rows of H·W with one b per row, (N, H, W, C)·(C) runs N·H·W rows of C sharing one
/// b row, and equal shapes run as a single row. A kernel then sees a row where each input either steps or repeats.
struct Broadcast {
    /// The output shape.
    let shape: [Int]
    /// Sizes of the outer (row) axes after merging, outermost first, and each input's element stride along them
    /// (0 where it repeats).
    let outer: [Int], aStride: [Int], bStride: [Int]
    /// Length of a row, and whether a and b step along it (false: one value repeated over the row).
    let inner: Int, aSteps: Bool, bSteps: Bool
    /// Number of rows.
    let rows: Int
    /// Work units per row (a few rows, or the single row of equal shapes, are cut so that every core gets work),
    /// and how many parts the units are spread over: one per core from 2²¹ output values on. These passes are bound
    /// by memory traffic; below that a second core cost more than it gave (a (1, 256, 56, 56) sum: 0.11 ms on one
    /// core, 0.18 ms on two, on this project's shared machine).
    let pieces: Int, parts: Int

    /// The broadcast of two shapes, or nil when an axis differs and neither size is 1.
    static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0 ..< r {
            let x = i < r - a.count ? 1 : a[i - (r - a.count)], y = i < r - b.count ? 1 : b[i - (r - b.count)]
            if x == y || y == 1 { out[i] = x } else if x == 1 { out[i] = y } else { return nil }
        }
        return out
    }

    /// The row plan for two shapes that broadcast (checked by the layer's `outputShape`).
    /// - Parameter parallelFrom: the output size from which the work is split over the cores.
    init(_ a: [Int], _ b: [Int], parallelFrom: Int = 1 << 21) {
        guard let shape = Broadcast.shape(a, b) else { preconditionFailure("Broadcast: shapes \(a) and \(b) do not broadcast") }
        self.shape = shape
        let r = shape.count
        let pa = [Int](repeating: 1, count: r - a.count) + a, pb = [Int](repeating: 1, count: r - b.count) + b
        var dims: [(n: Int, a: Bool, b: Bool)] = []         // merged axes: size, and whether a and b step along it
        for i in 0 ..< r where shape[i] != 1 {
            let fa = pa[i] != 1, fb = pb[i] != 1
            if let last = dims.last, last.a == fa, last.b == fb { dims[dims.count - 1].n *= shape[i] } else { dims.append((shape[i], fa, fb)) }
        }
        var sa = 1, sb = 1
        var strides = [(a: Int, b: Int)](repeating: (0, 0), count: dims.count)
        for d in dims.indices.reversed() {
            strides[d] = (dims[d].a ? sa : 0, dims[d].b ? sb : 0)
            if dims[d].a { sa *= dims[d].n }
            if dims[d].b { sb *= dims[d].n }
        }
        let last = dims.last ?? (1, true, true)             // a single element (every axis of size 1)
        inner = last.n
        aSteps = last.a
        bSteps = last.b
        outer = dims.dropLast().map(\.n)
        aStride = strides.dropLast().map(\.a)
        bStride = strides.dropLast().map(\.b)
        rows = outer.reduce(1, *)
        let big = rows * inner >= parallelFrom, cores = Parallelism.cores
        pieces = !big || rows >= 4 * cores ? 1 : (4 * cores + rows - 1) / rows
        parts = big ? Swift.min(rows * pieces, cores) : 1
    }

    /// Where row `row` starts in a and in b.
    @inline(__always)
    func offsets(_ row: Int) -> (a: Int, b: Int) {
        var r = row, oa = 0, ob = 0
        for d in outer.indices.reversed() {
            let i = r % outer[d]
            r /= outer[d]
            oa += i * aStride[d]
            ob += i * bStride[d]
        }
        return (oa, ob)
    }

    /// Calls `body(part, its units)` for each of the `parts`, in parallel.
    @inline(__always)
    private func units(_ body: (_ part: Int, _ units: Range<Int>) -> Void) {
        let n = rows * pieces
        parallelFor(parts) { c in body(c, c * n / parts ..< (c + 1) * n / parts) }
    }

    /// The row and the range within it of a work unit.
    @inline(__always)
    private func span(_ unit: Int) -> (row: Int, range: Range<Int>) {
        let row = unit / pieces, k = unit % pieces
        return (row, k * inner / pieces ..< (k + 1) * inner / pieces)
    }

    /// y = f(a, b) over the output shape.
    /// - Parameters:
    ///   - a, b: the inputs, laid out as the shapes this plan was made from.
    ///   - y: the output, `shape`.
    @inline(__always)
    func map(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ f: (Float8, Float8) -> Float8) {
        units { _, units in
            for u in units {
                let (row, range) = span(u)
                let (oa, ob) = offsets(row)
                let pa = a + oa, pb = b + ob, py = y + row * inner
                let ra = Float8(repeating: pa[0]), rb = Float8(repeating: pb[0])
                if aSteps && bSteps {                       // one loop per pattern, without a branch per vector
                    each8(range) { i, n in store8(f(load8(pa + i, n), load8(pb + i, n)), py + i, n) }
                } else if aSteps {
                    each8(range) { i, n in store8(f(load8(pa + i, n), rb), py + i, n) }
                } else {
                    each8(range) { i, n in store8(f(ra, load8(pb + i, n)), py + i, n) }
                }
            }
        }
    }

    /// The gradient of input `k` (0: a, 1: b): g(a, b, y, dy) summed over the axes along which that input repeats.
    /// - Parameters:
    ///   - k: which input.
    ///   - kShape: its shape.
    ///   - a, b: the forward inputs; y, dy: the output and its gradient, `shape`.
    ///   - g: the contribution of one output element, e.g. dy·b for a product's a.
    @inline(__always)
    func gradient(_ k: Int, _ kShape: [Int], _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                  _ dy: UnsafePointer<Float>, _ g: (Float8, Float8, Float8, Float8) -> Float8) -> Tensor {
        let kCount = kShape.reduce(1, *), total = rows * inner
        var out = Tensor(zeros: kShape)                     // like input k
        if kCount == 0 { return out }
        let steps = k == 0 ? aSteps : bSteps
        // Input k shaped like the output: one value per element, written in place. Repeating along some axis: each
        // part sums its units into a buffer of its own, added up at the end.
        let direct = kCount == total
        var partials = [Float](repeating: 0, count: direct ? 0 : (parts - 1) * kCount)
        out.data.withUnsafeMutableBufferPointer { ob in
            partials.withUnsafeMutableBufferPointer { pb in
                let outBase = ob.baseAddress!, partialBase = pb.baseAddress
                units { c, units in
                    let dst = direct || c == 0 ? outBase : partialBase! + (c - 1) * kCount
                    for u in units {
                        let (row, range) = span(u)
                        let (oa, ob) = offsets(row)
                        let pa = a + oa, pb = b + ob, py = y + row * inner, pd = dy + row * inner
                        let pk = dst + (direct ? row * inner : k == 0 ? oa : ob)
                        let ra = Float8(repeating: pa[0]), rb = Float8(repeating: pb[0])
                        @inline(__always) func term(_ i: Int, _ n: Int) -> Float8 {
                            g(aSteps ? load8(pa + i, n) : ra, bSteps ? load8(pb + i, n) : rb, load8(py + i, n), load8(pd + i, n))
                        }
                        if direct {
                            each8(range) { i, n in store8(term(i, n), pk + i, n) }
                        } else if steps {
                            each8(range) { i, n in store8(load8(pk + i, n) + term(i, n), pk + i, n) }
                        } else {
                            pk[0] += sum8(range, term)
                        }
                    }
                }
                for c in 1 ..< (direct ? 1 : parts) {
                    let src = partialBase! + (c - 1) * kCount
                    for j in 0 ..< kCount { outBase[j] += src[j] }
                }
            }
        }
        return out
    }
}

extension Broadcast {
    /// y = f(a, b) with numpy broadcasting; y takes the broadcast shape.
    @inline(__always)
    static func map(_ a: Tensor, _ b: Tensor, _ y: inout Tensor, _ f: (Float8, Float8) -> Float8) {
        let plan = Broadcast(a.shape, b.shape)
        y.prepare(plan.shape)
        if y.count == 0 { return }
        a.data.withUnsafeBufferPointer { ap in
            b.data.withUnsafeBufferPointer { bp in
                y.data.withUnsafeMutableBufferPointer { yp in plan.map(ap.baseAddress!, bp.baseAddress!, yp.baseAddress!, f) }
            }
        }
    }

    /// y = f(…f(f(x₀, x₁), x₂)…, xₙ₋₁): an n-ary op folded over its inputs (one input: the identity).
    @inline(__always)
    static func fold(_ inputs: [Tensor], _ y: inout Tensor, _ f: (Float8, Float8) -> Float8) {
        if inputs.count == 1 { y = inputs[0]; return }
        var acc = inputs[0]
        for k in 1 ..< inputs.count {
            if k == inputs.count - 1 { map(acc, inputs[k], &y, f) } else {
                var t = Tensor(zeros: [0])
                map(acc, inputs[k], &t, f)
                acc = t
            }
        }
    }

    /// The gradients of a binary op from the contribution of one output element to each input, each summed over
    /// the axes along which that input was broadcast.
    /// - Parameters:
    ///   - da, db: (a, b, y, dy) → dy·∂y/∂a and dy·∂y/∂b.
    @inline(__always)
    static func gradients(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, _ needed: [Bool],
                          _ da: (Float8, Float8, Float8, Float8) -> Float8,
                          _ db: (Float8, Float8, Float8, Float8) -> Float8) -> [Tensor?] {
        let plan = Broadcast(inputs[0].shape, inputs[1].shape)
        if y.count == 0 { return inputs.indices.map { needed[$0] ? Tensor(zeros: inputs[$0].shape) : nil } }
        return inputs[0].data.withUnsafeBufferPointer { ap in
            inputs[1].data.withUnsafeBufferPointer { bp in
                y.data.withUnsafeBufferPointer { yp in
                    dy.data.withUnsafeBufferPointer { dp in
                        let (a, b, y, d) = (ap.baseAddress!, bp.baseAddress!, yp.baseAddress!, dp.baseAddress!)
                        return [needed[0] ? plan.gradient(0, inputs[0].shape, a, b, y, d, da) : nil,
                                needed[1] ? plan.gradient(1, inputs[1].shape, a, b, y, d, db) : nil]
                    }
                }
            }
        }
    }

    /// dy summed over the axes along which an input of `shape` was broadcast to dy's shape.
    static func sum(_ dy: Tensor, to shape: [Int]) -> Tensor {
        if shape.reduce(1, *) == dy.count { return dy.reshaped(shape) }
        if dy.count == 0 { return Tensor(zeros: shape) }
        let plan = Broadcast(shape, dy.shape)
        return dy.data.withUnsafeBufferPointer { dp in
            let d = dp.baseAddress!                         // stands in for the unread inputs: their offsets stay inside dy
            return plan.gradient(0, shape, d, d, d, d) { _, _, _, dy in dy }
        }
    }

    /// The broadcast shape of all inputs, or an error naming the op and the shapes.
    /// - Parameters:
    ///   - arity: how many inputs the op takes.
    static func outputShape(_ inputs: [[Int]], _ kind: String, arity: ClosedRange<Int>) throws -> [Int] {
        try expect(arity.contains(inputs.count), "\(kind) takes \(arity.lowerBound == arity.upperBound ? "" : "\(arity.lowerBound) to ")"
                   + "\(arity.upperBound) inputs, got \(inputs.count)")
        var shape = inputs[0]
        for s in inputs.dropFirst() {
            guard let t = Broadcast.shape(shape, s) else { throw EngineError("\(kind): input shapes \(inputs) do not broadcast") }
            shape = t
        }
        try expect(shape.count <= 6, "\(kind): the broadcast shape \(shape) has more than 6 axes")
        return shape
    }
}
