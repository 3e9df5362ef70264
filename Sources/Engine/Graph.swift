import Dispatch
import Synchronization

/// A network as a DAG of named layers in topological order. Names are data: the same string is the weight-key
/// prefix, the hook key and the `--layer` value (`fire9`, `layer4.1.conv2`, `features.29`).
///
/// The run loop is the one place where hooks fire: `forward` hands each node's output to the hooks registered
/// under its name and keeps all outputs for `backward`, which walks the nodes in reverse from a seed gradient.
/// A Graph reuses its output buffers between runs, so run one pass at a time per Graph.
public final class Graph {
    /// One named layer and the nodes feeding it.
    public struct Node {
        public let name: String
        public let layer: Layer
        /// Indices of the input nodes; `Graph.inputIndex` (−1) is the graph's input.
        public let inputs: [Int]
    }

    /// The name of the graph's input, usable wherever a layer name is.
    public static let inputName = "input"
    /// The index standing for the graph's input.
    public static let inputIndex = -1

    public private(set) var nodes: [Node] = []
    /// Per node: the indices of the nodes that read its output, in order (computed as nodes are added).
    public private(set) var consumers: [[Int]] = []
    /// Per node: whether its output does not depend on the graph's input (see `isConstant`).
    private var constant: [Bool] = []
    /// Extra names for node outputs, e.g. "layer4" for "layer4.1".
    public private(set) var aliases: [String: String] = [:]
    /// Aliases that are only another spelling of a name (an ONNX file's raw tensor names): fusion may absorb their
    /// target, and they disappear with it unless kept (see `fused(keeping:)`).
    public private(set) var spellings: Set<String> = []
    private var indexByName: [String: Int] = [:]
    /// Output buffers reused between runs, one per node.
    private var workspace: [Tensor] = []
    /// When set, `forward` adds each node's wall time (seconds) here, by layer name: a profile for `convlens bench`.
    public var profile: [String: Double]?
    /// The last input shape and the node output shapes it gave.
    private var shapeCache: (input: [Int], shapes: [[Int]])?
    /// The passes run so far; a fused copy (`fused(keeping:)`) counts into its source's.
    public internal(set) var passes = PassCounts()

    public init() {}

    /// Appends a layer.
    /// - Parameters:
    ///   - name: a unique name.
    ///   - layer: the operation.
    ///   - inputs: names of the nodes feeding it (or "input"); default the last node added (or the input).
    /// - Returns: the name, for chaining.
    /// For the built-in architectures, whose tables are code: a duplicate or unknown name is a programmer error.
    @discardableResult
    public func add(_ name: String, _ layer: Layer, inputs: [String]? = nil) -> String {
        do { return try append(name, layer, inputs: inputs ?? [nodes.last?.name ?? Graph.inputName]) } catch {
            preconditionFailure("Graph: \(error)")
        }
    }

    /// Appends a layer, for importers: a duplicate name or an input that is not yet in the graph throws, never traps.
    /// - Parameters:
    ///   - name: a unique name.
    ///   - layer: the operation.
    ///   - inputs: names of the nodes feeding it, in the layer's input order ("input" for the graph's input); none
    ///     for a `Constant`.
    /// - Returns: the name, for chaining.
    @discardableResult
    public func append(_ name: String, _ layer: Layer, inputs: [String]) throws -> String {
        guard indexByName[name] == nil && name != Graph.inputName else { throw EngineError("duplicate layer name '\(name)'") }
        let ins = try inputs.map { n -> Int in
            guard n == Graph.inputName || indexByName[n] != nil else {
                throw EngineError("layer '\(name)' reads '\(n)', which is not defined before it")
            }
            return try index(of: n)
        }
        indexByName[name] = nodes.count
        for j in ins where j >= 0 { consumers[j].append(nodes.count) }
        consumers.append([])
        nodes.append(Node(name: name, layer: layer, inputs: ins))
        constant.append(layer is Constant || !ins.isEmpty && ins.allSatisfy { $0 >= 0 && constant[$0] })
        workspace.append(Tensor(zeros: [0]))
        shapeCache = nil
        return name
    }

    /// Gives the output of `target` (a layer, an alias or "input") a second name.
    public func alias(_ name: String, _ target: String, spelling: Bool = false) {
        do { try addAlias(name, target, spelling: spelling) } catch { preconditionFailure("Graph: \(error)") }
    }

    /// `alias` for importers: throws instead of trapping on a name that is taken or a target that does not exist.
    /// - Parameter spelling: the alias is only another spelling (see `spellings`).
    public func addAlias(_ name: String, _ target: String, spelling: Bool = false) throws {
        guard indexByName[name] == nil && name != Graph.inputName else { throw EngineError("alias '\(name)' is already a layer name") }
        indexByName[name] = try index(of: target)
        aliases[name] = target
        if spelling { spellings.insert(name) }
    }

