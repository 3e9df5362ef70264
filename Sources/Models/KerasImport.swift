import Engine
import TensorIO

/// Builds an engine graph from a Keras model (a `.keras` file, a legacy `.h5`, or a keras.applications table with
/// a weights-only `.h5`), onto the same op set the built-in architectures use.
///
/// 1. **Config.** Sequential and Functional configs (Keras 3's and Keras 2's node formats) become `KerasModelSpec`s:
///    each layer with its class, config and calls (inbound nodes); a nested model is a layer holding a spec.
/// 2. **Lower.** Calls run in dependency order (a shared layer's second call may come late); each layer class maps to
///    engine layers in one `switch` (`KerasImport+Layers.swift`). Keras is channels-last: 4-D tensors become (N, C, H,
///    W), kernels HWIO become OIHW, axes are moved, and a Dense after a Flatten gets its rows reordered.
/// 3. **Names.** A layer's output is the node named after the layer (`block3_conv1`, `conv5_block3_out`): for a
///    conv or dense layer with an activation, the activation's node, as Keras's layer output is post-activation;
///    the pre-activation node is `<layer>.preact`. Helper nodes are `<layer>.<what>`. A layer's second call is
///    `<layer>_1`, a nested model's layer keeps its name unless the outer model has it (then `<model>/<layer>`).
public enum KerasImport {
    /// What the importer needs besides the file.
    public struct Options: Sendable {
        /// The input's (H, W) where the model leaves them open (`None` in the input shape).
        public var defaultInputSize: (h: Int, w: Int) = (224, 224)
        public init() {}
    }

    /// The imported network and what the analyses need to know about it.
    public struct Imported {
        public let graph: Graph
        /// The model's name in its config, e.g. "vgg16".
        public let name: String
        /// The input, (1, 3, H, W).
        public let inputShape: [Int]
        /// The output's shape at batch 1, e.g. (1, K).
        public let outputShape: [Int]
        /// The default Grad-CAM layer (see `camLayer`).
        public let camLayer: String?
        public let notes: [String]
    }

    /// The keras.applications models that load from a weights-only `.h5` (`Model.kerasApplication`).
    public static let applications = ["vgg16", "vgg19", "resnet50", "mobilenet_v2"]

