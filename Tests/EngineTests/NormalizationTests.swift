import Testing
@testable import Engine

/// BatchNorm at inference for any rank, LayerNorm over trailing axes, GroupNorm and InstanceNorm: gradients of the
/// input and parameters against finite differences, values against the definition computed in Double here.
@Suite struct NormalizationTests {
    func randomized<L: Layer>(_ layer: L, _ rng: inout SeededRandom) -> L {
        for spec in layer.parameterSpecs where spec.trainable { layer.setParameter(spec.name, randomTensor(spec.shape, &rng)) }
        return layer
    }

    @Test func batchNormAnyRank() throws {
        var rng = SeededRandom(21)
        for shape in [[5, 3], [2, 3, 7], [2, 3, 4, 3], [1, 3, 2, 3, 2]] {
            let bn = randomized(BatchNorm2d(3), &rng)
            bn.runningMean = randomTensor([3], &rng)
            bn.runningVar = Tensor(shape: [3], data: [0.5, 1.5, 2.5])
            let x = randomTensor(shape, &rng)
            try expectGradients("BatchNorm \(shape)", bn, [x])
            // y = (x − mean)/√(var + ε)·w + b on channel axis 1.
            let y = try run(bn, [x]), plane = x.count / shape[0] / 3
            var worst: Float = 0
            for i in 0 ..< x.count {
                let c = i / plane % 3
                let ref = (x.data[i] - bn.runningMean.data[c]) / (bn.runningVar.data[c] + bn.eps).squareRoot() * bn.weight.data[c] + bn.bias.data[c]
                worst = max(worst, abs(ref - y.data[i]))
            }
            #expect(worst < 1e-5)
        }
        #expect(throws: EngineError.self) { try BatchNorm2d(3).outputShape([[3]]) }
    }

    /// Normalises each row of `rows` × `length` in Double: the reference for LayerNorm and GroupNorm.
    func reference(_ x: Tensor, rows: Int, eps: Double) -> [Double] {
        let length = x.count / rows
        var out = [Double](repeating: 0, count: x.count)
        for r in 0 ..< rows {
            let v = x.data[r * length ..< (r + 1) * length].map(Double.init)
            let mean = v.reduce(0, +) / Double(length), variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(length)
            for j in 0 ..< length { out[r * length + j] = (v[j] - mean) / (variance + eps).squareRoot() }
        }
        return out
    }

    @Test func layerNormGradients() throws {
        var rng = SeededRandom(3)
        for (shape, normalized) in [([2, 3, 5], [5]), ([2, 4, 3, 3], [3, 3]), ([2, 3, 3, 6], [6]), ([7], [7]), ([2, 19], [19])] {
            try expectGradients("LayerNorm \(shape) over \(normalized)", randomized(LayerNorm(normalized), &rng), [randomTensor(shape, &rng)])
        }
        try expectGradients("LayerNorm without affine", LayerNorm([4], affine: false), [randomTensor([3, 4], &rng)])
        try expectGradients("LayerNorm without bias", randomized(LayerNorm([4, 2], bias: false), &rng), [randomTensor([3, 4, 2], &rng)])
        #expect(LayerNorm([4], affine: false).parameterSpecs.isEmpty && LayerNorm([4], bias: false).parameterSpecs.map(\.name) == ["weight"])
    }

    @Test func layerNormValues() throws {
        // torch.nn.LayerNorm(4)(torch.tensor([1., 2., 3., 4.])) = (x − 2.5)/√(1.25 + 1e-5): ±1.3416355, ±0.4472118
        let y = try run(LayerNorm([4]), [Tensor(shape: [4], data: [1, 2, 3, 4])])
        #expect(maxDiff("LayerNorm [1, 2, 3, 4]", y, Tensor(shape: [4], data: [-1.3416355, -0.4472118, 0.4472118, 1.3416355]), tolerance: 1e-6) < 1e-6)
        var rng = SeededRandom(9)
        let x = randomTensor([2, 5, 7, 48], &rng, scale: 3), ln = randomized(LayerNorm([48]), &rng)   // 3360 values, rows of 48
        let ref = reference(x, rows: 70, eps: 1e-5)
        let expected = Tensor(shape: x.shape, data: ref.indices.map { Float(ref[$0]) * ln.weight!.data[$0 % 48] + ln.bias!.data[$0 % 48] })
        #expect(maxDiff("LayerNorm channels-last", try run(ln, [x]), expected, tolerance: 1e-5) < 1e-5)
        #expect(throws: EngineError.self) { try LayerNorm([4]).outputShape([[2, 5]]) }
    }

    @Test func groupAndInstanceNormGradients() throws {
        var rng = SeededRandom(12)
        for (shape, groups) in [([2, 6, 3, 4], 3), ([2, 4, 5], 2), ([1, 6, 2, 2, 3], 2), ([3, 4], 2), ([2, 6, 3, 3], 1)] {
            try expectGradients("GroupNorm \(groups) \(shape)", randomized(GroupNorm(groups: groups, channels: shape[1]), &rng), [randomTensor(shape, &rng)])
        }
        try expectGradients("InstanceNorm", randomized(GroupNorm(instance: 3), &rng), [randomTensor([2, 3, 4, 4], &rng)])
        try expectGradients("InstanceNorm rank 3, no affine", GroupNorm(instance: 3, affine: false), [randomTensor([2, 3, 5], &rng)])
        #expect(throws: EngineError.self) { try GroupNorm(instance: 3).outputShape([[2, 3]]) }
        #expect(throws: EngineError.self) { try GroupNorm(groups: 2, channels: 4).outputShape([[2, 6, 3]]) }
        // Groups that do not divide the channels (a file's attributes) are a shape error, not a trap.
        #expect(throws: EngineError.self) { try GroupNorm(groups: 3, channels: 4).outputShape([[2, 4, 3]]) }
        #expect(throws: EngineError.self) { try GroupNorm(groups: 0, channels: 4).outputShape([[2, 4, 3]]) }
        #expect(throws: EngineError.self) { try LayerNorm([3]).outputShape([]) }
    }

    /// Against the definition: each (item, group) of C/G channels and all positions normalised, then a per-channel
    /// affine map; large enough (2·8 rows of 4·32·32) that the rows are spread over the cores.
    @Test func groupNormValues() throws {
        var rng = SeededRandom(14)
        let x = randomTensor([2, 32, 32, 32], &rng, scale: 2), gn = randomized(GroupNorm(groups: 8, channels: 32), &rng)
        let ref = reference(x, rows: 16, eps: 1e-5)
        let expected = Tensor(shape: x.shape, data: ref.indices.map { i in
            let c = i / 1024 % 32
            return Float(ref[i]) * gn.weight!.data[c] + gn.bias!.data[c]
        })
        #expect(maxDiff("GroupNorm 8 groups", try run(gn, [x]), expected, tolerance: 2e-5) < 2e-5)
        // torch.nn.InstanceNorm1d(1)(torch.tensor([[[1., 2., 3., 4.]]])) = the LayerNorm values above.
        let y = try run(GroupNorm(instance: 1), [Tensor(shape: [1, 1, 4], data: [1, 2, 3, 4])])
        #expect(maxDiff("InstanceNorm [1, 2, 3, 4]", y, Tensor(shape: [1, 1, 4], data: [-1.3416355, -0.4472118, 0.4472118, 1.3416355]), tolerance: 1e-6) < 1e-6)
    }
}
