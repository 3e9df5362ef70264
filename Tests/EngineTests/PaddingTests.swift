import Testing
@testable import Engine

/// Asymmetric padding (ONNX pads [top, left, bottom, right], TensorFlow's SAME), transposed convolution and constant
/// graph nodes. Forward values come from naive loops written from the definitions (PyTorch's Conv2d and
/// ConvTranspose2d, ONNX's pads); backward passes from central finite differences.
@Suite struct PaddingTests {
    /// y[n,o,i,j] = b[o] + Σ w[o,c,ki,kj]·x[n, c, i·sh − top + ki·dh, j·sw − left + kj·dw], with Ho from top + bottom.
    func naiveConv(_ l: Conv2d, _ x: Tensor) -> Tensor {
        ForwardTests().naiveConv(l, x)
    }

    /// The transposed convolution scattered pixel by pixel:
    /// y[n, g·O/G + o, i·sh − top + ki·dh, j·sw − left + kj·dw] += x[n, c, i, j]·w[c, o, ki, kj] for c in group g.
    func naiveTransposed(_ l: ConvTranspose2d, _ x: Tensor) -> Tensor {
        let shape = try! l.outputShape([x.shape])
        var y = Tensor(zeros: shape)
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (ho, wo) = (shape[2], shape[3]), cg = c / l.groups, og = l.outChannels / l.groups
        for b in 0 ..< n { for ci in 0 ..< c { for i in 0 ..< h { for j in 0 ..< w {
            let g = ci / cg
            for o in 0 ..< og { for ki in 0 ..< l.kernel.h { for kj in 0 ..< l.kernel.w {
                let oi = i * l.stride.h - l.padding.top + ki * l.dilation.h, oj = j * l.stride.w - l.padding.left + kj * l.dilation.w
                if oi < 0 || oi >= ho || oj < 0 || oj >= wo { continue }
                y.data[((b * l.outChannels + g * og + o) * ho + oi) * wo + oj] +=
                    x.data[((b * c + ci) * h + i) * w + j] * l.weight.data[((ci * og + o) * l.kernel.h + ki) * l.kernel.w + kj]
            } } }
        } } } }
        for b in 0 ..< n { for o in 0 ..< l.outChannels { for p in 0 ..< ho * wo { y.data[(b * l.outChannels + o) * ho * wo + p] += l.bias?.data[o] ?? 0 } } }
        return y
    }

    @Test func tensorflowSamePadding() {
        // tf.nn.conv2d(padding="SAME"): out = ceil(in / stride); 224, k3, s2 → total 1, all of it at the end.
        #expect(Padding.same(224, kernel: 3, stride: 2) == (0, 1))
        #expect(Padding.same(225, kernel: 3, stride: 2) == (1, 1))
        #expect(Padding.same(7, kernel: 5, stride: 1) == (2, 2))
        #expect(Padding.same(8, kernel: 4, stride: 1) == (1, 2))
        #expect(Padding.same(8, kernel: 4, stride: 1, lower: true) == (2, 1))
        #expect(Padding.same(9, kernel: 3, stride: 3) == (0, 0))
    }

    @Test("asymmetric Conv2d equals the definition and its gradient finite differences", arguments: [
        (Padding(top: 0, left: 0, bottom: 1, right: 1), (2, 2), 1, [1, 3, 8, 8]),      // TF SAME at stride 2
        (Padding(top: 1, left: 2, bottom: 0, right: 1), (1, 1), 1, [2, 2, 5, 6]),
        (Padding(top: 2, left: 0, bottom: 1, right: 3), (2, 1), 2, [1, 4, 7, 5]),      // groups, rectangular stride
        (Padding(top: 0, left: 1, bottom: 2, right: 0), (2, 2), 4, [1, 4, 9, 7]),      // depthwise
        (Padding(top: 1, left: 2, bottom: 2, right: 1), (1, 1), 4, [2, 4, 6, 19]),     // depthwise, rows past 8 lanes
    ] as [(Padding, (Int, Int), Int, [Int])])
    func asymmetricConv(_ c: (Padding, (Int, Int), Int, [Int])) throws {
        let (pad, stride, groups, shape) = c
        let l = Conv2d(shape[1], 4, kernel: (3, 3), stride: stride, padding: pad, dilation: (1, 1), groups: groups, bias: true)
        var rng = SeededRandom(23)
        l.weight = randomTensor(l.weight.shape, &rng)
        l.bias = randomTensor([4], &rng)
        let x = randomTensor(shape, &rng)
        var y = Tensor(zeros: [0])
        l.forward([x], &y)
        let d = y.maxAbsDifference(naiveConv(l, x))
        print("TENSOR \(d < 1e-5 ? "OK" : "BAD") conv pad \(pad): maxdiff \(d)")
        #expect(d < 1e-5)
        #expect(gradientCheck("Conv2d pad \(pad)", l, [x]).relative < LayerGradientTests.tolerance)
    }