    /// Whether node `i`'s output is the same for every input: a `Constant`, or computed from constants alone. The
    /// backward pass computes no gradient for it, and batch-wise operations (`resume`, `Activations.item`) leave it
    /// whole.
    public func isConstant(_ i: Int) -> Bool { i >= 0 && constant[i] }

    /// Layer names in order (aliases excluded).
    public var layerNames: [String] { nodes.map(\.name) }

    /// The index of a layer (or alias), or `inputIndex` for "input".
    /// - Throws: an error that lists the valid names and suggests the closest.
    public func index(of name: String) throws -> Int {
        if name == Graph.inputName { return Graph.inputIndex }
        if let i = indexByName[name] { return i }
        throw EngineError(unknownLayerMessage(name, known: layerNames + aliases.keys.sorted()))
    }

    /// The index of a name, or nil.
    func indexByNameLookup(_ name: String) -> Int? { indexByName[name] }

    /// The node of a layer name or alias.
    public func node(_ name: String) throws -> Node { nodes[try index(of: name)] }

    /// The output shape of every node for an input of `inputShape` (N, C, H, W).
    /// - Throws: an error naming the first layer whose input shapes do not fit.
    public func shapes(input inputShape: [Int]) throws -> [[Int]] {
        try shapes(input: inputShape, through: nodes.count - 1)
    }

    /// The output shapes of nodes 0...`last` for an input of `inputShape`: what a pass that stops at `last` needs,
    /// so a Keras model with a fixed-size Flatten head still runs its convolutions at another size.
    /// - Throws: an error naming the first layer whose input shapes do not fit.
    public func shapes(input inputShape: [Int], through last: Int) throws -> [[Int]] {
        if let c = shapeCache, c.input == inputShape, c.shapes.count > last { return c.shapes }
        var shapes: [[Int]] = []
        shapes.reserveCapacity(last + 1)
        for node in nodes.prefix(last + 1) {
            let ins = node.inputs.map { $0 == Graph.inputIndex ? inputShape : shapes[$0] }
            do { shapes.append(try node.layer.outputShape(ins)) } catch {
                throw EngineError("layer '\(node.name)': \(error)")
            }
        }
        shapeCache = (inputShape, shapes)
        return shapes
    }

