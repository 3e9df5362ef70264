import Engine
import TensorIO

extension ONNXImport {
    /// The importer's state: the value of every ONNX tensor seen so far and the engine nodes waiting for names.
    struct Builder {
        let source: String
        let model: ONNXModel
        /// The ai.onnx opset the file declares.
        let opset: Int
        var values: [String: Value] = [:]
        var pending: [Pending] = []
        /// Constant nodes made for known values that an engine node reads, by ONNX tensor name.
        var constantNodes: [String: Int] = [:]
        var notes: [String] = []
        /// The node being lowered, for messages.
        var current: ONNXNode?

        init(_ model: ONNXModel, source: String, options: Options) throws {
            self.source = source
            self.model = model
            opset = model.opsets[""] ?? model.opsets["ai.onnx"] ?? 0
            guard opset >= 11 else {
                throw ModelError("\(source): the model declares ai.onnx opset \(opset); ConvLens reads opsets 11 to 21."
                    + "\nHINT: export again with torch.onnx.export(..., opset_version=17)")
            }
            for (name, t) in model.graph.initializers { values[name] = .known(try Self.folded(t, source: source)) }
            // Inputs that are also initializers are constants with a default (IR < 4); the image is the one left.
            let images = model.graph.inputs.filter { values[$0.name] == nil }
            guard let image = images.first else { throw ModelError("\(source): the graph has no input") }
            guard images.count == 1 else {
                throw ModelError("\(source): the graph has \(images.count) inputs (\(images.map { "'\($0.name)'" }.joined(separator: ", "))); "
                    + "ConvLens feeds one image tensor")
            }
            values[image.name] = .input(try inputShape(image, options))
        }

        /// The image input's shape at batch 1: fixed dimensions as declared, the batch 1, a dynamic height and width
        /// from `options`.
        mutating func inputShape(_ v: ONNXValueInfo, _ options: Options) throws -> [Int] {
            guard let dims = v.shape, dims.count == 4 else {
                throw ModelError("\(source): input '\(v.name)' has \(v.shape.map { "rank \($0.count)" } ?? "no declared shape"); "
                    + "ConvLens feeds images as (N, C, H, W)")
            }
            var shape = [1, 3, options.defaultInputSize.h, options.defaultInputSize.w]
            for (i, d) in dims.enumerated() {
                if case let .fixed(n) = d, i > 0 { shape[i] = n }
                if case .fixed = d {} else if i >= 2 { notes.append("input '\(v.name)' has a dynamic dimension \(i); using \(shape[i])") }
            }
            guard shape[1] == 3 else {
                throw ModelError("\(source): input '\(v.name)' has \(shape[1]) channel\(shape[1] == 1 ? "" : "s"); ConvLens feeds RGB images (3 channels)")
            }
            guard shape[2] >= 1, shape[3] >= 1, shape[2] <= 8192, shape[3] <= 8192 else {
                throw ModelError("\(source): input '\(v.name)' is \(shape[2])x\(shape[3]); ConvLens takes 1 to 8192 pixels a side")
            }
            return shape
        }

        /// An ONNX tensor as a known value.
        static func folded(_ t: ONNXTensor, source: String) throws -> Folded {
            if let f = t.floats { return Folded(shape: t.shape, floats: f) }
            if let i = t.ints { return Folded(shape: t.shape, ints: i) }
            throw ModelError("\(source): tensor '\(t.name)' has element type \(t.elementType), which ConvLens does not read")
        }

        /// An error about the node being lowered, naming it and its op.
        func error(_ message: String) -> ModelError {
            guard let n = current else { return ModelError("\(source): \(message)") }
            return ModelError("\(source): node '\(n.name.isEmpty ? n.outputs.first ?? "?" : n.name)' (\(n.opType)): \(message)")
        }

        /// Lowers one node: computes its outputs' values and records them under their ONNX names.
        mutating func lower(_ node: ONNXNode) throws {
            current = node
            defer { current = nil }
            guard node.domain.isEmpty || node.domain == "ai.onnx" else {
                throw error("ops of domain '\(node.domain)' are not supported; ConvLens reads the standard ai.onnx ops: "
                    + ONNXImport.supportedOps.joined(separator: ", "))
            }
            let outputs = try lowerOp(node)
            for (name, value) in zip(node.outputs, outputs) where !name.isEmpty {
                values[name] = value
                if case let .computed(i, _) = value { pending[i].tensors.append(name) }
            }
            if outputs.count < node.outputs.filter({ !$0.isEmpty }).count {
                let missing = node.outputs.dropFirst(outputs.count).filter { !$0.isEmpty }
                // An output nothing reads (MaxPool's indices, Dropout's mask) is fine; `finish` checks reads.
                for name in missing { unsupportedOutputs.insert(name) }
            }
        }