    @Test func asymmetricConvOnWinogradShapesFallsBackAndAgrees() throws {
        // 3x3 stride 1 with 64 channels would run Winograd when uniform; pads [0, 0, 2, 2] must not.
        let l = Conv2d(64, 32, kernel: (3, 3), stride: (1, 1), padding: Padding(top: 0, left: 0, bottom: 2, right: 2),
                       dilation: (1, 1), groups: 1, bias: false)
        var rng = SeededRandom(4)
        l.weight = randomTensor(l.weight.shape, &rng, scale: 0.1)
        let x = randomTensor([1, 64, 17, 17], &rng)
        var y = Tensor(zeros: [0])
        l.forward([x], &y)
        #expect(y.shape == [1, 32, 17, 17])
        #expect(y.maxAbsDifference(naiveConv(l, x)) < 1e-4)
    }

    @Test func asymmetricPools() throws {
        // ONNX MaxPool pads [0, 0, 1, 1] on a 4x4 input, kernel 2, stride 2... with a 5x5 input: the last window holds
        // one real column and −∞ padding.
        let x = Tensor(shape: [1, 1, 5, 5], data: (0 ..< 25).map { Float(($0 * 7) % 25) })
        let mp = MaxPool2d(kernel: (2, 2), stride: (2, 2), padding: Padding(top: 0, left: 0, bottom: 1, right: 1))
        var y = Tensor(zeros: [0])
        mp.forward([x], &y)
        #expect(y.shape == [1, 1, 3, 3])
        // Windows: rows {0,1},{2,3},{4}; columns likewise. Values v = (7·i) mod 25 at flat index i.
        func v(_ r: Int, _ c: Int) -> Float { Float(((r * 5 + c) * 7) % 25) }
        let expected: [Float] = [[0, 1], [2, 3], [4]].flatMap { rows in [[0, 1], [2, 3], [4]].map { cols in
            rows.flatMap { r in cols.map { v(r, $0) } }.max()! } }
        #expect(y.data == expected)
        #expect(gradientCheck("MaxPool2d asymmetric", mp, [x], eps: 1e-3).relative < LayerGradientTests.tolerance)
        // AveragePool with count_include_pad counts each side's own padding: torch.nn.functional.avg_pool2d(
        // F.pad(ones(1,1,3,3), (1, 0, 0, 1)), 2, 2) = [[0.5, 1], [0.25, 0.5]].
        let ap = AvgPool2d(kernel: (2, 2), stride: (2, 2), padding: Padding(top: 0, left: 1, bottom: 1, right: 0))
        ap.forward([Tensor(shape: [1, 1, 3, 3], repeating: 1)], &y)
        #expect(y.data == [0.5, 1, 0.25, 0.5])
        var rng = SeededRandom(6)
        let r = gradientCheck("AvgPool2d asymmetric", AvgPool2d(kernel: (3, 2), stride: (2, 1), padding: Padding(top: 1, left: 0, bottom: 2, right: 1),
                                                              ceilMode: true, countIncludePad: false), [randomTensor([2, 2, 6, 5], &rng)])
        #expect(r.relative < LayerGradientTests.tolerance)
    }

