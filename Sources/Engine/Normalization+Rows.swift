/// The core that LayerNorm, GroupNorm and InstanceNorm share: rows of contiguous values, each normalised by its own
/// mean and biased variance, x̂ = (x − mean)/√(var + ε), then scaled and shifted, y = x̂·w + b.
///
/// A row is `params` segments of equal length whose values share one weight and bias; row r uses the parameters
/// from (r mod period)·params on. LayerNorm: a segment per value, period 1. GroupNorm: a segment per channel of the
/// group (its positions), period G.
struct RowNormalization {
    let rows: Int, length: Int, params: Int, period: Int, eps: Float
    var segment: Int { length / params }

    /// The mean and 1/√(var + ε) of a row, in two passes.
    @inline(__always)
    func statistics(_ x: UnsafePointer<Float>) -> (mean: Float, rstd: Float) {
        let mean = sum8(0 ..< length) { i, m in load8(x + i, m) } / Float(length)
        let v = sum8(0 ..< length) { i, m in let d = load8(x + i, m) - mean; return d * d } / Float(length)
        return (mean, 1 / (v + eps).squareRoot())
    }

    /// y = x̂·w + b.
    /// - Parameters:
    ///   - x, y: rows · length values; w, b: period · params values, or nil for 1 and 0.
    func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>?, _ b: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>) {
        let seg = segment
        parallelChunks(rows, work: 4 * rows * length) { range in
            for r in range {
                let xr = x + r * length, yr = y + r * length, base = (r % period) * params
                let (mean, rstd) = statistics(xr)
                if seg == 1 {
                    each8(0 ..< length) { i, m in
                        var v = (load8(xr + i, m) - mean) * rstd
                        if let w { v *= load8(w + base + i, m) }
                        if let b { v += load8(b + base + i, m) }
                        store8(v, yr + i, m)
                    }
                } else {
                    for p in 0 ..< params {
                        let a = rstd * (w?[base + p] ?? 1), c = (b?[base + p] ?? 0) - mean * a
                        each8(p * seg ..< (p + 1) * seg) { i, m in store8(load8(xr + i, m) * a + c, yr + i, m) }
                    }
                }
            }
        }
    }

    /// dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·w, the gradient through the row's own statistics.
    func backward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>?, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        let seg = segment, n = Float(length)
        parallelChunks(rows, work: 8 * rows * length) { range in
            for r in range {
                let xr = x + r * length, dr = dy + r * length, or = dx + r * length, base = (r % period) * params
                let (mean, rstd) = statistics(xr)
                if seg == 1 {
                    @inline(__always) func g(_ i: Int, _ m: Int) -> Float8 { w.map { load8(dr + i, m) * load8($0 + base + i, m) } ?? load8(dr + i, m) }
                    let mg = sum8(0 ..< length) { i, m in g(i, m) } / n
                    let mgx = sum8(0 ..< length) { i, m in g(i, m) * (load8(xr + i, m) - mean) } * rstd / n
                    each8(0 ..< length) { i, m in store8(rstd * (g(i, m) - mg - (load8(xr + i, m) - mean) * rstd * mgx), or + i, m) }
                } else {
                    var sg: Float = 0, sgx: Float = 0
                    for p in 0 ..< params {
                        let wp = w?[base + p] ?? 1, range = p * seg ..< (p + 1) * seg
                        sg += wp * sum8(range) { i, m in load8(dr + i, m) }
                        sgx += wp * sum8(range) { i, m in load8(dr + i, m) * (load8(xr + i, m) - mean) }
                    }
                    let mg = sg / n, mgx = sgx * rstd / n
                    for p in 0 ..< params {
                        let wp = w?[base + p] ?? 1
                        each8(p * seg ..< (p + 1) * seg) { i, m in
                            store8(rstd * (wp * load8(dr + i, m) - mg - (load8(xr + i, m) - mean) * rstd * mgx), or + i, m)
                        }
                    }
                }
            }
        }
    }

    /// dw = Σ dy·x̂ and db = Σ dy over the values sharing each parameter; period · params each.
    func parameterGradients(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>) -> (dw: [Float], db: [Float]) {
        var dw = [Float](repeating: 0, count: period * params), db = dw
        let seg = segment
        for r in 0 ..< rows {
            let xr = x + r * length, dr = dy + r * length, base = (r % period) * params
            let (mean, rstd) = statistics(xr)
            for p in 0 ..< params {
                let range = p * seg ..< (p + 1) * seg
                dw[base + p] += sum8(range) { i, m in load8(dr + i, m) * (load8(xr + i, m) - mean) } * rstd
                db[base + p] += sum8(range) { i, m in load8(dr + i, m) }
            }
        }
        return (dw, db)
    }
}

