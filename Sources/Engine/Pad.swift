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

    /// For every axis, the input index each output index copies (−1 for the constant); outputs [left, left + kept)
    /// copy the input's [lo, lo + kept).
    func maps(_ shape: [Int]) throws -> [(map: [Int], left: Int, lo: Int, kept: Int)] {
        try expect(pads.count % 2 == 0, "Pad: pads \(pads) do not come in begin/end pairs")
        let k = pads.count / 2
        let axes = try ShapeMath.axes(self.axes ?? Array(0 ..< k), rank: shape.count, "Pad")
        try expect(axes.count == k, "Pad: \(pads.count) pads do not fit axes \(axes) (two per axis)")
        var begin = shape.map { _ in 0 }, end = begin
        for (i, a) in axes.enumerated() { (begin[a], end[a]) = (pads[i], pads[i + k]) }
        return try shape.indices.map { a in
            let d = shape[a], lo = Swift.max(0, -begin[a]), kept = d - lo - Swift.max(0, -end[a]), out = d + begin[a] + end[a]
            try expect(kept >= 0 && out >= 0, "Pad: pads \(begin[a]), \(end[a]) crop more than axis \(a) of input \(shape) holds")
            try expect(mode == .constant || kept > 0 || out == 0, "Pad: cannot \(mode.rawValue)-pad axis \(a) of input \(shape): nothing is left to copy")
            let left = Swift.max(0, begin[a])
            let map = (0 ..< out).map { o in
                var c = o - left                                         // index into the kept part
                if c >= 0 && c < kept { return lo + c }
                switch mode {
                case .constant: return -1
                case .edge: c = Swift.min(Swift.max(c, 0), kept - 1)
                case .reflect:
                    if kept == 1 { c = 0; break }
                    let period = 2 * (kept - 1)
                    c = ((c % period) + period) % period
                    if c >= kept { c = period - c }
                }
                return lo + c
            }
            return (map, left, lo, kept)
        }
    }

    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { try maps(inputs[0]).map(\.map.count) }

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
        let x = inputs[0], maps = try! maps(x.shape)
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
        let x = inputs[0], maps = try! maps(x.shape)
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
