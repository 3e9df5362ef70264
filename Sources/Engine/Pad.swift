/// Pads, or with negative pads crops, the listed axes, as ONNX Pad (opset ≥ 11; `axes` from opset 18) and
/// numpy.pad; torch's F.pad exports to it.
///
/// `pads` is ONNX's [x1_begin, x2_begin, ..., x1_end, x2_end] for the axes listed (default all, in order), so an
/// axis of size d becomes d + begin + end. Negative pads crop first and the positive ones then pad what is left,
/// as onnxruntime does, so reflect and edge use the cropped axis's borders. Modes, on [1, 2, 3, 4] padded by 2 and 3:
/// - constant: the value, [v, v, 1, 2, 3, 4, v, v, v];
/// - reflect: mirrored without repeating the border, [3, 2, 1, 2, 3, 4, 3, 2, 1] (torch's "reflect"); pads beyond
///   d − 1 keep reflecting back and forth, as numpy does (torch and onnxruntime refuse them);
/// - edge: the border repeated, [1, 1, 1, 2, 3, 4, 4, 4, 4] (torch's "replicate").
/// The backward sums each output's gradient into the input element it copies (several, for reflect and edge).
public final class Pad: Layer {
    public enum Mode: String, Sendable { case constant, reflect, edge }

    /// Begins then ends, one pair per listed axis; negative crops.
    public let pads: [Int]
    /// The padded axes (default 0..<pads.count / 2); negative counts from the end.
    public let axes: [Int]?
    public let mode: Mode
    /// The fill of constant mode.
    public let value: Float

    public init(_ pads: [Int], axes: [Int]? = nil, mode: Mode = .constant, value: Float = 0) {
        self.pads = pads
        self.axes = axes
        self.mode = mode
        self.value = value
    }

    public var kind: String { "Pad" }
    public var summary: String {
        "\(mode.rawValue)\(mode == .constant && value != 0 ? " \(value)" : ""), pads \(pads)" + (axes.map { ", axes \($0)" } ?? "")
    }

    /// Per axis: the output size, and the input's [lo, lo + kept) that outputs [left, left + kept) copy; checked
    /// without allocating, so hostile pads fail here rather than in an allocation or an overflow.
    func geometry(_ shape: [Int]) throws -> [(out: Int, left: Int, lo: Int, kept: Int)] {
        try expect(pads.count % 2 == 0, "Pad: pads \(pads) do not come in begin/end pairs")
        let k = pads.count / 2
        let axes = try ShapeMath.axes(self.axes ?? Array(0 ..< k), rank: shape.count, "Pad")
        try expect(axes.count == k, "Pad: \(pads.count) pads do not fit axes \(axes) (two per axis)")
        var begin = shape.map { _ in 0 }, end = begin
        for (i, a) in axes.enumerated() { (begin[a], end[a]) = (pads[i], pads[i + k]) }
        let axesOut = try shape.indices.map { a -> (out: Int, left: Int, lo: Int, kept: Int) in
            let d = shape[a], (b, e) = (begin[a], end[a])
            let (grown, o1) = d.addingReportingOverflow(b), (out, o2) = grown.addingReportingOverflow(e)
            let (kept, o3) = (d + Swift.min(b, 0)).addingReportingOverflow(Swift.min(e, 0))
            try expect(!o1 && !o2 && !o3 && kept >= 0 && out >= 0, "Pad: pads \(b), \(e) crop more than axis \(a) of input \(shape) holds")
            try expect(mode == .constant || kept > 0 || out == 0, "Pad: cannot \(mode.rawValue)-pad axis \(a) of input \(shape): nothing is left to copy")
            return (out, Swift.max(0, b), -Swift.min(b, 0), kept)
        }
        _ = try ShapeMath.count(axesOut.map(\.out), "Pad")
        return axesOut
    }

    /// For every axis, the input index each output index copies (−1 for the constant), with its geometry.
    func indexMaps(_ shape: [Int]) -> [(map: [Int], left: Int, lo: Int, kept: Int)] {
        try! geometry(shape).map { g in
            let map = (0 ..< g.out).map { o in
                var c = o - g.left                                       // index into the kept part
                if c >= 0 && c < g.kept { return g.lo + c }
                switch mode {
                case .constant: return -1
                case .edge: c = Swift.min(Swift.max(c, 0), g.kept - 1)
                case .reflect:
                    if g.kept == 1 { c = 0; break }
                    let period = 2 * (g.kept - 1)
                    c = ((c % period) + period) % period
                    if c >= g.kept { c = period - c }
                }
                return g.lo + c
            }
            return (map, g.left, g.lo, g.kept)
        }
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { try geometry(inputs[0]).map(\.out) }

    /// Calls body(output row, input row offset or nil) for each row of the output along its last axis, in chunks
    /// spread over the cores when `parallel`.
    func rows(_ maps: [(map: [Int], left: Int, lo: Int, kept: Int)], _ inShape: [Int], parallel: Bool, _ body: (Int, Int?) -> Void) {
        let outer = maps.dropLast().map(\.map.count), strides = ShapeMath.strides(inShape)
        let n = outer.reduce(1, *), work = parallel ? n * (maps.last?.map.count ?? 1) : 0
        parallelChunks(n, work: work) { range in
            for r in range {
                var rem = r, offset: Int? = 0
                for d in stride(from: outer.count - 1, through: 0, by: -1) {
                    let i = maps[d].map[rem % outer[d]]
                    rem /= outer[d]
                    if i < 0 { offset = nil } else if let o = offset { offset = o + i * strides[d] }
                }
                body(r, offset)
            }
        }
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let x = inputs[0], maps = indexMaps(x.shape)
        y.prepare(maps.map(\.map.count))                                 // (d₀ + b₀ + e₀, ...)
        if x.rank == 0 { y.data[0] = x.data[0]; return }
        let (last, left, lo, kept) = maps[maps.count - 1], width = last.count, fill = value
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                let (src, dst) = (xp.baseAddress!, yp.baseAddress!)
                rows(maps, x.shape, parallel: true) { r, offset in
                    let row = dst + r * width
                    guard let offset else { row.update(repeating: fill, count: width); return }
                    for o in 0 ..< left { row[o] = last[o] < 0 ? fill : src[offset + last[o]] }
                    (row + left).update(from: src + offset + lo, count: kept)
                    for o in left + kept ..< width { row[o] = last[o] < 0 ? fill : src[offset + last[o]] }
                }
            }
        }
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        let x = inputs[0], maps = indexMaps(x.shape)
        var dx = Tensor(zeros: x.shape)                                  // like x
        if x.rank == 0 { dx.data[0] = dy.data[0]; return [dx] }
        let last = maps[maps.count - 1].map, width = last.count
        dy.data.withUnsafeBufferPointer { dp in
            dx.data.withUnsafeMutableBufferPointer { xp in
                let (src, dst) = (dp.baseAddress!, xp.baseAddress!)
                // Serial: with reflect or edge, several output rows add into one input row.
                rows(maps, x.shape, parallel: false) { r, offset in
                    guard let offset else { return }
                    let row = src + r * width
                    for o in 0 ..< width where last[o] >= 0 { dst[offset + last[o]] += row[o] }
                }
            }
        }
        return [dx]
    }
}
