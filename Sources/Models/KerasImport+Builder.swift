import Engine
import TensorIO

/// A tensor of the imported model: the engine node computing it and its engine shape at batch 1 ((1, C, H, W) for
/// Keras's (1, H, W, C)). `flattened` is set on the output of a Flatten that kept ConvLens's (C, H, W) order, for
/// the Dense after it to reorder its rows.
struct KerasValue {
    let node: String
    let shape: [Int]
    var flattened: (c: Int, h: Int, w: Int)?
}

extension KerasImport {
    /// The importer's state: the graph being built, the values of the calls made so far, the names taken.
    struct Builder {
        let source: String
        let weights: KerasWeights
        let options: Options
        let graph = Graph()
        var notes: [String] = []
        var inputShape: [Int]?
        /// The layer being lowered and its scope, for messages.
        var current = ""

        init(source: String, weights: KerasWeights, options: Options) {
            self.source = source
            self.weights = weights
            self.options = options
        }

        /// An error about the layer being lowered.
        func error(_ message: String) -> ModelError {
            ModelError("\(source): layer '\(current)': \(message)")
        }

        /// Lowers a model's calls in dependency order.
        /// - Parameters:
        ///   - spec: the model.
        ///   - inputs: the values its inputs take (a nested model's call); nil for the outermost model.
        ///   - scope: the nested models around it, outermost first.
        ///   - savePath: where Keras 3's walk stores this model's layers ("" for the outermost).
        /// - Returns: the values of its outputs.
        mutating func run(_ spec: KerasModelSpec, inputs: [KerasValue]?, scope: [String], savePath: String) throws -> [KerasValue] {
            var values: [KerasRef: KerasValue] = [:]
            var byName: [String: Int] = [:]
            for (i, l) in spec.layers.enumerated() {
                guard byName[l.name] == nil else { throw ModelError("\(source): two layers of model '\(spec.name)' are named '\(l.name)'") }
                byName[l.name] = i
            }
            for (k, r) in spec.inputs.enumerated() {
                guard let i = byName[r.layer], spec.layers[i].className == "InputLayer" else {
                    throw ModelError("\(source): model '\(spec.name)' takes '\(r.layer)' as an input, which is not an InputLayer")
                }
                if let given = inputs {
                    guard k < given.count else { throw ModelError("\(source): model '\(spec.name)' is called with \(given.count) inputs but has \(spec.inputs.count)") }
                    values[r] = given[k]
                } else {
                    current = r.layer
                    guard spec.inputs.count == 1 else { throw ModelError("\(source): the model has \(spec.inputs.count) inputs; ConvLens feeds one image") }
                    values[r] = KerasValue(node: Graph.inputName, shape: try imageShape(spec.layers[i]))
                }
            }
            // Every call, made once its inputs exist; the config's order works for all but late calls of shared layers.
            var pending = spec.layers.indices.flatMap { i in spec.layers[i].calls.indices.map { (i, $0) } }
            while !pending.isEmpty {
                var waiting: [(Int, Int)] = []
                for (i, k) in pending {
                    let layer = spec.layers[i]
                    let refs = layer.calls[k]
                    guard refs.allSatisfy({ values[$0] != nil }) else {
                        for r in refs where byName[r.layer] == nil {
                            throw ModelError("\(source): layer '\(layer.name)' reads '\(r.layer)', which model '\(spec.name)' does not have")
                        }
                        waiting.append((i, k))
                        continue
                    }
                    let ins = refs.map { values[$0]! }
                    current = layer.name
                    let name = nodeName(layer.name, call: k, scope: scope)
                    let outs: [KerasValue]
                    if let nested = layer.nested {
                        outs = try run(nested, inputs: ins, scope: scope + [layer.name], savePath: savePath + layer.savePath + "/")
                        if let first = outs.first, (try? graph.index(of: name)) == nil { try graph.addAlias(name, first.node) }
                    } else {
                        outs = [try lower(layer, ins, name: name, savePath: savePath + layer.savePath, scope: scope,
                                          consumers: consumers(spec, of: KerasRef(layer: layer.name, node: k, tensor: 0)))]
                    }
                    for (t, v) in outs.enumerated() { values[KerasRef(layer: layer.name, node: k, tensor: t)] = v }
                }
                guard waiting.count < pending.count else {
                    let (i, k) = waiting[0]
                    throw ModelError("\(source): layer '\(spec.layers[i].name)' reads \(spec.layers[i].calls[k].filter { values[$0] == nil }.map(\.description).joined(separator: ", ")), "
                        + "which nothing computes (a cycle, or a node the config does not have)")
                }
                pending = waiting
            }
            return try spec.outputs.map { r in
                guard let v = values[r] else { throw ModelError("\(source): the output \(r) of model '\(spec.name)' is not computed") }
                return v
            }
        }

