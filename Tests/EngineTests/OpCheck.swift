import Testing
@testable import Engine

/// Shared by the op tests: a layer run as a graph runs it (shapes checked first), and inputs that keep finite
/// differences away from kinks and ties.

/// The layer's output for the inputs, after checking that `outputShape` accepts them and predicts the shape.
func run(_ layer: Layer, _ inputs: [Tensor]) throws -> Tensor {
    let shape = try layer.outputShape(inputs.map(\.shape))
    var y = Tensor(zeros: [0])
    layer.forward(inputs, &y)
    #expect(y.shape == shape, "\(layer.kind): forward gave \(y.shape), outputShape \(shape)")
    return y
}

/// `gradientCheck` (central differences, the reference) after `run`, expecting agreement within 2e-2 of max(1, max |gradient|).
func expectGradients(_ name: String, _ layer: Layer, _ inputs: [Tensor], eps: Float = 1e-2) throws {
    _ = try run(layer, inputs)
    let r = gradientCheck(name, layer, inputs, eps: eps)
    #expect(r.relative < 2e-2, "\(name): finite differences disagree, maxdiff \(r.maxDiff)")
}

/// Values k·step + offset within [-range, range): with the default step 0.1 and offset 0.05 none lies within 0.05 of
/// a multiple of 0.1, so a step of 1e-2 never crosses a kink at 0, ±0.5, ±1, ±3 or a tie with a value of another
/// such grid offset differently.
func gridTensor(_ shape: [Int], _ rng: inout SeededRandom, range: Float = 3, step: Float = 0.1, offset: Float = 0.05) -> Tensor {
    let k = Int(range / step)
    return Tensor(shape: shape, data: (0 ..< shape.reduce(1, *)).map { _ in Float(Int.random(in: -k ..< k, using: &rng)) * step + offset })
}

/// Uniform values in [lo, hi).
func uniformTensor(_ shape: [Int], _ rng: inout SeededRandom, _ lo: Float, _ hi: Float) -> Tensor {
    Tensor(shape: shape, data: (0 ..< shape.reduce(1, *)).map { _ in Float.random(in: lo ..< hi, using: &rng) })
}

/// Largest absolute difference, printed as "TENSOR OK/BAD".
func maxDiff(_ name: String, _ a: Tensor, _ b: Tensor, tolerance: Float) -> Float {
    guard a.shape == b.shape else { print("TENSOR BAD \(name): shapes \(a.shape) and \(b.shape)"); return .infinity }
    let d = a.maxAbsDifference(b)
    print("TENSOR \(d <= tolerance ? "OK" : "BAD") \(name): maxdiff \(d)")
    return d
}