    /// Runs the network forward.
    /// - Parameters:
    ///   - x: the input, (N, C, H, W).
    ///   - until: stop after this layer; layers above it are not run.
    ///   - hooks: called with a layer's output as soon as it is computed, keyed by layer name or alias.
    ///   - retaining: for inference, the only outputs to keep (the last layer's is always kept); nil keeps all.
    /// - Returns: every computed output (or the retained ones), for reading and for `backward`.
    public func forward(_ x: Tensor, until: String? = nil, hooks: [String: (Tensor) -> Void] = [:],
                        retaining: Set<String>? = nil) throws -> Activations {
        let last = try until.map { try index(of: $0) } ?? nodes.count - 1
        _ = try shapes(input: x.shape, through: last)
        passes.countForward()
        var hookAt: [Int: [(Tensor) -> Void]] = [:]
        for (name, hook) in hooks { hookAt[try index(of: name), default: []].append(hook) }
        hookAt[Graph.inputIndex]?.forEach { $0(x) }
        // Inference that keeps only some outputs frees each other output after its last consumer, so memory holds a
        // few layers at a time instead of the whole pass (large batches, many images).
        var lastUse: [Int]?
        var retained = Set<Int>()
        if let keep = retaining {
            retained = try Set(keep.map { try index(of: $0) }).union([last])
            lastUse = consumers.enumerated().map { i, readers in readers.last ?? i }
        }
        var outputs = [Tensor?](repeating: nil, count: nodes.count)
        if last >= 0 {
            for i in 0 ... last {
                let node = nodes[i]
                let ins = node.inputs.map { $0 == Graph.inputIndex ? x : outputs[$0]! }
                let start = profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
                if lastUse == nil {
                    node.layer.forward(ins, &workspace[i])
                    outputs[i] = workspace[i]
                } else {
                    var y = Tensor(zeros: [0])
                    node.layer.forward(ins, &y)
                    outputs[i] = y
                }
                if profile != nil { profile![node.name, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
                hookAt[i]?.forEach { $0(outputs[i]!) }
                if let uses = lastUse {
                    for j in node.inputs where j >= 0 && uses[j] == i && !retained.contains(j) { outputs[j] = nil }
                    if uses[i] == i && !retained.contains(i) && i != last { outputs[i] = nil }
                }
            }
        }
        return Activations(graph: self, input: x, outputs: outputs)
    }

    /// Runs the network backward from a seed gradient.
    /// - Parameters:
    ///   - acts: the forward pass to differentiate.
    ///   - seed: the loss gradient with respect to the output of `at`, shaped like it.
    ///   - at: the layer where the seed is placed (its output must have been computed).
    ///   - targets: layers (or "input") whose output gradients to return; the pass stops below the lowest.
    ///   - linearThrough: activation layers whose gradient is taken as the identity (the gradient with respect to
    ///     their input is returned unchanged), e.g. to optimise a pre-activation.
    ///   - guidedReLU: guided backpropagation (Springenberg et al., 2015): ReLUs pass only positive gradients
    ///     where their input was positive, dx = (x > 0)·max(dy, 0).
    ///   - hooks: called with each layer's output gradient once it is complete, keyed by layer name.
    /// - Returns: the gradient at each target, shaped like its output.
    public func backward(_ acts: Activations, seed: Tensor, at: String, to targets: [String],
                         linearThrough: Set<String> = [], guidedReLU: Bool = false,
                         hooks: [String: (Tensor) -> Void] = [:]) throws -> [String: Tensor] {
        let start = try index(of: at)
        guard start >= 0, let y = acts.outputs[start] else {
            throw EngineError("backward: the forward pass did not reach '\(at)'")
        }
        guard seed.shape == y.shape else {
            throw EngineError("backward: seed shape \(seed.shape) differs from the output of '\(at)' \(y.shape)")
        }
        let targetIndex = try Dictionary(targets.map { (try index(of: $0), $0) }, uniquingKeysWith: { a, _ in a })
        for (i, name) in targetIndex where i > start {
            throw EngineError("backward: '\(name)' comes after '\(at)', so no gradient flows to it")
        }
        let lowest = targetIndex.keys.min() ?? start
        passes.countBackward()
        var hookAt: [Int: [(Tensor) -> Void]] = [:]
        for (name, hook) in hooks { hookAt[try index(of: name), default: []].append(hook) }
        let linear = try Set(linearThrough.map { try index(of: $0) })

        var grads = [Tensor?](repeating: nil, count: nodes.count)
        var inputGrad: Tensor?
        var result: [String: Tensor] = [:]
        grads[start] = seed
        var i = start
        while i >= Swift.max(lowest, 0) {
            defer { i -= 1 }
            guard var dy = grads[i] else { continue }
            grads[i] = nil
            hookAt[i]?.forEach { $0(dy) }
            if let name = targetIndex[i] { result[name] = dy }
            if i == lowest { break }
            let node = nodes[i]
            let needed = node.inputs.map { $0 >= lowest && !isConstant($0) }
            guard needed.contains(true) else { continue }
            let ins = node.inputs.map { $0 == Graph.inputIndex ? acts.input : acts.outputs[$0]! }
            if guidedReLU && node.layer.endsInReLU { dy.data = dy.data.map { Swift.max($0, 0) } }
            let start = profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            let dxs = linear.contains(i) ? [dy] : node.layer.backward(ins, acts.outputs[i]!, dy, needed: needed)
            if profile != nil { profile![node.name + " (backward)", default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
            for (k, j) in node.inputs.enumerated() where needed[k] {
                guard let dx = dxs[k] else { continue }
                if j == Graph.inputIndex {
                    if inputGrad == nil { inputGrad = dx } else { inputGrad!.add(dx) }
                } else {
                    if grads[j] == nil { grads[j] = dx } else { grads[j]!.add(dx) }
                }
            }
        }
        if let name = targetIndex[Graph.inputIndex], let g = inputGrad {
            hookAt[Graph.inputIndex]?.forEach { $0(g) }
            result[name] = g
        }
        return result
    }
}

extension Graph {
    /// Runs the layers after `name` again with its output replaced, e.g. by copies with one channel ablated each.
    /// Outputs of earlier layers come from `acts`; a batch of 1 there is repeated to the replacement's batch.
    /// - Parameters:
    ///   - acts: a forward pass that reached `name`.
    ///   - name: the layer whose output is replaced.
    ///   - value: the replacement, shaped like the layer's output except perhaps in batch size.
    ///   - until: stop after this layer (default: the end).
    public func resume(_ acts: Activations, at name: String, with value: Tensor, until: String? = nil) throws -> Activations {
        let start = try index(of: name)
        let last = try until.map { try index(of: $0) } ?? nodes.count - 1
        guard start >= 0, let old = acts.outputs[start] else { throw EngineError("resume: the forward pass did not reach '\(name)'") }
        guard Array(old.shape.dropFirst()) == Array(value.shape.dropFirst()) else {
            throw EngineError("resume: replacement shape \(value.shape) does not fit the output of '\(name)' \(old.shape)")
        }
        let batch = value.shape[0]
        passes.countForward()
        var outputs = acts.outputs
        outputs[start] = value
        func fit(_ t: Tensor) throws -> Tensor {
            if t.shape[0] == batch { return t }
            guard t.shape[0] == 1 else { throw EngineError("resume: cannot repeat a batch of \(t.shape[0]) to \(batch)") }
            return Tensor(shape: [batch] + t.shape.dropFirst(), data: Array([[Float]](repeating: t.data, count: batch).joined()))
        }
        var repeated: [Int: Tensor] = [:]
        if start < last {
            for i in start + 1 ... last {
                let node = nodes[i]
                let ins = try node.inputs.map { j -> Tensor in
                    if j >= start || isConstant(j) { return outputs[j]! }
                    if let r = repeated[j] { return r }
                    let r = try fit(j == Graph.inputIndex ? acts.input : outputs[j]!)
                    repeated[j] = r
                    return r
                }
                var y = Tensor(zeros: [0])
                node.layer.forward(ins, &y)
                outputs[i] = y
            }
        }
        for i in (last + 1) ..< max(last + 1, nodes.count) { outputs[i] = nil }
        return Activations(graph: self, input: acts.input, outputs: outputs)
    }
}

/// How many passes a graph has run, one per call whatever the batch: forward passes (a `resume` is one too) and
/// backward passes. Safe to read and count from any thread.
public final class PassCounts: Sendable {
    private let forwards = Atomic<Int>(0), backwards = Atomic<Int>(0)
    public init() {}
    public var forward: Int { forwards.load(ordering: .relaxed) }
    public var backward: Int { backwards.load(ordering: .relaxed) }
    func countForward() { forwards.add(1, ordering: .relaxed) }
    func countBackward() { backwards.add(1, ordering: .relaxed) }
}

extension Layer {
    /// Whether the layer's output passes through a ReLU last (a ReLU layer, or a conv with a fused ReLU).
    var endsInReLU: Bool {
        (self as? ActivationLayer)?.activation == .relu || (self as? Conv2d)?.activation == .relu || (self as? Add)?.activation == .relu
    }
}

/// The outputs of one forward pass, by layer name.
public struct Activations {
    public let graph: Graph
    /// The input, (N, C, H, W).
    public let input: Tensor
    /// One output per node; nil above the layer where the pass stopped.
    public let outputs: [Tensor?]

    /// The output of a layer or alias ("input" gives the input).
    /// - Throws: for an unknown name or a layer the pass did not reach.
    public func output(_ name: String) throws -> Tensor {
        let i = try graph.index(of: name)
        if i == Graph.inputIndex { return input }
        guard let t = outputs[i] else { throw EngineError("the forward pass stopped before '\(name)'") }
        return t
    }

    /// The outputs of batch item `i` alone, e.g. to resume one image's pass.
    public func item(_ i: Int) -> Activations {
        if input.shape[0] == 1 { return self }
        return Activations(graph: graph, input: input.item(i),
                           outputs: outputs.enumerated().map { j, t in graph.isConstant(j) ? t : t.map { $0.item(i) } })
    }

    /// The output of the last computed node.
    public var last: Tensor { outputs.last(where: { $0 != nil })!! }
}

extension Tensor {
    /// Adds another tensor of the same shape in place.
    public mutating func add(_ b: Tensor) {
        precondition(shape == b.shape, "Tensor.add: shapes \(shape) and \(b.shape) differ")
        data.withUnsafeMutableBufferPointer { rp in
            b.data.withUnsafeBufferPointer { bp in for i in 0 ..< rp.count { rp[i] += bp[i] } }
        }
    }

    /// Elementwise sum of two tensors of the same shape.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "Tensor +: shapes \(a.shape) and \(b.shape) differ")
        var r = a
        r.data.withUnsafeMutableBufferPointer { rp in
            b.data.withUnsafeBufferPointer { bp in for i in 0 ..< rp.count { rp[i] += bp[i] } }
        }
        return r
    }
}

/// A fixed tensor as a graph node: an initializer or a constant that an op reads as an input (a bias to add, a
/// layer-scale vector, a MatMul weight). It has no inputs and takes no gradient.
public final class Constant: Layer {
    /// The tensor, any rank.
    public let value: Tensor
    public init(_ value: Tensor) { self.value = value }
    public var kind: String { "Constant" }
    public var summary: String { "\(value.shape)" }
    public func outputShape(_ inputs: [[Int]]) throws -> [Int] { value.shape }
    public func forward(_ inputs: [Tensor], _ y: inout Tensor) { y = value }
    public func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?] { [] }
}
