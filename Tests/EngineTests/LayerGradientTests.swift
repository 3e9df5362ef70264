import Testing
@testable import Engine

/// Every layer's backward against central finite differences (the reference), on small random tensors with odd
/// sizes, strides, padding, dilation, groups and ceil mode. Tolerance: 2e-2 of max(1, max |gradient|), since the
/// differences are taken in Float32 with a step of 1e-2.
@Suite struct LayerGradientTests {
    static let tolerance: Float = 2e-2

    func conv(_ c: Int, _ o: Int, k: (Int, Int), s: (Int, Int) = (1, 1), p: (Int, Int) = (0, 0), d: (Int, Int) = (1, 1),
              g: Int = 1, bias: Bool = true, act: Activation = .none, seed: UInt64) -> Conv2d {
        let layer = Conv2d(c, o, kernel: k, stride: s, padding: p, dilation: d, groups: g, bias: bias)
        var rng = SeededRandom(seed)
        layer.weight = randomTensor(layer.weight.shape, &rng, scale: 0.5)
        if bias { layer.bias = randomTensor([o], &rng, scale: 0.5) }
        layer.activation = act
        return layer
    }

    @Test("Conv2d backward matches finite differences", arguments: [
        ("3x3 s1 p1", 3, 5, (3, 3), (1, 1), (1, 1), (1, 1), 1, [2, 3, 7, 6]),
        ("3x3 s2 p0 odd", 2, 4, (3, 3), (2, 2), (0, 0), (1, 1), 1, [1, 2, 9, 7]),
        ("1x1 pointwise", 4, 3, (1, 1), (1, 1), (0, 0), (1, 1), 1, [2, 4, 5, 3]),
        ("1x1 stride 2", 4, 3, (1, 1), (2, 2), (0, 0), (1, 1), 1, [1, 4, 7, 5]),
        ("rect 2x3 s(2,1) p(1,2)", 3, 2, (2, 3), (2, 1), (1, 2), (1, 1), 1, [1, 3, 6, 5]),
        ("dilated 3x3 d2 p2", 2, 3, (3, 3), (1, 1), (2, 2), (2, 2), 1, [1, 2, 7, 8]),
        ("groups 2", 4, 6, (3, 3), (1, 1), (1, 1), (1, 1), 2, [2, 4, 5, 5]),
        ("depthwise s2 p1", 5, 5, (3, 3), (2, 2), (1, 1), (1, 1), 5, [2, 5, 7, 6]),
        ("depthwise 5x5 s1 p2, rows past 8", 3, 3, (5, 5), (1, 1), (2, 2), (1, 1), 3, [2, 3, 6, 13]),
        ("depthwise dilated d2 p1", 2, 2, (3, 3), (1, 1), (1, 1), (2, 2), 2, [1, 2, 7, 11]),
        ("7x7 s2 p3", 3, 2, (7, 7), (2, 2), (3, 3), (1, 1), 1, [1, 3, 11, 9]),
    ] as [(String, Int, Int, (Int, Int), (Int, Int), (Int, Int), (Int, Int), Int, [Int])])
    func convGradients(_ c: (String, Int, Int, (Int, Int), (Int, Int), (Int, Int), (Int, Int), Int, [Int])) {
        let layer = conv(c.1, c.2, k: c.3, s: c.4, p: c.5, d: c.6, g: c.7, seed: 11)
        var rng = SeededRandom(3)
        let r = gradientCheck("Conv2d \(c.0)", layer, [randomTensor(c.8, &rng)])
        #expect(r.relative < Self.tolerance)
    }

    @Test func convWithFusedActivations() {
        for act in [Activation.relu, .relu6] {
            let layer = conv(3, 4, k: (3, 3), p: (1, 1), act: act, seed: 5)
            layer.weight.data = layer.weight.data.map { $0 * 8 }   // push some outputs past 6
            var rng = SeededRandom(9)
            let r = gradientCheck("Conv2d +\(act)", layer, [randomTensor([2, 3, 5, 6], &rng)], eps: 1e-3)
            #expect(r.relative < Self.tolerance)
        }
    }

    /// A residual sum fused into the convolution (`Graph.fused`): the gradient reaches both the input and the
    /// residual, through the ReLU after the sum; a residual of the output's shape (added in the kernels' epilogues,
    /// here the 3×3 and the pointwise paths), and one that broadcasts (added apart).
    @Test(arguments: [(3, [2, 4, 5, 6]), (1, [2, 4, 5, 6]), (3, [1, 4, 1, 1])])
    func convWithFusedResidual(_ c: (Int, [Int])) {
        let layer = conv(3, 4, k: (c.0, c.0), p: (c.0 / 2, c.0 / 2), act: .relu, seed: 6)
        layer.residual = true
        var rng = SeededRandom(10)
        let r = gradientCheck("Conv2d +residual \(c)", layer, [randomTensor([2, 3, 5, 6], &rng), randomTensor(c.1, &rng)], eps: 1e-3)
        #expect(r.relative < Self.tolerance)
    }

