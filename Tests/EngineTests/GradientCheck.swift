@testable import Engine

/// A seeded generator (SplitMix64) so every test draws the same numbers on every machine.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A tensor of uniform values in [-scale, scale).
func randomTensor(_ shape: [Int], _ rng: inout SeededRandom, scale: Float = 1) -> Tensor {
    Tensor(shape: shape, data: (0 ..< shape.reduce(1, *)).map { _ in Float.random(in: -scale ..< scale, using: &rng) })
}

/// Result of comparing an analytic gradient with central finite differences.
struct GradientReport {
    var maxDiff: Float = 0
    var maxRef: Float = 0
    var relative: Float { maxDiff / max(1, maxRef) }
}

/// Compares a layer's backward (and its parameter gradients) with central differences of L = Σ dy ⊙ f(x),
/// accumulated in Double. Prints "GRAD OK/BAD <what> maxdiff".
/// - Parameters:
///   - layer: the layer under test.
///   - inputs: its inputs.
///   - eps: the finite-difference step.
///   - probes: how many coordinates per tensor to probe (all when the tensor is smaller).
func gradientCheck(_ name: String, _ layer: Layer, _ inputs: [Tensor], seed: UInt64 = 7, eps: Float = 1e-2,
                   probes: Int = 60, checkParameters: Bool = true) -> GradientReport {
    var rng = SeededRandom(seed)
    var y = Tensor(zeros: [0])
    layer.forward(inputs, &y)
    let dy = randomTensor(y.shape, &rng)
    func loss(_ xs: [Tensor]) -> Double {
        var out = Tensor(zeros: [0])
        layer.forward(xs, &out)
        var s = 0.0
        for i in 0 ..< out.count { s += Double(out.data[i]) * Double(dy.data[i]) }
        return s
    }
    var report = GradientReport()
    func probe(_ count: Int, _ analytic: (Int) -> Float, _ perturb: (Int, Float) -> Double) {
        var picks = Array(0 ..< count)
        if count > probes { picks.shuffle(using: &rng); picks = Array(picks.prefix(probes)) }
        for j in picks {
            let numeric = Float((perturb(j, eps) - perturb(j, -eps)) / Double(2 * eps))
            report.maxDiff = max(report.maxDiff, abs(numeric - analytic(j)))
            report.maxRef = max(report.maxRef, abs(numeric))
        }
    }
    let grads = layer.backward(inputs, y, dy, needed: inputs.map { _ in true })
    for k in inputs.indices {
        let g = grads[k]!
        precondition(g.shape == inputs[k].shape, "\(name): gradient shape \(g.shape) != input shape \(inputs[k].shape)")
        probe(inputs[k].count, { g.data[$0] }) { j, d in
            var xs = inputs
            xs[k].data[j] += d
            return loss(xs)
        }
    }
    if checkParameters {
        let pgrads = layer.parameterGradients(inputs, y, dy)
        for spec in layer.parameterSpecs where spec.trainable {
            let p0 = layer.parameter(spec.name)!, g = pgrads[spec.name]!
            probe(p0.count, { g.data[$0] }) { j, d in
                var p = p0
                p.data[j] += d
                layer.setParameter(spec.name, p)
                defer { layer.setParameter(spec.name, p0) }
                return loss(inputs)
            }
        }
    }
    print("GRAD \(report.relative < 2e-2 ? "OK" : "BAD") \(name): maxdiff \(report.maxDiff) (max |grad| \(report.maxRef))")
    return report
}
