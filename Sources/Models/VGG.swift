import Engine

/// VGG (Simonyan & Zisserman, 2015) and AlexNet (Krizhevsky et al., 2012) as torchvision builds them:
/// a `features` sequence from a config table (numbers are conv widths, "M" a 2x2 max pool), an adaptive
/// average pool, and a `classifier` of linear layers.
enum VGG {
    static let configs: [String: [Int]] = [     // 0 stands for "M"
        "vgg11": [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
        "vgg13": [64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
        "vgg16": [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0],
        "vgg19": [64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0],
    ]

    static func build(_ config: [Int], batchNorm: Bool, _ variant: Variant) -> Graph {
        let d = variant.widthDivisor, fc = 4096 / d
        let g = Graph()
        let f = Scope(g, "features")
        var c = 3, i = 0
        for v in config {
            if v == 0 {
                f.add("\(i)", MaxPool2d(kernel: 2, stride: 2)); i += 1
            } else {
                let v = v / d
                f.add("\(i)", L.conv(c, v, 3, padding: 1)); i += 1
                if batchNorm { f.add("\(i)", L.bn(v)); i += 1 }
                f.add("\(i)", L.relu()); i += 1
                c = v
            }
        }
        g.alias("features", "features.\(i - 1)")
        Scope(g).add("avgpool", AdaptiveAvgPool2d(7, 7))
        Scope(g).add("flatten", Flatten())
        let cl = Scope(g, "classifier")
        cl.add("0", Linear(c * 7 * 7, fc)); cl.add("1", L.relu()); cl.add("2", Dropout(0.5))
        cl.add("3", Linear(fc, fc)); cl.add("4", L.relu()); cl.add("5", Dropout(0.5))
        cl.add("6", Linear(fc, variant.classes))
        return g
    }

    /// The index of the last ReLU in `features` (the default Grad-CAM layer: features.29 for VGG16).
    static func lastReLU(_ config: [Int], batchNorm: Bool) -> Int {
        config.reduce(0) { $0 + ($1 == 0 ? 1 : batchNorm ? 3 : 2) } - 2
    }

    static func arch(_ name: String, batchNorm: Bool) -> Architecture {
        let cfg = configs[name]!
        let cam = "features.\(lastReLU(cfg, batchNorm: batchNorm))"
        return Architecture(name: name + (batchNorm ? "_bn" : ""), layout: "torchvision", preprocessing: "torchvision", inputSize: 224,
                            camLayer: cam, embeddingLayer: cam, classifierKey: "classifier.6.weight") {
            build(cfg, batchNorm: batchNorm, $0)
        }
    }

    static let architectures: [Architecture] = ["vgg11", "vgg13", "vgg16", "vgg19"].flatMap {
        [arch($0, batchNorm: false), arch($0, batchNorm: true)]
    }
}

enum AlexNet {
    static func build(_ v: Variant) -> Graph {
        let d = v.widthDivisor, (c1, c2, c3, c4, fc) = (64 / d, 192 / d, 384 / d, 256 / d, 4096 / d)
        let g = Graph()
        let f = Scope(g, "features")
        f.add("0", L.conv(3, c1, 11, stride: 4, padding: 2)); f.add("1", L.relu()); f.add("2", MaxPool2d(kernel: 3, stride: 2))
        f.add("3", L.conv(c1, c2, 5, padding: 2)); f.add("4", L.relu()); f.add("5", MaxPool2d(kernel: 3, stride: 2))
        f.add("6", L.conv(c2, c3, 3, padding: 1)); f.add("7", L.relu())
        f.add("8", L.conv(c3, c4, 3, padding: 1)); f.add("9", L.relu())
        f.add("10", L.conv(c4, c4, 3, padding: 1)); f.add("11", L.relu()); f.add("12", MaxPool2d(kernel: 3, stride: 2))
        g.alias("features", "features.12")
        Scope(g).add("avgpool", AdaptiveAvgPool2d(6, 6))
        Scope(g).add("flatten", Flatten())
        let c = Scope(g, "classifier")
        c.add("0", Dropout(0.5)); c.add("1", Linear(c4 * 6 * 6, fc)); c.add("2", L.relu())
        c.add("3", Dropout(0.5)); c.add("4", Linear(fc, fc)); c.add("5", L.relu())
        c.add("6", Linear(fc, v.classes))
        return g
    }

    static let architectures: [Architecture] = [
        Architecture(name: "alexnet", layout: "torchvision", preprocessing: "torchvision", inputSize: 224, camLayer: "features.11",
                     embeddingLayer: "features.11", classifierKey: "classifier.6.weight") { build($0) },
    ]
}
