import Engine

/// EfficientNet (Tan & Le, 2019) and EfficientNet-Lite: mobile inverted bottlenecks (MBConv) scaled in width,
/// depth and resolution from one table, B0's. Three key layouts build on it:
/// - "efficientnet_lite_pytorch" (`efficientnet_lite0` ... `efficientnet_lite4`): the Lite variants of
///   EfficientNet-Lite-PyTorch, ReLU6, no squeeze-excitation, the stem and head not scaled;
/// - "efficientnet_pytorch" (`efficientnet_b0` ... `_b7`): lukemelas' efficientnet_pytorch, SiLU and SE;
/// - "torchvision" (`efficientnet_b0` ... `_b7`), in EfficientNet+Torchvision.swift.
///
/// The first two share their keys (`_conv_stem`, `_bn0`, `_blocks.N._expand_conv`, `_bn0`, `_depthwise_conv`,
/// `_bn1`, `_se_reduce`, `_se_expand`, `_project_conv`, `_bn2`, `_conv_head`, `_bn1`, `_fc`) and TensorFlow's
/// static SAME padding: each convolution's padding is fixed when the network is built, from the nominal
/// resolution, as Conv2dStaticSamePadding does (stride 2 pads (0, 1) for 3x3 kernels on even sizes and (1, 2)
/// for 5x5 ones: more at the bottom and right). BatchNorm's epsilon is TensorFlow's 1e-3.
///
/// Names follow the modules: the shared activation module `_swish` called k times in a block or at the top is
/// `_swish`, `_swish_1`, ... (the stem's and the head's at the top); SE's functional pooling, gate and product are
/// `<block>.adaptive_avg_pool2d`, `.sigmoid` and `.mul`; a block's output is named after it (`_blocks.3`, an Add
/// when it has a residual), `_blocks` is the last block, and `features` is what `extract_features` returns (the
/// head's activation, the default Grad-CAM layer).
enum EfficientNet {
    /// One stage of B0's table (the paper's Table 1): expansion, kernel, first stride, input and output channels,
    /// repeats.
    struct Stage {
        let expand: Int, kernel: Int, stride: Int, input: Int, output: Int, repeats: Int
    }

    /// EfficientNet-B0 and Lite0, stage by stage (efficientnet_builder.py's block strings).
    static let b0: [Stage] = [
        Stage(expand: 1, kernel: 3, stride: 1, input: 32, output: 16, repeats: 1),
        Stage(expand: 6, kernel: 3, stride: 2, input: 16, output: 24, repeats: 2),
        Stage(expand: 6, kernel: 5, stride: 2, input: 24, output: 40, repeats: 2),
        Stage(expand: 6, kernel: 3, stride: 2, input: 40, output: 80, repeats: 3),
        Stage(expand: 6, kernel: 5, stride: 1, input: 80, output: 112, repeats: 3),
        Stage(expand: 6, kernel: 5, stride: 2, input: 112, output: 192, repeats: 4),
        Stage(expand: 6, kernel: 3, stride: 1, input: 192, output: 320, repeats: 1),
    ]

    /// A variant's compound scaling: width and depth multipliers, resolution.
    struct Scaling {
        let width: Double, depth: Double, resolution: Int
    }

    /// (width, depth, resolution) of B0 ... B7 and Lite0 ... Lite4, as efficientnet_params lists them.
    static let bScaling: [Scaling] = [(1.0, 1.0, 224), (1.0, 1.1, 240), (1.1, 1.2, 260), (1.2, 1.4, 300), (1.4, 1.8, 380),
                                      (1.6, 2.2, 456), (1.8, 2.6, 528), (2.0, 3.1, 600)].map(Scaling.init)
    static let liteScaling: [Scaling] = [(1.0, 1.0, 224), (1.0, 1.1, 240), (1.1, 1.2, 260), (1.2, 1.4, 280),
                                         (1.4, 1.8, 300)].map(Scaling.init)

    /// round_filters (torchvision's _make_divisible): channels × width to the nearest multiple of 8, never
    /// rounding down by more than 10%.
    static func roundFilters(_ channels: Int, _ width: Double) -> Int {
        let v = Double(channels) * width
        var n = max(8, Int(v + 4) / 8 * 8)
        if Double(n) < 0.9 * v { n += 8 }
        return n
    }

    /// round_repeats: ⌈repeats × depth⌉.
    static func roundRepeats(_ repeats: Int, _ depth: Double) -> Int { Int((Double(repeats) * depth).rounded(.up)) }

    /// One block of the scaled network, at full width, and the index of its stage in the table.
    struct Block {
        let expand: Int, kernel: Int, stride: Int, input: Int, output: Int, stage: Int
    }

    /// The blocks of a scaled network, in order, and the head's input and output channels.
    /// - Parameters: lite: keep the stem (32), the head (1280) and the first and last stages' repeats unscaled.
    static func blocks(_ s: Scaling, lite: Bool) -> (stem: Int, blocks: [Block], head: Int) {
        let stem = lite ? 32 : roundFilters(32, s.width)
        var out: [Block] = [], input = stem
        for (i, st) in b0.enumerated() {
            let output = roundFilters(st.output, s.width)
            let fixed = lite && (i == 0 || i == b0.count - 1)
            for r in 0 ..< (fixed ? st.repeats : roundRepeats(st.repeats, s.depth)) {
                out.append(Block(expand: st.expand, kernel: st.kernel, stride: r == 0 ? st.stride : 1, input: input, output: output, stage: i))
                input = output
            }
        }
        return (stem, out, lite ? 1280 : roundFilters(1280, s.width))
    }

