#if canImport(Glibc)
import Glibc
#endif

/// Softmax along one axis, y = exp(x − max) / Σ exp(x − max), as torch.softmax(x, dim) and ONNX Softmax from
/// opset 13; with `log`, y = x − max − log Σ exp(x − max), as torch.log_softmax and ONNX LogSoftmax. `Softmax()` is
/// the last axis. Opsets before 13 flatten the input to 2-D at the axis and normalise whole rows; the importer
/// builds that from Flatten, Softmax() and Reshape.
public final class Softmax: Layer {
    /// In [-rank, rank); negative counts from the end.
    public let axis: Int
    /// Log-softmax instead of softmax.
    public let log: Bool

    public init(axis: Int = -1, log: Bool = false) {
        self.axis = axis
        self.log = log
    }

    public var kind: String { log ? "LogSoftmax" : "Softmax" }
    public var summary: String { axis == -1 ? "" : "axis \(axis)" }
    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        _ = try ShapeMath.axis(axis, rank: inputs[0].count, kind)
        return inputs[0]
    }

    /// Softmax of each row of (..., K), computed stably (max subtracted first).
    public static func rows(_ x: Tensor) -> Tensor {
        var y = Tensor(zeros: [0])
        SoftmaxKernel.forward(x, &y, axis: x.rank - 1, log: false)
        return y
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        SoftmaxKernel.forward(inputs[0], &y, axis: try! ShapeMath.axis(axis, rank: inputs[0].rank, kind), log: log)
    }

    /// dx = y ⊙ (dy − Σ dy·y) along the axis; for log, dx = dy − exp(y)·Σ dy.
    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        [SoftmaxKernel.backward(y, dy, axis: try! ShapeMath.axis(axis, rank: y.rank, kind), log: log)]
    }
}

/// The loops of softmax and log-softmax on x seen as (outer, K, inner), K the axis: each task takes one outer index
/// and a block of up to 256 inner columns, whose running max and sum stay in registers or L1.
enum SoftmaxKernel {
    static let block = 256

    /// Calls body(pointer offset of the block's first element, K, inner stride, columns) for every block, spread
    /// over the cores.
    static func blocks(_ shape: [Int], axis: Int, _ body: (Int, Int, Int, Int) -> Void) {
        let k = shape[axis], inner = shape[(axis + 1)...].reduce(1, *), outer = shape[..<axis].reduce(1, *)
        let perOuter = (inner + block - 1) / block, count = outer * k * inner
        parallelChunks(outer * perOuter, work: count) { tasks in
            for t in tasks {
                let o = t / perOuter, j0 = (t % perOuter) * block
                body(o * k * inner + j0, k, inner, Swift.min(block, inner - j0))
            }
        }
    }

    static func forward(_ x: Tensor, _ y: inout Tensor, axis: Int, log: Bool) {
        y.prepare(x.shape)
        if x.count == 0 { return }
        x.data.withUnsafeBufferPointer { xb in
            y.data.withUnsafeMutableBufferPointer { yb in
                let (xp, yp) = (xb.baseAddress!, yb.baseAddress!)
                blocks(x.shape, axis: axis) { start, k, inner, cols in
                    let xs = xp + start, ys = yp + start
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * cols) { tmp in
                        let m = tmp.baseAddress!, s = m + cols             // (cols) each: max, then Σ exp
                        for j in 0 ..< cols { m[j] = xs[j] }
                        for i in 1 ..< k { for j in 0 ..< cols { m[j] = Swift.max(m[j], xs[i * inner + j]) } }
                        for j in 0 ..< cols { s[j] = 0 }
                        for i in 0 ..< k {
                            for j in 0 ..< cols {
                                let e = expf(xs[i * inner + j] - m[j])
                                if !log { ys[i * inner + j] = e }
                                s[j] += e
                            }
                        }
                        if log {
                            for j in 0 ..< cols { s[j] = m[j] + logf(s[j]) }
                            for i in 0 ..< k { for j in 0 ..< cols { ys[i * inner + j] = xs[i * inner + j] - s[j] } }
                        } else {
                            for i in 0 ..< k { for j in 0 ..< cols { ys[i * inner + j] /= s[j] } }
                        }
                    }
                }
            }
        }
    }

    static func backward(_ y: Tensor, _ dy: Tensor, axis: Int, log: Bool) -> Tensor {
        var dx = Tensor(uninitialized: y.shape)                           // like y
        if y.count == 0 { return dx }
        y.data.withUnsafeBufferPointer { yb in
            dy.data.withUnsafeBufferPointer { db in
                dx.data.withUnsafeMutableBufferPointer { xb in
                    let (yp, dp, xp) = (yb.baseAddress!, db.baseAddress!, xb.baseAddress!)
                    blocks(y.shape, axis: axis) { start, k, inner, cols in
                        let ys = yp + start, ds = dp + start, xs = xp + start
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: cols) { tmp in
                            let s = tmp.baseAddress!                       // (cols): Σ dy·y, or Σ dy for log
                            for j in 0 ..< cols { s[j] = 0 }
                            for i in 0 ..< k { for j in 0 ..< cols { s[j] += log ? ds[i * inner + j] : ds[i * inner + j] * ys[i * inner + j] } }
                            for i in 0 ..< k {
                                for j in 0 ..< cols {
                                    let q = i * inner + j
                                    xs[q] = log ? ds[q] - expf(ys[q]) * s[j] : ys[q] * (ds[q] - s[j])
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
}