        /// The engine name of a call: the layer's name for its first call, `<layer>_<k>` for call k; a nested
        /// model's layer whose name the graph already has becomes `<model>/<layer>`.
        func nodeName(_ layer: String, call: Int, scope: [String]) -> String {
            var name = call == 0 ? layer : "\(layer)_\(call)"
            if taken(name), !scope.isEmpty { name = scope.joined(separator: "/") + "/" + name }
            var unique = name, n = 1
            while taken(unique) { unique = "\(name)#\(n)"; n += 1 }
            return unique
        }

        func taken(_ name: String) -> Bool { name == Graph.inputName || name == "output" || (try? graph.index(of: name)) != nil }

        /// The layers of `spec` that read `ref`, with the refs their outputs take (for the Flatten rule).
        func consumers(_ spec: KerasModelSpec, of ref: KerasRef) -> [(layer: KerasLayer, output: KerasRef)] {
            var out: [(layer: KerasLayer, output: KerasRef)] = []
            for l in spec.layers {
                for (k, call) in l.calls.enumerated() where call.contains(ref) { out.append((l, KerasRef(layer: l.name, node: k, tensor: 0))) }
            }
            return out
        }

        /// The image input's engine shape (1, 3, H, W) from an InputLayer's batch shape (N, H, W, 3).
        mutating func imageShape(_ layer: KerasLayer) throws -> [Int] {
            guard let dims = (layer.config["batch_shape"] ?? layer.config["batch_input_shape"])?.ints, dims.count == 4 else {
                throw error("the input has shape \((layer.config["batch_shape"] ?? layer.config["batch_input_shape"])?.ints ?? []); ConvLens feeds images, (N, H, W, 3)")
            }
            var (h, w) = (dims[1], dims[2])
            if h < 0 || w < 0 {
                (h, w) = (h < 0 ? options.defaultInputSize.h : h, w < 0 ? options.defaultInputSize.w : w)
                notes.append("the input's size is open; using \(h)x\(w)")
            }
            guard dims[3] == 3 else { throw error("the input has \(dims[3]) channels; ConvLens feeds RGB images (3 channels)") }
            guard (1 ... 8192).contains(h), (1 ... 8192).contains(w) else { throw error("the input is \(h)x\(w); ConvLens takes 1 to 8192 pixels a side") }
            inputShape = [1, 3, h, w]
            return [1, 3, h, w]
        }

        /// Appends an engine layer fed by `inputs`, checking its shapes and size.
        mutating func emit(_ name: String, _ layer: Layer, _ inputs: [KerasValue]) throws -> KerasValue {
            let shapes = inputs.map(\.shape)
            let shape: [Int]
            do { shape = try layer.outputShape(shapes) } catch {
                throw self.error("\(error) (input shapes at batch 1, channels first: \(shapes.map { "\($0)" }.joined(separator: ", ")))")
            }
            // The engine's shape rules refuse products that overflow, so this one fits.
            guard shape.reduce(1, *) <= 1 << 31 else { throw self.error("an output of shape \(shape) is too large (over 2³¹ elements)") }
            do { try graph.append(name, layer, inputs: inputs.map(\.node)) } catch { throw self.error("\(error)") }
            return KerasValue(node: name, shape: shape)
        }

        /// The default Grad-CAM layer: the last 4-D node with spatial extent that feeds one without (a global pooling,
        /// a flatten), followed back through poolings to what they pool, as the Keras book picks `block5_conv3`.
        func camLayer(output: String) -> String? {
            guard let shapes = try? graph.shapes(input: inputShape ?? [1, 3, 224, 224]) else { return nil }
            func spatial(_ i: Int) -> Bool { i >= 0 && shapes[i].count == 4 && shapes[i][2] * shapes[i][3] > 1 }
            var best: Int?
            for (i, node) in graph.nodes.enumerated() where !spatial(i) {
                for j in node.inputs where spatial(j) && !graph.isConstant(j) { best = max(best ?? j, j) }
            }
            while let b = best, graph.nodes[b].layer is MaxPool2d || graph.nodes[b].layer is AvgPool2d,
                  let j = graph.nodes[b].inputs.first, spatial(j) { best = j }
            return best.map { graph.nodes[$0].name }
        }
    }
}
