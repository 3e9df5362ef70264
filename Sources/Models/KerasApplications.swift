import TensorIO

/// keras.applications' VGG16, VGG19, ResNet50 and MobileNetV2 as tables with Keras's layer names, for the
/// weights-only `.h5` files keras.applications downloads (`vgg16_weights_tf_dim_ordering_tf_kernels.h5`, with or
/// without `_notop`). They make the same layer list a saved config would, so the importer and its weight loading
/// are the ones a `.keras` file goes through.
///
/// The tables fix the topology and the names; each layer's width is read from its kernel in the file, so an alpha
/// of MobileNetV2 or a narrowed copy loads as well. The top (Flatten or pooling, and the Dense layers) is included
/// when the file has `predictions`; VGG's input side then follows from fc1's rows, otherwise it is
/// `Options.defaultInputSize` (224).
enum KerasApplications {

    /// The model config of application `name` for the weights in `file`.
    static func spec(_ name: String, for file: KerasFile, source: String, options: KerasImport.Options) throws -> KerasModelSpec {
        guard file.format != .keras else {
            throw ModelError("\(source): is a .keras model; open it with --model \(source) (it carries its own architecture)")
        }
        var t = Table(file: file, source: source, app: name)
        t.top = t.has("predictions")
        switch name.lowercased().replacingOccurrences(of: "-", with: "_") {
        case "vgg16": try t.vgg([2, 2, 3, 3, 3], options)
        case "vgg19": try t.vgg([2, 2, 4, 4, 4], options)
        case "resnet50": try t.resnet50(options)
        case "mobilenet_v2", "mobilenetv2": try t.mobileNetV2(options)
        default:
            throw ModelError("\(source): '\(name)' has no Keras application table; weights-only .h5 files load with --model "
                + KerasImport.applications.joined(separator: ", "))
        }
        return KerasModelSpec(name: name, className: "Functional", layers: t.layers, inputs: [KerasRef(layer: "input_layer", node: 0, tensor: 0)],
                              outputs: [KerasRef(layer: t.last, node: 0, tensor: 0)])
    }

    /// A layer list under construction.
    struct Table {
        let file: KerasFile
        let source: String
        let app: String
        var layers: [KerasLayer] = []
        var last = "input_layer"
        var top = false

        /// Whether the file has weights for a layer.
        func has(_ layer: String) -> Bool { file.stringList(at: file.weightsRoot.isEmpty ? layer : file.weightsRoot + "/" + layer, "weight_names") != nil }

        /// The output width of a layer: the last dimension of its first weight in the file.
        func width(_ layer: String) throws -> Int {
            let group = file.weightsRoot.isEmpty ? layer : file.weightsRoot + "/" + layer
            guard let first = file.stringList(at: group, "weight_names")?.first, let d = file.weights.datasets[group + "/" + first],
                  let w = d.shape.last, w >= 1 else {
                throw ModelError("\(source): has no weights for '\(layer)', which keras.applications' \(app) has; it is not \(app)'s weights file")
            }
            return w
        }

        /// Adds a layer reading `inputs` (default the last one added).
        @discardableResult
        mutating func add(_ cls: String, _ name: String, _ config: [(String, KerasJSON)], inputs: [String]? = nil) -> String {
            let refs = (inputs ?? [last]).map { KerasRef(layer: $0, node: 0, tensor: 0) }
            layers.append(KerasLayer(className: cls, name: name, config: .object(config + [("name", .string(name))]), custom: false, calls: [refs]))
            last = name
            return name
        }

        mutating func input(_ size: Int) {
            layers.append(KerasLayer(className: "InputLayer", name: "input_layer",
                                     config: .object([("batch_shape", .array([.null, .number(Double(size)), .number(Double(size)), .number(3)]))]),
                                     custom: false, calls: []))
        }

        mutating func conv(_ name: String, _ k: Int, stride: Int = 1, padding: String = "valid", activation: String = "linear",
                           bias: Bool = true, inputs: [String]? = nil) throws {
            add("Conv2D", name, [("filters", .number(Double(try width(name)))), ("kernel_size", n(k)), ("strides", n(stride)),
                                 ("padding", .string(padding)), ("activation", .string(activation)), ("use_bias", .bool(bias))], inputs: inputs)
        }

        mutating func bn(_ name: String, eps: Double) { add("BatchNormalization", name, [("epsilon", .number(eps))]) }
        mutating func act(_ name: String, _ a: String) { add("Activation", name, [("activation", .string(a))]) }
        mutating func dense(_ name: String, _ a: String) throws {
            add("Dense", name, [("units", .number(Double(try width(name)))), ("activation", .string(a))])
        }
        func n(_ v: Int) -> KerasJSON { .array([.number(Double(v)), .number(Double(v))]) }

        /// VGG16 and VGG19: blocks of 3×3 ReLU convolutions and 2×2 max pooling; the top is Flatten, fc1, fc2,
        /// predictions.
        mutating func vgg(_ blocks: [Int], _ options: KerasImport.Options) throws {
            var size = options.defaultInputSize.h
            if top {
                // fc1's rows are (S / 32)² × the last block's width.
                let rows = try rowsOf("fc1"), c = try width("block5_conv\(blocks[4])")
                let side = Int(Double(rows / max(c, 1)).squareRoot().rounded())
                guard side * side * c == rows else { throw ModelError("\(source): fc1 has \(rows) rows, not (S/32)² × \(c); it is not \(app)'s weights file") }
                size = side * 32
            }
            input(size)
            for (b, count) in blocks.enumerated() {
                for i in 1 ... count { try conv("block\(b + 1)_conv\(i)", 3, padding: "same", activation: "relu") }
                add("MaxPooling2D", "block\(b + 1)_pool", [("pool_size", n(2)), ("strides", n(2))])
            }
            guard top else { return }
            add("Flatten", "flatten", [])
            try dense("fc1", "relu")
            try dense("fc2", "relu")
            try dense("predictions", "softmax")
        }