    /// Keras's `preprocess_input` modes as (BGR order, scale, mean, std) on 0...255 pixels: the value is
    /// (pixel·scale − mean[c]) / std[c], channels in the tensor's order. "pixels" leaves 0...255 (EfficientNet
    /// rescales inside the model), "raw" is pixels / 255.
    public static let preprocessModes: [String: (bgr: Bool, scale: Float, mean: [Float], std: [Float])] = [
        "caffe": (true, 1, [103.939, 116.779, 123.68], [1, 1, 1]),
        "tf": (false, 1 / 127.5, [1, 1, 1], [1, 1, 1]),
        "torch": (false, 1 / 255, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
        "raw": (false, 1 / 255, [0, 0, 0], [1, 1, 1]),
        "pixels": (false, 1, [0, 0, 0], [1, 1, 1]),
    ]

    /// The ConvLens preset nearest to a Keras mode: the same recipe, up to Keras's caffe mean pixel
    /// ([103.939, 116.779, 123.68], BGR) and the 0...255 input of "pixels", which the caller sets as overrides.
    public static func preset(_ mode: String) -> String {
        ["caffe": "caffe", "tf": "tf", "torch": "torchvision"][mode] ?? "raw"
    }

    /// The `preprocess_input` mode of a keras.applications model, by the model's name; nil for other models.
    public static func applicationPreprocessing(_ modelName: String) -> String? {
        let n = modelName.lowercased()
        if n.hasPrefix("efficientnet") || n.hasPrefix("convnext") || n.hasPrefix("regnet") { return "pixels" }
        if n.hasPrefix("densenet") { return "torch" }
        if n.hasPrefix("vgg") || (n.hasPrefix("resnet") && !n.contains("v2")) { return "caffe" }
        if n.hasPrefix("mobilenet") || n.hasPrefix("inception") || n.hasPrefix("xception") || n.hasPrefix("nasnet")
            || n.hasPrefix("resnet") { return "tf" }
        return nil
    }

    /// Imports a Keras file with a config (`.keras` or legacy `.h5`).
    /// - Parameters:
    ///   - file: the file as read.
    ///   - source: its path, for messages.
    public static func graph(_ file: KerasFile, source: String, options: Options = Options()) throws -> Imported {
        guard let config = file.config else {
            throw ModelError("\(source): is a weights-only file (no model config); pass it as --weights to a Keras application "
                + "(--model vgg16, vgg19, resnet50 or mobilenet_v2)")
        }
        let spec = try parseModel(config, source: source)
        return try build(spec, weights: KerasWeights(file: file, source: source), source: source, options: options)
    }

    /// Builds the graph of a parsed model with weights from `weights`.
    static func build(_ spec: KerasModelSpec, weights: KerasWeights, source: String, options: Options) throws -> Imported {
        var b = Builder(source: source, weights: weights, options: options)
        let outputs = try b.run(spec, inputs: nil, scope: [], savePath: "")
        guard let out = outputs.first else { throw ModelError("\(source): the model has no output") }
        if outputs.count > 1 { b.notes.append("the model has \(outputs.count) outputs; ConvLens uses the first, '\(out.node)'") }
        guard out.node != Graph.inputName else { throw ModelError("\(source): the model's output is its input") }
        if (try? b.graph.index(of: "output")) == nil { try b.graph.addAlias("output", out.node) }
        let cam = b.camLayer(output: out.node)
        return Imported(graph: b.graph, name: spec.name, inputShape: b.inputShape ?? [1, 3, 224, 224],
                        outputShape: out.shape, camLayer: cam, notes: b.notes)
    }
}

/// A tensor of the Keras model by where it comes from: (layer, node index, tensor index), as `keras_history` says.
struct KerasRef: Hashable, CustomStringConvertible {
    let layer: String, node: Int, tensor: Int
    var description: String { "\(layer)[\(node)][\(tensor)]" }
}

/// One layer of a config: its class, name and config, the calls made of it, and the model it holds if nested.
struct KerasLayer {
    let className: String
    let name: String
    let config: KerasJSON
    /// Whether the class is registered by user code (`registered_name` other than Keras's).
    let custom: Bool
    /// Per call (inbound node), the tensors it reads.
    var calls: [[KerasRef]]
    /// A nested Functional or Sequential model.
    var nested: KerasModelSpec?
    /// Where Keras 3's saving walk stores its variables, e.g. "layers/conv2d_1" (see `KerasWeights`).
    var savePath = ""
}

/// A Functional or Sequential model: its layers in config order, its inputs and outputs.
struct KerasModelSpec {
    let name: String
    let className: String
    var layers: [KerasLayer]
    let inputs: [KerasRef]
    let outputs: [KerasRef]
}

extension KerasImport {
    /// Parses a model config: `{"class_name": "Functional" | "Sequential" | "Model", "config": {...}}`.
    static func parseModel(_ json: KerasJSON, source: String, depth: Int = 0) throws -> KerasModelSpec {
        guard depth < 32 else { throw ModelError("\(source): models nested more than 32 deep") }
        let cls = json["class_name"]?.string ?? ""
        guard let config = json["config"], let layerList = config["layers"]?.array else {
            throw ModelError("\(source): the model config has no layer list (class '\(cls)'); it is not a Keras model config")
        }
        let name = config["name"]?.string ?? cls.lowercased()
        var layers = try layerList.map { try parseLayer($0, source: source, depth: depth) }
        var used: [String: Int] = [:]
        // Keras 3's saving walk: Sequential.layers leaves out the InputLayer, Functional.layers keeps it.
        for i in layers.indices where !(cls == "Sequential" && layers[i].className == "InputLayer") {
            layers[i].savePath = "layers/" + uniqueName(snakeCase(layers[i].className), &used)
        }
        if cls == "Sequential" {
            // A chain: each layer reads the one before it; the first reads an InputLayer, written or implied.
            var inputs: [KerasRef] = []
            if layers.first?.className != "InputLayer" {
                let shape = config["build_input_shape"] ?? layers.first?.config["batch_input_shape"] ?? layers.first?.config["batch_shape"] ?? .null
                let input = KerasLayer(className: "InputLayer", name: name + "_input", config: .object([("batch_shape", shape)]),
                                       custom: false, calls: [])
                layers.insert(input, at: 0)
            }
            inputs = [KerasRef(layer: layers[0].name, node: 0, tensor: 0)]
            for i in layers.indices.dropFirst() {
                layers[i].calls = [[KerasRef(layer: layers[i - 1].name, node: 0, tensor: 0)]]
            }
            return KerasModelSpec(name: name, className: cls, layers: layers, inputs: inputs,
                                  outputs: [KerasRef(layer: layers[layers.count - 1].name, node: 0, tensor: 0)])
        }
        guard ["Functional", "Model"].contains(cls) else {
            throw ModelError("\(source): the model is a '\(cls)'; ConvLens reads Sequential and Functional models "
                + "(a subclassed model holds Python code: save it as a Functional model)")
        }
        return KerasModelSpec(name: name, className: cls, layers: layers,
                              inputs: try refs(config["input_layers"], source: source), outputs: try refs(config["output_layers"], source: source))
    }