    @Test func badWindowsAreErrorsNotCrashes() {
        #expect(throws: EngineError.self) { try MaxPool2d(kernel: 0).outputShape([[1, 1, 4, 4]]) }
        #expect(throws: EngineError.self) { try AvgPool2d(kernel: (2, 2), stride: (0, 1)).outputShape([[1, 1, 4, 4]]) }
        #expect(throws: EngineError.self) {
            try Conv2d(1, 1, kernel: (3, 3), stride: (1, 1), padding: Padding(top: -1, left: 0, bottom: 0, right: 0),
                       dilation: (1, 1), groups: 1, bias: false).outputShape([[1, 1, 4, 4]])
        }
    }

    @Test("ConvTranspose2d equals the scatter definition and its gradients finite differences", arguments: [
        (4, 3, (3, 3), (2, 2), Padding(1), (1, 1), (1, 1), 1, [1, 4, 4, 5]),           // U-Net-like upsampling, output padding
        (2, 4, (2, 2), (2, 2), Padding.zero, (0, 0), (1, 1), 1, [2, 2, 3, 3]),          // the classic 2x upsampling
        (4, 6, (3, 2), (1, 2), Padding(top: 1, left: 0, bottom: 0, right: 1), (0, 1), (1, 1), 2, [1, 4, 3, 4]),
        (3, 3, (3, 3), (2, 2), Padding(2), (0, 0), (2, 2), 3, [1, 3, 5, 4]),           // depthwise, dilated
    ] as [(Int, Int, (Int, Int), (Int, Int), Padding, (Int, Int), (Int, Int), Int, [Int])])
    func transposed(_ c: (Int, Int, (Int, Int), (Int, Int), Padding, (Int, Int), (Int, Int), Int, [Int])) throws {
        let l = ConvTranspose2d(c.0, c.1, kernel: c.2, stride: c.3, padding: c.4, outputPadding: c.5, dilation: c.6, groups: c.7)
        var rng = SeededRandom(31)
        l.weight = randomTensor(l.weight.shape, &rng)
        l.bias = randomTensor([c.1], &rng)
        let x = randomTensor(c.8, &rng)
        var y = Tensor(zeros: [0])
        l.forward([x], &y)
        let d = y.maxAbsDifference(naiveTransposed(l, x))
        print("TENSOR \(d < 1e-5 ? "OK" : "BAD") conv transpose \(c.2) stride \(c.3) pad \(c.4): maxdiff \(d)")
        #expect(d < 1e-5)
        #expect(gradientCheck("ConvTranspose2d \(c.2) s\(c.3) p\(c.4)", l, [x]).relative < LayerGradientTests.tolerance)
    }

    @Test func transposedOutputSizeIsTorchs() throws {
        // torch.nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1)(zeros(1, 1, 7, 9)).shape = (1, 1, 14, 18)
        let l = ConvTranspose2d(1, 1, kernel: (3, 3), stride: (2, 2), padding: Padding(1), outputPadding: (1, 1))
        #expect(try l.outputShape([[1, 1, 7, 9]]) == [1, 1, 14, 18])
        #expect(throws: EngineError.self) {
            try ConvTranspose2d(1, 1, kernel: (3, 3), stride: (2, 2), outputPadding: (2, 0)).outputShape([[1, 1, 4, 4]])
        }
    }

    @Test func constantNodesTakeNoGradientAndSurviveBatchOperations() throws {
        // y = conv(x) + c, with c a (1, 2, 1, 1) constant broadcast by a hand-written layer.
        final class AddChannelConstant: Layer {
            var kind: String { "AddChannelConstant" }
            func outputShape(_ inputs: [[Int]]) throws -> [Int] { inputs[0] }
            func forward(_ inputs: [Tensor], _ y: inout Tensor) {
                let (x, c) = (inputs[0], inputs[1]), plane = x.shape[2] * x.shape[3]
                y = x
                for i in 0 ..< x.count { y.data[i] += c.data[(i / plane) % x.shape[1]] }
            }
            func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] {
                #expect(needed == [true, false], "a constant input must not be asked for a gradient")
                return [dy, nil]
            }
        }
        let g = Graph()
        let conv = Conv2d(1, 2, kernel: 1)
        conv.weight = Tensor(shape: [2, 1, 1, 1], data: [1, 2])
        try g.append("conv", conv, inputs: ["input"])
        try g.append("c", Constant(Tensor(shape: [1, 2, 1, 1], data: [10, 20])), inputs: [])
        try g.append("sum", AddChannelConstant(), inputs: ["conv", "c"])
        #expect(g.isConstant(1) && !g.isConstant(0) && !g.isConstant(2))
        #expect(throws: EngineError.self) { try g.append("bad", Add(), inputs: ["conv", "nowhere"]) }
        #expect(throws: EngineError.self) { try g.append("conv", Add(), inputs: ["conv"]) }
        let x = Tensor(shape: [3, 1, 1, 1], data: [1, 2, 3])
        let acts = try g.forward(x)
        #expect(try acts.output("sum").data == [11, 22, 12, 24, 13, 26])
        let grads = try g.backward(acts, seed: Tensor(shape: [3, 2, 1, 1], repeating: 1), at: "sum", to: ["input"])
        #expect(grads["input"]?.data == [3, 3, 3])
        // One item of the batch keeps the constant whole; resuming with a batch of 2 replacements reuses it.
        #expect(try acts.item(1).output("c").shape == [1, 2, 1, 1])
        let resumed = try g.resume(acts.item(0), at: "conv", with: Tensor(shape: [2, 2, 1, 1], data: [0, 0, 1, 1]))
        #expect(try resumed.output("sum").data == [10, 20, 11, 21])
        // Fusion passes constants through.
        #expect(try g.fused().forward(x).output("sum").data == [11, 22, 12, 24, 13, 26])
    }
}