        /// The first dimension of a layer's first weight.
        func rowsOf(_ layer: String) throws -> Int {
            let group = file.weightsRoot.isEmpty ? layer : file.weightsRoot + "/" + layer
            guard let first = file.stringList(at: group, "weight_names")?.first, let r = file.weights.datasets[group + "/" + first]?.shape.first else {
                throw ModelError("\(source): has no weights for '\(layer)'; it is not \(app)'s weights file")
            }
            return r
        }

        /// ResNet50 (keras.applications' resnet.py, v1): a 7×7 stem, stacks of 3, 4, 6, 3 bottleneck blocks.
        mutating func resnet50(_ options: KerasImport.Options) throws {
            input(options.defaultInputSize.h)
            add("ZeroPadding2D", "conv1_pad", [("padding", .array([n(3), n(3)]))])
            try conv("conv1_conv", 7, stride: 2)
            bn("conv1_bn", eps: 1.001e-5)
            act("conv1_relu", "relu")
            add("ZeroPadding2D", "pool1_pad", [("padding", .array([n(1), n(1)]))])
            add("MaxPooling2D", "pool1_pool", [("pool_size", n(3)), ("strides", n(2))])
            for (s, (blocks, stride)) in [(3, 1), (4, 2), (6, 2), (3, 2)].enumerated() {
                for b in 1 ... blocks {
                    let name = "conv\(s + 2)_block\(b)", input = last, st = b == 1 ? stride : 1
                    var shortcut = input
                    if b == 1 {
                        try conv(name + "_0_conv", 1, stride: st)
                        bn(name + "_0_bn", eps: 1.001e-5)
                        shortcut = last
                    }
                    try conv(name + "_1_conv", 1, stride: st, inputs: [input])
                    bn(name + "_1_bn", eps: 1.001e-5)
                    act(name + "_1_relu", "relu")
                    try conv(name + "_2_conv", 3, padding: "same")
                    bn(name + "_2_bn", eps: 1.001e-5)
                    act(name + "_2_relu", "relu")
                    try conv(name + "_3_conv", 1)
                    bn(name + "_3_bn", eps: 1.001e-5)
                    add("Add", name + "_add", [], inputs: [shortcut, last])
                    act(name + "_out", "relu")
                }
            }
            guard top else { return }
            add("GlobalAveragePooling2D", "avg_pool", [])
            try dense("predictions", "softmax")
        }

        /// MobileNetV2 (keras.applications' mobilenet_v2.py): Conv1, 17 inverted residual blocks, Conv_1.
        mutating func mobileNetV2(_ options: KerasImport.Options) throws {
            var size = options.defaultInputSize.h
            input(size)
            add("Conv2D", "Conv1", [("filters", .number(Double(try width("Conv1")))), ("kernel_size", n(3)), ("strides", n(2)),
                                    ("padding", .string("same")), ("use_bias", .bool(false))])
            size = (size + 1) / 2
            bn("bn_Conv1", eps: 1e-3)
            add("ReLU", "Conv1_relu", [("max_value", .number(6))])
            var channels = try width("Conv1")
            let strides = [1, 2, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1]
            for (id, stride) in strides.enumerated() {
                let prefix = id == 0 ? "expanded_conv_" : "block_\(id)_", input = last
                if id > 0 {
                    add("Conv2D", prefix + "expand", [("filters", .number(Double(try width(prefix + "expand")))), ("kernel_size", n(1)),
                                                      ("padding", .string("same")), ("use_bias", .bool(false))])
                    bn(prefix + "expand_BN", eps: 1e-3)
                    add("ReLU", prefix + "expand_relu", [("max_value", .number(6))])
                }
                if stride == 2 {
                    // imagenet_utils.correct_pad: one pixel fewer at the top and left of an even input.
                    let a = 1 - size % 2
                    add("ZeroPadding2D", prefix + "pad", [("padding", .array([.array([.number(Double(1 - a)), .number(1)]),
                                                                                  .array([.number(Double(1 - a)), .number(1)])]))])
                    size = (size + 1 - a + 1 - 3) / 2 + 1
                }
                add("DepthwiseConv2D", prefix + "depthwise", [("kernel_size", n(3)), ("strides", n(stride)),
                                                              ("padding", .string(stride == 1 ? "same" : "valid")), ("use_bias", .bool(false))])
                bn(prefix + "depthwise_BN", eps: 1e-3)
                add("ReLU", prefix + "depthwise_relu", [("max_value", .number(6))])
                let filters = try width(prefix + "project")
                add("Conv2D", prefix + "project", [("filters", .number(Double(filters))), ("kernel_size", n(1)),
                                                   ("padding", .string("same")), ("use_bias", .bool(false))])
                bn(prefix + "project_BN", eps: 1e-3)
                if channels == filters && stride == 1 { add("Add", prefix + "add", [], inputs: [input, last]) }
                channels = filters
            }
            add("Conv2D", "Conv_1", [("filters", .number(Double(try width("Conv_1")))), ("kernel_size", n(1)), ("use_bias", .bool(false))])
            bn("Conv_1_bn", eps: 1e-3)
            add("ReLU", "out_relu", [("max_value", .number(6))])
            guard top else { return }
            add("GlobalAveragePooling2D", "global_average_pooling2d", [])
            try dense("predictions", "softmax")
        }
    }
}