    /// One layer entry of a config.
    static func parseLayer(_ json: KerasJSON, source: String, depth: Int) throws -> KerasLayer {
        let cls = json["class_name"]?.string ?? ""
        let config = json["config"] ?? .object([])
        let name = json["name"]?.string ?? config["name"]?.string ?? ""
        guard !name.isEmpty, !cls.isEmpty else { throw ModelError("\(source): a layer of the config has no name or class") }
        let registered = json["registered_name"]?.string
        let custom = registered != nil && registered != cls && !(registered!.hasPrefix("keras"))
        var calls: [[KerasRef]] = []
        for node in json["inbound_nodes"]?.array ?? [] {
            if node["args"] != nil {                             // Keras 3: {"args": [...], "kwargs": {...}}
                var found: [KerasRef] = []
                try histories(node["args"]!, into: &found, source: source)
                calls.append(found)
            } else if let list = node.array {                    // Keras 2: [[name, node, tensor, kwargs], ...]
                calls.append(try list.map { try ref($0, source: source) })
            }
        }
        var layer = KerasLayer(className: cls, name: name, config: config, custom: custom, calls: calls)
        if ["Functional", "Sequential", "Model"].contains(cls) {
            layer.nested = try parseModel(json, source: source, depth: depth + 1)
        }
        return layer
    }

    /// Every `keras_history` in a Keras 3 node's args, in order.
    static func histories(_ j: KerasJSON, into out: inout [KerasRef], source: String, depth: Int = 0) throws {
        guard depth < 64 else { return }
        if let h = j["config"]?["keras_history"] { out.append(try ref(h, source: source)); return }
        if case let .object(m) = j { for (_, v) in m { try histories(v, into: &out, source: source, depth: depth + 1) } }
        if let a = j.array { for v in a { try histories(v, into: &out, source: source, depth: depth + 1) } }
    }

    /// [name, node, tensor, ...] as a reference.
    static func ref(_ j: KerasJSON, source: String) throws -> KerasRef {
        guard let a = j.array, a.count >= 3, let name = a[0].string, let node = a[1].int, let tensor = a[2].int, node >= 0, tensor >= 0 else {
            throw ModelError("\(source): a layer's input is not [layer, node, tensor] in the config")
        }
        return KerasRef(layer: name, node: node, tensor: tensor)
    }

    /// input_layers / output_layers: one reference, or a list of them.
    static func refs(_ j: KerasJSON?, source: String) throws -> [KerasRef] {
        guard let a = j?.array, !a.isEmpty else { throw ModelError("\(source): the model config names no inputs or outputs") }
        if a[0].string != nil { return [try ref(j!, source: source)] }
        return try a.map { try ref($0, source: source) }
    }

    /// Keras's `naming.to_snake_case`: "Conv2DTranspose" → "conv2d_transpose", "ReLU" → "re_lu".
    public static func snakeCase(_ name: String) -> String {
        let s = Array(name.filter { $0.isLetter || $0.isNumber || $0 == "_" })
        // (.)([A-Z][a-z]+) → \1_\2
        var a: [Character] = []
        for (i, c) in s.enumerated() {
            if i > 0, c.isUppercase, i + 1 < s.count, s[i + 1].isLowercase { a.append("_") }
            a.append(c)
        }
        // ([a-z])([A-Z]) → \1_\2
        var b: [Character] = []
        for (i, c) in a.enumerated() {
            if i > 0, c.isUppercase, a[i - 1].isLowercase { b.append("_") }
            b.append(c)
        }
        return String(b).lowercased()
    }

    /// Keras's `_get_unique_name`: the name, then name_1, name_2, ... for repeats in one container.
    static func uniqueName(_ name: String, _ used: inout [String: Int]) -> String {
        if let n = used[name] {
            used[name] = n + 1
            return "\(name)_\(n + 1)"
        }
        used[name] = 0
        return name
    }
}
