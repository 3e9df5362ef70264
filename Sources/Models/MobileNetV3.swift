import Engine

/// MobileNetV3 small and large (Howard et al., 2019) in torchvision's layout: `features.0` the stem (HardSwish),
/// `features.N` the inverted residual blocks (`features.N.block.K`: expand, depthwise, squeeze-excitation with
/// ReLU and HardSigmoid, project), then the 1x1 head (6 × its input channels, HardSwish), pooling and
/// `classifier.0` / `.3` linear layers with HardSwish between. BatchNorm epsilon 1e-3. A block's output is named after
/// it (an Add when it has a residual); `features` is the head, the default Grad-CAM layer.
enum MobileNetV3 {
    /// One block of torchvision's table: input, kernel, expanded and output channels, SE, HardSwish (else ReLU),
    /// stride.
    struct Block {
        let input: Int, kernel: Int, expanded: Int, output: Int, se: Bool, hardSwish: Bool, stride: Int
        init(_ input: Int, _ kernel: Int, _ expanded: Int, _ output: Int, _ se: Bool, _ hs: Bool, _ stride: Int) {
            (self.input, self.kernel, self.expanded, self.output) = (input, kernel, expanded, output)
            (self.se, self.hardSwish, self.stride) = (se, hs, stride)
        }
    }

    /// torchvision's _mobilenet_v3_conf("mobilenet_v3_large"); the classifier's hidden layer has 1280 units.
    static let large: [Block] = [
        Block(16, 3, 16, 16, false, false, 1), Block(16, 3, 64, 24, false, false, 2), Block(24, 3, 72, 24, false, false, 1),
        Block(24, 5, 72, 40, true, false, 2), Block(40, 5, 120, 40, true, false, 1), Block(40, 5, 120, 40, true, false, 1),
        Block(40, 3, 240, 80, false, true, 2), Block(80, 3, 200, 80, false, true, 1), Block(80, 3, 184, 80, false, true, 1),
        Block(80, 3, 184, 80, false, true, 1), Block(80, 3, 480, 112, true, true, 1), Block(112, 3, 672, 112, true, true, 1),
        Block(112, 5, 672, 160, true, true, 2), Block(160, 5, 960, 160, true, true, 1), Block(160, 5, 960, 160, true, true, 1),
    ]
    /// torchvision's _mobilenet_v3_conf("mobilenet_v3_small"); the classifier's hidden layer has 1024 units.
    static let small: [Block] = [
        Block(16, 3, 16, 16, true, false, 2), Block(16, 3, 72, 24, false, false, 2), Block(24, 3, 88, 24, false, false, 1),
        Block(24, 5, 96, 40, true, true, 2), Block(40, 5, 240, 40, true, true, 1), Block(40, 5, 240, 40, true, true, 1),
        Block(40, 5, 120, 48, true, true, 1), Block(48, 5, 144, 48, true, true, 1), Block(48, 5, 288, 96, true, true, 2),
        Block(96, 5, 576, 96, true, true, 1), Block(96, 5, 576, 96, true, true, 1),
    ]

    static func build(_ blocks: [Block], hidden: Int, _ v: Variant) -> Graph {
        func ch(_ c: Int) -> Int { max(1, c / v.widthDivisor) }  // channels of the narrow copy
        let eps: Float = 1e-3
        let g = Graph(), f = Scope(g, "features")
        var x = f.convNormAct("0", 3, ch(16), 3, stride: 2, eps: eps, activation: L.hardSwish(), from: Graph.inputName)
        for (i, b) in blocks.enumerated() {
            let body = f.child(i + 1).child("block")
            func act() -> Layer { b.hardSwish ? L.hardSwish() : L.relu() }
            var h = x, k = 0
            if b.expanded != b.input {
                h = body.convNormAct("0", ch(b.input), ch(b.expanded), 1, eps: eps, activation: act(), from: h)
                k = 1
            }
            h = body.convNormAct("\(k)", ch(b.expanded), ch(b.expanded), b.kernel, stride: b.stride, groups: ch(b.expanded), eps: eps,
                                 activation: act(), from: h)
            if b.se {
                k += 1
                h = body.squeezeExcitation("\(k)", ch(b.expanded), ch(EfficientNet.roundFilters(b.expanded / 4, 1)),
                                           activation: L.relu(), scale: L.hardSigmoid(), from: h)
            }
            h = body.convNormAct("\(k + 1)", ch(b.expanded), ch(b.output), 1, eps: eps, activation: nil, from: h)
            g.alias(body.prefix, h)
            if b.stride == 1 && b.input == b.output {
                x = f.add("\(i + 1)", Add(), inputs: [h, x])
            } else {
                g.alias(f.name("\(i + 1)"), h)
                x = h
            }
        }
        let last = blocks.last!.output * 6
        g.alias("features", f.convNormAct("\(blocks.count + 1)", ch(blocks.last!.output), ch(last), 1, eps: eps,
                                          activation: L.hardSwish(), from: x))
        Scope(g).add("avgpool", AdaptiveAvgPool2d(1, 1))
        Scope(g).add("flatten", Flatten())
        let c = Scope(g, "classifier")
        c.add("0", Linear(ch(last), ch(hidden)))
        c.add("1", L.hardSwish())
        c.add("2", Dropout(0.2))
        c.add("3", Linear(ch(hidden), v.classes))
        return g
    }

    static let architectures: [Architecture] = [
        Architecture(name: "mobilenet_v3_large", layout: "torchvision", preprocessing: "torchvision", inputSize: 224, camLayer: "features.16",
                     embeddingLayer: "features.16", classifierKey: "classifier.3.weight") { build(large, hidden: 1280, $0) },
        Architecture(name: "mobilenet_v3_small", layout: "torchvision", preprocessing: "torchvision", inputSize: 224, camLayer: "features.12",
                     embeddingLayer: "features.12", classifierKey: "classifier.3.weight") { build(small, hidden: 1024, $0) },
    ]
}