    /// A convolution with TensorFlow's SAME padding fixed for a `size`×`size` input (Conv2dStaticSamePadding).
    static func staticSame(_ cin: Int, _ cout: Int, _ k: Int, stride: Int = 1, size: Int, groups: Int = 1, bias: Bool = false) -> Conv2d {
        let (begin, end) = Padding.same(size, kernel: k, stride: stride)
        return Conv2d(cin, cout, kernel: (k, k), stride: (stride, stride), padding: Padding(top: begin, left: begin, bottom: end, right: end),
                      dilation: (1, 1), groups: groups, bias: bias)
    }

    /// The efficientnet_pytorch / efficientnet_lite_pytorch layout.
    /// - Parameters: lite: the Lite variant (ReLU6, no SE, fixed stem and head); otherwise SiLU and SE (ratio 0.25).
    static func buildMelas(_ s: Scaling, lite: Bool, _ v: Variant) -> Graph {
        let d = v.widthDivisor
        func ch(_ c: Int) -> Int { max(1, c / d) }            // channels of the narrow copy
        func bn(_ c: Int) -> BatchNorm2d { BatchNorm2d(ch(c), eps: 1e-3) }
        func act() -> Layer { lite ? L.relu6() : L.silu() }
        let (stem, blocks, head) = self.blocks(s, lite: lite)
        let g = Graph(), root = Scope(g)
        var size = s.resolution                               // the nominal size the static padding is computed for
        root.add("_conv_stem", staticSame(3, ch(stem), 3, stride: 2, size: size))
        root.add("_bn0", bn(stem))
        var x = root.add("_swish", act())
        size = (size + 1) / 2
        for (i, b) in blocks.enumerated() {
            let bs = root.child("_blocks").child(i), hidden = b.input * b.expand
            var calls = 0                                     // the block's _swish module, called once per activation
            @discardableResult func swish() -> String {
                defer { calls += 1 }
                return bs.add(calls == 0 ? "_swish" : "_swish_\(calls)", act())
            }
            var h = x
            if b.expand != 1 {
                bs.add("_expand_conv", staticSame(ch(b.input), ch(hidden), 1, size: size), inputs: [x])
                bs.add("_bn0", bn(hidden))
                h = swish()
            }
            bs.add("_depthwise_conv", staticSame(ch(hidden), ch(hidden), b.kernel, stride: b.stride, size: size, groups: ch(hidden)), inputs: [h])
            bs.add("_bn1", bn(hidden))
            h = swish()
            size = (size + b.stride - 1) / b.stride
            if !lite {                                        // x · sigmoid(expand(swish(reduce(mean(x)))))
                let squeezed = max(1, b.input / 4)
                bs.add("adaptive_avg_pool2d", AdaptiveAvgPool2d(1, 1), inputs: [h])
                bs.add("_se_reduce", L.conv(ch(hidden), ch(squeezed), 1))
                swish()
                bs.add("_se_expand", L.conv(ch(squeezed), ch(hidden), 1))
                let gate = bs.add("sigmoid", L.sigmoid())
                h = bs.add("mul", L.mul(), inputs: [h, gate])
            }
            bs.add("_project_conv", staticSame(ch(hidden), ch(b.output), 1, size: size), inputs: [h])
            let out = bs.add("_bn2", bn(b.output))
            if b.stride == 1 && b.input == b.output {
                x = bs.add("", Add(), inputs: [out, x])
            } else {
                g.alias(bs.prefix, out)
                x = out
            }
        }
        g.alias("_blocks", x)
        root.add("_conv_head", staticSame(ch(blocks.last!.output), ch(head), 1, size: size), inputs: [x])
        root.add("_bn1", bn(head))
        g.alias("features", root.add("_swish_1", act()))
        root.add("_avg_pooling", AdaptiveAvgPool2d(1, 1))
        root.add("flatten", Flatten())
        root.add("_dropout", Dropout(0.2))
        root.add("_fc", Linear(ch(head), v.classes))
        return g
    }

    /// Lite0 ... Lite4, then each of B0 ... B7 in torchvision's layout (the default) and efficientnet_pytorch's.
    static let architectures: [Architecture] =
        liteScaling.enumerated().map { i, s in
            Architecture(name: "efficientnet_lite\(i)", layout: "efficientnet_lite_pytorch", preprocessing: "efficientnet-lite",
                         inputSize: s.resolution, camLayer: "features", embeddingLayer: "features", classifierKey: "_fc.weight") {
                buildMelas(s, lite: true, $0)
            }
        } + bScaling.enumerated().flatMap { b, s in [
            Architecture(name: "efficientnet_b\(b)", layout: "torchvision", preprocessing: "torchvision", inputSize: s.resolution,
                         camLayer: "features.8", embeddingLayer: "features.8", classifierKey: "classifier.1.weight") {
                buildTorchvision(b, $0)
            },
            Architecture(name: "efficientnet_b\(b)", layout: "efficientnet_pytorch", preprocessing: "torchvision", inputSize: s.resolution,
                         camLayer: "features", embeddingLayer: "features", classifierKey: "_fc.weight") {
                buildMelas(s, lite: false, $0)
            },
        ] }
}