/// A normalisation layer with an optional elementwise `weight` and `bias` (torch's keys), e.g. LayerNorm.
protocol OptionalAffine: Layer {
    var weight: Tensor? { get set }
    var bias: Tensor? { get set }
    /// The normalisation over rows, for an input shape.
    func rows(_ shape: [Int]) -> RowNormalization
}

extension OptionalAffine {
    public var parameterSpecs: [ParameterSpec] {
        (weight.map { [ParameterSpec("weight", $0.shape)] } ?? []) + (bias.map { [ParameterSpec("bias", $0.shape)] } ?? [])
    }
    public func parameter(_ name: String) -> Tensor? { name == "weight" ? weight : name == "bias" ? bias : nil }
    public func setParameter(_ name: String, _ value: Tensor) {
        if name == "weight" { weight = value } else if name == "bias" { bias = value }
    }

    public func forward(_ inputs: [Tensor], _ y: inout Tensor) {
        let x = inputs[0]
        y.prepare(x.shape)                                  // like x
        if x.count == 0 { return }
        let plan = rows(x.shape)
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                withOptionalPointers(weight, bias) { w, b in plan.forward(xp.baseAddress!, w, b, yp.baseAddress!) }
            }
        }
    }

    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
        guard needed[0] else { return [nil] }
        let x = inputs[0]
        var dx = Tensor(zeros: x.shape)                     // like x
        if x.count == 0 { return [dx] }
        let plan = rows(x.shape)
        x.data.withUnsafeBufferPointer { xp in
            dy.data.withUnsafeBufferPointer { dp in
                dx.data.withUnsafeMutableBufferPointer { op in
                    withOptionalPointers(weight, nil) { w, _ in plan.backward(xp.baseAddress!, w, dp.baseAddress!, op.baseAddress!) }
                }
            }
        }
        return [dx]
    }

    public func parameterGradients(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor) -> [String: Tensor] {
        let x = inputs[0]
        guard x.count > 0 else { return [:] }
        let (dw, db) = x.data.withUnsafeBufferPointer { xp in
            dy.data.withUnsafeBufferPointer { dp in rows(x.shape).parameterGradients(xp.baseAddress!, dp.baseAddress!) }
        }
        var grads: [String: Tensor] = [:]
        if let w = weight { grads["weight"] = Tensor(shape: w.shape, data: dw) }
        if let b = bias { grads["bias"] = Tensor(shape: b.shape, data: db) }
        return grads
    }
}

/// Calls `body` with pointers to the values of two optional tensors (nil for an absent one).
@inline(__always)
func withOptionalPointers<R>(_ a: Tensor?, _ b: Tensor?, _ body: (UnsafePointer<Float>?, UnsafePointer<Float>?) -> R) -> R {
    guard let a else {
        guard let b else { return body(nil, nil) }
        return b.data.withUnsafeBufferPointer { body(nil, $0.baseAddress) }
    }
    return a.data.withUnsafeBufferPointer { ap in
        guard let b else { return body(ap.baseAddress, nil) }
        return b.data.withUnsafeBufferPointer { body(ap.baseAddress, $0.baseAddress) }
    }
}
