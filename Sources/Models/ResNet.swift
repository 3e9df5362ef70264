import Engine

/// ResNet (He et al., 2016) with torchvision's key names: `resnet(basic, [2, 2, 2, 2])` is ResNet-18.
/// Block outputs are named after the block ("layer1.0"); stages alias their last block ("layer1").
/// The first ReLU of a block is "<block>.relu", the second of a bottleneck "<block>.relu_1".
enum ResNet {
    enum Block { case basic, bottleneck }

    static func build(_ block: Block, _ depths: [Int], _ v: Variant) -> Graph {
        let g = Graph()
        let root = Scope(g)
        let base = 64 / v.widthDivisor
        root.add("conv1", L.conv(3, base, 7, stride: 2, padding: 3, bias: false))
        root.add("bn1", L.bn(base))
        root.add("relu", L.relu())
        var x = root.add("maxpool", MaxPool2d(kernel: 3, stride: 2, padding: 1))
        let expansion = block == .basic ? 1 : 4
        var inplanes = base
        for (stage, depth) in depths.enumerated() {
            let planes = base << stage
            let s = root.child("layer\(stage + 1)")
            for i in 0 ..< depth {
                let stride = stage > 0 && i == 0 ? 2 : 1
                x = block == .basic
                    ? basicBlock(s.child(i), x, inplanes, planes, stride)
                    : bottleneck(s.child(i), x, inplanes, planes, stride)
                inplanes = planes * expansion
            }
            g.alias(s.prefix, x)
        }
        root.add("avgpool", AdaptiveAvgPool2d(1, 1))
        root.add("flatten", Flatten())
        root.add("fc", Linear(inplanes, v.classes))
        return g
    }

    /// The shortcut: the input itself, or a strided 1x1 conv + BN when the shape changes.
    static func shortcut(_ s: Scope, _ x: String, _ cin: Int, _ cout: Int, _ stride: Int) -> String {
        if stride == 1 && cin == cout { return x }
        s.add("downsample.0", L.conv(cin, cout, 1, stride: stride, bias: false), inputs: [x])
        return s.add("downsample.1", L.bn(cout))
    }

    /// conv3x3 → BN → ReLU → conv3x3 → BN, plus the shortcut, then ReLU.
    static func basicBlock(_ s: Scope, _ x: String, _ cin: Int, _ planes: Int, _ stride: Int) -> String {
        s.add("conv1", L.conv(cin, planes, 3, stride: stride, padding: 1, bias: false), inputs: [x])
        s.add("bn1", L.bn(planes))
        s.add("relu", L.relu())
        s.add("conv2", L.conv(planes, planes, 3, padding: 1, bias: false))
        let main = s.add("bn2", L.bn(planes))
        let sc = shortcut(s, x, cin, planes, stride)
        s.add("add", Add(), inputs: [main, sc])
        return s.add("", L.relu())
    }

    /// conv1x1 → BN → ReLU → conv3x3 (stride here, as torchvision's v1.5) → BN → ReLU → conv1x1 (×4) → BN,
    /// plus the shortcut, then ReLU.
    static func bottleneck(_ s: Scope, _ x: String, _ cin: Int, _ planes: Int, _ stride: Int) -> String {
        s.add("conv1", L.conv(cin, planes, 1, bias: false), inputs: [x])
        s.add("bn1", L.bn(planes))
        s.add("relu", L.relu())
        s.add("conv2", L.conv(planes, planes, 3, stride: stride, padding: 1, bias: false))
        s.add("bn2", L.bn(planes))
        s.add("relu_1", L.relu())
        s.add("conv3", L.conv(planes, planes * 4, 1, bias: false))
        let main = s.add("bn3", L.bn(planes * 4))
        let sc = shortcut(s, x, cin, planes * 4, stride)
        s.add("add", Add(), inputs: [main, sc])
        return s.add("", L.relu())
    }

    static func arch(_ name: String, _ block: Block, _ depths: [Int]) -> Architecture {
        Architecture(name: name, layout: "torchvision", preprocessing: "torchvision", inputSize: 224, camLayer: "layer4",
                     embeddingLayer: "layer4", classifierKey: "fc.weight") { build(block, depths, $0) }
    }

    static let architectures: [Architecture] = [
        arch("resnet18", .basic, [2, 2, 2, 2]), arch("resnet34", .basic, [3, 4, 6, 3]),
        arch("resnet50", .bottleneck, [3, 4, 6, 3]), arch("resnet101", .bottleneck, [3, 4, 23, 3]),
        arch("resnet152", .bottleneck, [3, 8, 36, 3]),
    ]
}