    @Test func convWithoutBias() {
        let layer = conv(3, 4, k: (3, 3), s: (2, 2), p: (1, 1), bias: false, seed: 2)
        var rng = SeededRandom(4)
        #expect(gradientCheck("Conv2d no bias", layer, [randomTensor([1, 3, 6, 7], &rng)]).relative < Self.tolerance)
    }

    @Test func activations() {
        var rng = SeededRandom(1)
        let x = randomTensor([2, 3, 4, 5], &rng, scale: 8)
        #expect(gradientCheck("ReLU", ActivationLayer(.relu), [x], eps: 1e-3).relative < Self.tolerance)
        #expect(gradientCheck("ReLU6", ActivationLayer(.relu6), [x], eps: 1e-3).relative < Self.tolerance)
    }

    /// Distinct values, so no window has a tie that a finite step could flip.
    func distinct(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SeededRandom(seed)
        var v = (0 ..< shape.reduce(1, *)).map { Float($0) * 0.1 }
        v.shuffle(using: &rng)
        return Tensor(shape: shape, data: v)
    }

    @Test func maxPool() {
        for (k, s, p, ceil, shape) in [(3, 2, 0, true, [2, 3, 9, 8]), (3, 2, 0, false, [1, 2, 10, 7]), (2, 2, 0, false, [2, 2, 7, 9]), (2, 2, 0, false, [1, 3, 6, 8]),
                                       (2, 2, 0, true, [1, 2, 7, 5]), (3, 1, 1, false, [1, 2, 5, 6])] {
            let r = gradientCheck("MaxPool2d k\(k) s\(s) p\(p) ceil \(ceil)", MaxPool2d(kernel: k, stride: s, padding: p, ceilMode: ceil),
                                  [distinct(shape, seed: 3)], eps: 1e-3)
            #expect(r.relative < Self.tolerance)
        }
    }

    @Test func averagePools() {
        var rng = SeededRandom(8)
        let x = randomTensor([2, 3, 7, 6], &rng)
        #expect(gradientCheck("AvgPool2d ceil pad", AvgPool2d(kernel: 3, stride: 2, padding: 1, ceilMode: true), [x]).relative < Self.tolerance)
        #expect(gradientCheck("AvgPool2d no pad count", AvgPool2d(kernel: 2, stride: 2, padding: 1, countIncludePad: false), [x]).relative < Self.tolerance)
        #expect(gradientCheck("GlobalAvgPool", AdaptiveAvgPool2d(1, 1), [x]).relative < Self.tolerance)
        #expect(gradientCheck("AdaptiveAvgPool 4x4", AdaptiveAvgPool2d(4, 4), [x]).relative < Self.tolerance)
    }

    @Test func linearFlattenSoftmax() {
        var rng = SeededRandom(12)
        let lin = Linear(7, 5)
        lin.weight = randomTensor([5, 7], &rng)
        lin.bias = randomTensor([5], &rng)
        #expect(gradientCheck("Linear", lin, [randomTensor([3, 7], &rng)]).relative < Self.tolerance)
        #expect(gradientCheck("Linear, one row (gemv)", lin, [randomTensor([1, 7], &rng)]).relative < Self.tolerance)
        #expect(gradientCheck("Flatten", Flatten(), [randomTensor([2, 3, 2, 2], &rng)]).relative < Self.tolerance)
        #expect(gradientCheck("Softmax", Softmax(), [randomTensor([3, 6], &rng, scale: 3)], eps: 1e-3).relative < Self.tolerance)
    }

    @Test func batchNormConcatAddDropout() {
        var rng = SeededRandom(21)
        let bn = BatchNorm2d(3)
        bn.weight = randomTensor([3], &rng)
        bn.bias = randomTensor([3], &rng)
        bn.runningMean = randomTensor([3], &rng)
        bn.runningVar = Tensor(shape: [3], data: [0.5, 1.5, 2.5])
        #expect(gradientCheck("BatchNorm2d", bn, [randomTensor([2, 3, 4, 3], &rng)]).relative < Self.tolerance)
        #expect(gradientCheck("Concat", Concat(), [randomTensor([2, 2, 3, 3], &rng), randomTensor([2, 5, 3, 3], &rng)]).relative < Self.tolerance)
        #expect(gradientCheck("Add", Add(), [randomTensor([2, 2, 3, 3], &rng), randomTensor([2, 2, 3, 3], &rng)]).relative < Self.tolerance)
        #expect(gradientCheck("Dropout", Dropout(), [randomTensor([2, 4], &rng)]).relative < Self.tolerance)
    }

    /// The check itself must be able to fail: a backward that is off by a factor is caught.
    @Test func gradientCheckCatchesAWrongBackward() {
        final class WrongDouble: Layer {
            var kind: String { "WrongDouble" }
            func outputShape(_ inputs: [[Int]]) throws -> [Int] { inputs[0] }
            func forward(_ inputs: [Tensor], _ y: inout Tensor) { y = Tensor(shape: inputs[0].shape, data: inputs[0].data.map { 2 * $0 }) }
            func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] { [dy] }   // should be 2·dy
        }
        var rng = SeededRandom(1)
        #expect(gradientCheck("deliberately wrong", WrongDouble(), [randomTensor([1, 1, 3, 3], &rng)]).relative > 0.3)   // off by half
    }
}