        /// Outputs of supported ops that ConvLens does not compute (MaxPool's indices); reading one is an error.
        var unsupportedOutputs = Set<String>()

        /// The value of input `i` of the current node, nil when it is absent ("" or past the end).
        func input(_ node: ONNXNode, _ i: Int) throws -> Value? {
            guard i < node.inputs.count, !node.inputs[i].isEmpty else { return nil }
            guard let v = values[node.inputs[i]] else {
                if unsupportedOutputs.contains(node.inputs[i]) {
                    throw error("reads '\(node.inputs[i])', an output ConvLens does not compute (e.g. MaxPool's indices)")
                }
                throw error("input '\(node.inputs[i])' is not defined")
            }
            return v
        }

        /// Input `i`, which must be present.
        func required(_ node: ONNXNode, _ i: Int) throws -> Value {
            guard let v = try input(node, i) else { throw error("input \(i) is missing") }
            return v
        }

        /// Input `i`, which must be known at import (a weight, a shape, a constant).
        func known(_ node: ONNXNode, _ i: Int, _ what: String) throws -> Folded {
            guard case let .known(f) = try required(node, i) else {
                throw error("its \(what) (input \(i), '\(node.inputs[i])') is computed by the network; ConvLens needs it known at import")
            }
            return f
        }

        /// Input `i` if present, known at import.
        func knownIfPresent(_ node: ONNXNode, _ i: Int, _ what: String) throws -> Folded? {
            try input(node, i) == nil ? nil : try known(node, i, what)
        }

        /// Integer values of a known input (axes, shapes, pads), which must be integers.
        func ints(_ node: ONNXNode, _ i: Int, _ what: String) throws -> [Int]? {
            guard let f = try knownIfPresent(node, i, what) else { return nil }
            return f.ints ?? f.floats.map { Int($0) }
        }

        /// Adds an engine layer fed by `inputs` (values of ONNX tensors, with their names), or computes it at import
        /// when every input is known.
        /// - Returns: the output's value.
        mutating func emit(_ layer: Layer, _ inputs: [(name: String, value: Value)]) throws -> Value {
            let shapes = inputs.map(\.value.shape)
            let shape: [Int]
            do { shape = try layer.outputShape(shapes) } catch {
                throw self.error("\(error) (input shapes at batch 1: \(shapes.map { "\($0)" }.joined(separator: ", ")))")
            }
            try checkSize(shape)
            if inputs.allSatisfy({ if case .known = $0.value { true } else { false } }) {
                var y = Tensor(zeros: [0])
                layer.forward(inputs.map { if case let .known(f) = $0.value { f.tensor } else { Tensor(zeros: [0]) } }, &y)
                return .known(Folded(shape: y.shape, floats: y.data))
            }
            let refs = try inputs.map { (name, value) -> Pending.Input in
                switch value {
                case .input: return .input
                case let .computed(i, _): return .node(i)
                case let .known(f): return .node(constantNode(name, f))
                case .flattened: throw error("'\(name)' is flattened together with its batch axis; ConvLens keeps axis 0 as the batch")
                }
            }
            let n = current!
            pending.append(Pending(layer: layer, inputs: refs, scope: ONNXImport.scope(n), op: n.opType, tensors: [], shape: shape))
            return .computed(pending.count - 1, shape)
        }

        /// The Constant node holding a known value an engine node reads, made once per ONNX tensor.
        mutating func constantNode(_ name: String, _ f: Folded) -> Int {
            if let i = constantNodes[name] { return i }
            pending.append(Pending(layer: Constant(f.tensor), inputs: [], scope: "", op: "Constant", tensors: [name], shape: f.shape))
            constantNodes[name] = pending.count - 1
            return pending.count - 1
        }

        /// Refuses a tensor whose element count overflows or passes what one tensor may hold (2³¹ elements, 8 GB).
        func checkSize(_ shape: [Int]) throws {
            var n = 1
            for d in shape {
                guard d >= 0 else { throw error("negative dimension in \(shape)") }
                let (p, overflow) = n.multipliedReportingOverflow(by: d)
                guard !overflow, p <= 1 << 31 else { throw error("a tensor of shape \(shape) is too large (over 2³¹ elements)") }
                n = p
            }
        }
    }
}
