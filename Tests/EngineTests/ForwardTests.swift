import Testing
@testable import Engine

/// Forward passes against independent references: a naive seven-loop convolution written from PyTorch's
/// definition of Conv2d, and output sizes that PyTorch prints.
@Suite struct ForwardTests {
    /// y[n,o,i,j] = b[o] + Σ_{c∈group(o), ki, kj} w[o,c,ki,kj] · x[n, c, i·s − p + ki·d, j·s − p + kj·d].
    func naiveConv(_ l: Conv2d, _ x: Tensor) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let shape = try! l.outputShape([x.shape])
        var y = Tensor(zeros: shape)
        let cg = c / l.groups, og = l.outChannels / l.groups
        for b in 0 ..< n { for o in 0 ..< l.outChannels { for i in 0 ..< shape[2] { for j in 0 ..< shape[3] {
            var s = l.bias?.data[o] ?? 0
            let grp = o / og
            for ci in 0 ..< cg { for ki in 0 ..< l.kernel.h { for kj in 0 ..< l.kernel.w {
                let ih = i * l.stride.h - l.padding.top + ki * l.dilation.h
                let iw = j * l.stride.w - l.padding.left + kj * l.dilation.w
                if ih < 0 || ih >= h || iw < 0 || iw >= w { continue }
                s += l.weight.data[((o * cg + ci) * l.kernel.h + ki) * l.kernel.w + kj] * x.data[((b * c + grp * cg + ci) * h + ih) * w + iw]
            } } }
            y.data[((b * l.outChannels + o) * shape[2] + i) * shape[3] + j] = s
        } } } }
        return y
    }

    @Test("Conv2d forward equals the naive definition", arguments: [
        (3, 8, 3, 1, 1, 1, 1, [2, 3, 9, 8]), (3, 8, 3, 2, 0, 1, 1, [1, 3, 11, 10]), (6, 4, 1, 1, 0, 1, 2, [2, 6, 5, 5]),
        (4, 4, 3, 2, 1, 1, 4, [1, 4, 9, 9]), (2, 3, 3, 1, 2, 2, 1, [1, 2, 8, 7]), (3, 5, 7, 2, 3, 1, 1, [1, 3, 15, 13]),
        (4, 4, 5, 1, 2, 1, 4, [2, 4, 6, 6]), (8, 8, 3, 1, 2, 2, 8, [2, 8, 12, 19]), (6, 6, 5, 2, 2, 1, 6, [1, 6, 13, 21]),
        (4, 4, 3, 2, 1, 1, 4, [1, 4, 9, 19]), (3, 3, 3, 3, 1, 1, 3, [1, 3, 8, 26]),
        // Columns under 256 on the channel-row kernel, read in place from a split copy of the image: full and partial
        // 16-pixel panels of an output row, stride 2 with a 7×7 kernel (a stem), stride 1 with a 5×5 one (3×3 goes
        // to Winograd), and stride 2 with dilation 2.
        (3, 8, 7, 2, 3, 1, 1, [1, 3, 40, 45]), (4, 6, 5, 1, 2, 1, 1, [1, 4, 10, 33]), (3, 5, 3, 2, 2, 2, 1, [1, 3, 12, 40]),
        // Pointwise, through the engine's GEMM kernel where the CPU has one: split over the cores (900 columns),
        // and a batch of small images run one per core.
        (16, 24, 1, 1, 0, 1, 1, [1, 16, 30, 30]), (5, 13, 1, 1, 0, 1, 1, [3, 5, 7, 7]),
        // Columns of 256 or more, on the AVX-512 kernel where the CPU has one, which packs them from the image: pixel
        // panels across output rows (9x9), stride 2 in rows of 7, dilation, two groups, stride 3, split along the
        // channels (128 filters over 49 pixels) and a batch run image by image.
        (32, 40, 3, 1, 1, 1, 1, [1, 32, 9, 9]), (32, 40, 3, 2, 1, 1, 1, [1, 32, 15, 14]), (30, 33, 3, 1, 2, 2, 1, [1, 30, 14, 14]),
        (64, 64, 3, 1, 1, 1, 2, [1, 64, 7, 7]), (40, 8, 3, 3, 1, 1, 1, [1, 40, 22, 22]), (32, 128, 3, 1, 1, 1, 1, [1, 32, 7, 7]),
        (32, 20, 3, 1, 1, 1, 1, [3, 32, 8, 8]),
        // Pointwise over a plane under 128 pixels, on the AVX-512 kernel too: split along the pixels, and along the
        // channels (160 filters over 49 pixels).
        (64, 96, 1, 1, 0, 1, 1, [1, 64, 7, 7]), (64, 160, 1, 1, 0, 1, 1, [1, 64, 7, 7]),
        // Strided pointwise (ResNet's shortcuts), multiplied as pointwise ones once subsampled: a plane of 272 pixels
        // on the channel-row kernel, one of 49 on the pixel-row kernel, stride 3 in two groups, and a batch.
        (16, 24, 1, 2, 0, 1, 1, [1, 16, 33, 32]), (64, 96, 1, 2, 0, 1, 1, [1, 64, 14, 13]), (8, 6, 1, 3, 0, 1, 2, [1, 8, 40, 40]),
        (8, 12, 1, 2, 0, 1, 1, [3, 8, 9, 9]),
    ])
    func convForward(_ c: (Int, Int, Int, Int, Int, Int, Int, [Int])) {
        let l = Conv2d(c.0, c.1, kernel: c.2, stride: c.3, padding: c.4, dilation: c.5, groups: c.6)
        var rng = SeededRandom(17)
        l.weight = randomTensor(l.weight.shape, &rng)
        l.bias = randomTensor([c.1], &rng)
        let x = randomTensor(c.7, &rng)
        var y = Tensor(zeros: [0])
        l.forward([x], &y)
        let ref = naiveConv(l, x)
        let d = y.maxAbsDifference(ref)
        print("TENSOR \(d < 1e-5 ? "OK" : "BAD") conv \(c): maxdiff \(d)")
        #expect(d < 1e-5)
    }

    /// A fused ReLU or ReLU6 in the epilogue equals the naive convolution followed by the activation, for a pointwise
    /// layer (the engine's GEMM kernel applies it as it stores), a 3×3 one (OpenBLAS, then the epilogue) and a 5×5
    /// depthwise one (the direct loop, in C where the CPU has AVX2).
    @Test(arguments: [(Activation.relu, 1, 1), (.relu6, 1, 1), (.relu, 3, 1), (.relu6, 3, 1), (.relu6, 5, 12)])
    func fusedActivation(_ c: (Activation, Int, Int)) {
        let out = c.2 == 1 ? 20 : 12
        let l = Conv2d(12, out, kernel: c.1, padding: c.1 / 2, groups: c.2)
        var rng = SeededRandom(23)
        l.weight = Tensor(shape: l.weight.shape, data: randomTensor(l.weight.shape, &rng).data.map { $0 * 8 })
        l.bias = randomTensor([out], &rng)
        l.activation = c.0
        let x = randomTensor([2, 12, 24, 24], &rng)
        var y = Tensor(zeros: [0])
        l.forward([x], &y)
        var ref = naiveConv(l, x)
        ref.data = ref.data.map { c.0 == .relu ? max($0, 0) : min(max($0, 0), 6) }
        #expect(ref.data.contains { $0 == 6 } == (c.0 == .relu6))
        let d = y.maxAbsDifference(ref)
        print("TENSOR \(d < 1e-4 ? "OK" : "BAD") conv \(c.1)x\(c.1) + \(c.0): maxdiff \(d)")
        #expect(d < 1e-4)
    }

    /// Sizes as `torch.nn.MaxPool2d(3, 2, ceil_mode=...)(torch.zeros(1, 1, n, n)).shape` prints them.
    @Test func maxPoolOutputSizesMatchPyTorch() throws {
        let cases: [(Int, Bool, Int)] = [(111, true, 55), (55, true, 27), (27, true, 13), (112, true, 56), (112, false, 55), (8, true, 4), (9, false, 4)]
        for (n, ceil, expected) in cases {
            let s = try MaxPool2d(kernel: 3, stride: 2, ceilMode: ceil).outputShape([[1, 1, n, n]])
            #expect(s[2] == expected, "MaxPool2d(3, 2, ceil=\(ceil)) on \(n): got \(s[2]), PyTorch gives \(expected)")
        }
        // MaxPool2d(3, 2, padding=1) on 112 (ResNet's stem) gives 56.
        #expect(try MaxPool2d(kernel: 3, stride: 2, padding: 1).outputShape([[1, 1, 112, 112]])[2] == 56)
    }

    /// Max pooling against the naive maximum over each window clipped to the image, exactly, for windows of 2 to 5
    /// with and without padding and ceil mode, over planes wide enough for the eight-column passes and their
    /// remainders; the last case's eighth window (ceil mode) reaches past the right edge inside the eight-window pass.
    @Test(arguments: [(3, 2, 1, false, 21), (3, 1, 1, false, 21), (3, 2, 0, true, 21), (2, 1, 0, false, 21), (5, 3, 2, true, 21),
                      (4, 2, 1, false, 21), (3, 2, 0, true, 16)])
    func maxPoolEqualsTheNaiveMaximum(_ c: (Int, Int, Int, Bool, Int)) throws {
        let (k, st, p, ceil, w) = c
        var rng = SeededRandom(41)
        let x = randomTensor([2, 3, 13, w], &rng)
        let layer = MaxPool2d(kernel: k, stride: st, padding: p, ceilMode: ceil)
        var y = Tensor(zeros: [0])
        layer.forward([x], &y)
        let (ho, wo) = (y.shape[2], y.shape[3])
        var worst: Float = 0
        for plane in 0 ..< 6 { for i in 0 ..< ho { for j in 0 ..< wo {
            var m = -Float.infinity
            for a in i * st - p ..< i * st - p + k where a >= 0 && a < 13 {
                for b in j * st - p ..< j * st - p + k where b >= 0 && b < w { m = max(m, x.data[(plane * 13 + a) * w + b]) }
            }
            worst = max(worst, abs(y.data[(plane * ho + i) * wo + j] - m))
        } } }
        #expect(worst == 0, "max pool \(c): off by \(worst)")
    }

    /// A NaN in a window makes that window's maximum NaN, as in PyTorch's max_pool2d; the other windows keep their
    /// maxima. One NaN lies in the columns the eight-wide pass reads, one in the remainder column.
    @Test(arguments: [(3, 2, 1), (3, 1, 1)])
    func maxPoolPropagatesNaN(_ c: (Int, Int, Int)) throws {
        let (k, st, p) = c
        var rng = SeededRandom(43)
        var x = randomTensor([1, 2, 13, 21], &rng)
        let holes = [(0, 6, 5), (1, 9, 20)]                 // (plane, row, column)
        for (pl, r, col) in holes { x.data[(pl * 13 + r) * 21 + col] = .nan }
        var y = Tensor(zeros: [0])
        MaxPool2d(kernel: k, stride: st, padding: p).forward([x], &y)
        let (ho, wo) = (y.shape[2], y.shape[3])
        var wrong = 0
        for plane in 0 ..< 2 { for i in 0 ..< ho { for j in 0 ..< wo {
            var m = -Float.infinity, hole = false
            for a in i * st - p ..< i * st - p + k where a >= 0 && a < 13 {
                for b in j * st - p ..< j * st - p + k where b >= 0 && b < 21 {
                    let v = x.data[(plane * 13 + a) * 21 + b]
                    if v.isNaN { hole = true } else { m = max(m, v) }
                }
            }
            let got = y.data[(plane * ho + i) * wo + j]
            if hole ? !got.isNaN : got != m { wrong += 1 }
        } } }
        #expect(wrong == 0, "max pool \(c): \(wrong) outputs differ from PyTorch's NaN-propagating maximum")
    }

    @Test func maxPoolTakesTheMaximumAndCeilWindow() {
        // 1x1x3x3 input 0..8, kernel 2, stride 2, ceil: windows {0,1,3,4}, {2,5}, {6,7}, {8}.
        let x = Tensor(shape: [1, 1, 3, 3], data: (0 ..< 9).map(Float.init))
        var y = Tensor(zeros: [0])
        MaxPool2d(kernel: 2, stride: 2, ceilMode: true).forward([x], &y)
        #expect(y.shape == [1, 1, 2, 2] && y.data == [4, 5, 7, 8])
    }

    @Test func averagePoolDivisorsFollowPyTorch() {
        // torch.nn.AvgPool2d(2, 2, padding=1)(torch.ones(1,1,3,3)) = [[0.25, 0.5], [0.5, 1.0]] (count_include_pad)
        let x = Tensor(shape: [1, 1, 3, 3], repeating: 1)
        var y = Tensor(zeros: [0])
        AvgPool2d(kernel: 2, stride: 2, padding: 1).forward([x], &y)
        #expect(y.data == [0.25, 0.5, 0.5, 1.0])
        AvgPool2d(kernel: 2, stride: 2, padding: 1, countIncludePad: false).forward([x], &y)
        #expect(y.data == [1, 1, 1, 1])
    }

    @Test func adaptivePoolWindows() {
        // AdaptiveAvgPool2d(2) on a 1x1x3x3 of 0..8: rows {0,1},{1,2}, same for columns.
        let x = Tensor(shape: [1, 1, 3, 3], data: (0 ..< 9).map(Float.init))
        var y = Tensor(zeros: [0])
        AdaptiveAvgPool2d(2, 2).forward([x], &y)
        #expect(y.data == [2, 3, 5, 6])
    }

    @Test func softmaxRowsSumToOne() {
        let y = Softmax.rows(Tensor(shape: [2, 3], data: [1, 2, 3, 1000, 1000, 1000]))
        #expect(abs(y.data[0...2].reduce(0, +) - 1) < 1e-6)
        #expect(abs(y.data[3] - 1.0 / 3) < 1e-6)
    }

    @Test func shapeErrorsNameTheLayer() {
        let l = Conv2d(3, 8, kernel: 3)
        #expect(throws: EngineError.self) { try l.outputShape([[1, 4, 8, 8]]) }
        do { _ = try l.outputShape([[1, 4, 8, 8]]) } catch { #expect("\(error)".contains("(N, 3, H, W)")) }
    }
}
