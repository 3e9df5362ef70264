import Testing
@testable import Engine

// `run` (a layer forward after its shape rule) is in OpCheck.swift.

/// 0, 1, 2, ... as a tensor, so an output's values name the input elements it copied.
func iota(_ shape: [Int]) -> Tensor {
    Tensor(shape: shape, data: (0 ..< shape.reduce(1, *)).map(Float.init))
}

/// The row-major multi-index of a flat position.
func multiIndex(_ flat: Int, _ shape: [Int]) -> [Int] {
    var rem = flat, idx = shape.map { _ in 0 }
    for d in shape.indices.reversed() { idx[d] = rem % shape[d]; rem /= shape[d] }
    return idx
}

/// The flat position of a multi-index.
func flatIndex(_ idx: [Int], _ shape: [Int]) -> Int {
    zip(idx, shape).reduce(0) { $0 * $1.1 + $1.0 }
}
