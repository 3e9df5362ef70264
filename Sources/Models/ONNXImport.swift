import Engine
import TensorIO

/// Builds an engine graph from an ONNX model, onto the same op set the built-in architectures use.
///
/// The import runs in three steps:
/// 1. **Order and fold.** Nodes are put in dependency order (a cycle or an undefined input is an error naming the
///    node). Every value whose inputs are all known at import is computed there: initializers, Constant, and the
///    int64 shape arithmetic (Shape, Gather, Concat, Unsqueeze, ...) that exporters write for `x.view(x.size(0), -1)`,
///    and float ops on constants. The engine never sees integers.
/// 2. **Lower.** Each remaining node maps to engine layers in one `switch` (`ONNXImport+Ops.swift`); shapes are
///    inferred at batch 1 as nodes are lowered, so a shape error names the node. Axis 0 is the batch everywhere.
/// 3. **Name.** Nodes are named after the torch modules the exporters record (legacy node names such as
///    `/layer4/layer4.1/conv2/Conv`, dynamo's `pkg.torch.onnx.name_scopes` metadata): an op alone in its module takes
///    the module's path (`layer4.1.conv2`), others `<module>.<op>` (`layer4.1.add`); every module path names the last
///    op inside it (`layer4`, `layer4.1`), and raw ONNX tensor names are accepted too. "output" names the output.
public enum ONNXImport {
    /// What the importer needs besides the file.
    public struct Options: Sendable {
        /// The input's (H, W) where the graph leaves them dynamic.
        public var defaultInputSize: (h: Int, w: Int) = (224, 224)
        public init() {}
    }

    /// The imported network and what the analyses need to know about it.
    public struct Imported {
        public let graph: Graph
        /// The input, (1, C, H, W).
        public let inputShape: [Int]
        /// The output's shape at batch 1, e.g. (1, K).
        public let outputShape: [Int]
        /// The default Grad-CAM layer: the last 4-D tensor with spatial size above 1 before global pooling.
        public let camLayer: String?
        /// Notes for the user (an output left out, a dynamic dimension fixed).
        public let notes: [String]
    }

    /// Imports a parsed model.
    /// - Parameters:
    ///   - model: the ONNX model.
    ///   - source: the file, for messages.
    public static func graph(_ model: ONNXModel, source: String, options: Options = Options()) throws -> Imported {
        var b = try Builder(model, source: source, options: options)
        for node in try ordered(model.graph, source: source) { try b.lower(node) }
        return try b.finish()
    }

    /// The graph's nodes in dependency order (Kahn's algorithm, stable), after checking that every input is defined.
    static func ordered(_ g: ONNXGraph, source: String) throws -> [ONNXNode] {
        var producer: [String: Int] = [:]
        for (i, n) in g.nodes.enumerated() {
            for o in n.outputs where !o.isEmpty {
                guard producer[o] == nil else { throw ModelError("\(source): tensor '\(o)' is produced by two nodes ('\(g.nodes[producer[o]!].name)' and '\(n.name)')") }
                producer[o] = i
            }
        }
        let known = Set(g.initializers.keys).union(g.inputs.map(\.name))
        var waiting = [Int](repeating: 0, count: g.nodes.count), users = [[Int]](repeating: [], count: g.nodes.count)
        for (i, n) in g.nodes.enumerated() {
            for input in n.inputs where !input.isEmpty {
                if let p = producer[input] {
                    waiting[i] += 1
                    users[p].append(i)
                } else if !known.contains(input) {
                    throw ModelError("\(source): node '\(n.name)' (\(n.opType)) reads '\(input)', which no node, input or initializer defines")
                }
            }
        }
        // Exporters write nodes in order; keep that order when it holds, else sort (first in, first out).
        var defined = known
        if g.nodes.allSatisfy({ n in
            defer { defined.formUnion(n.outputs) }
            return n.inputs.allSatisfy { $0.isEmpty || defined.contains($0) }
        }) { return g.nodes }
        var queue = (0 ..< g.nodes.count).filter { waiting[$0] == 0 }, head = 0
        var order: [ONNXNode] = []
        order.reserveCapacity(g.nodes.count)
        while head < queue.count {
            let i = queue[head]
            head += 1
            order.append(g.nodes[i])
            for u in users[i] {
                waiting[u] -= 1
                if waiting[u] == 0 { queue.append(u) }
            }
        }
        if order.count < g.nodes.count, let stuck = waiting.indices.first(where: { waiting[$0] > 0 }) {
            throw ModelError("\(source): the graph has a cycle through node '\(g.nodes[stuck].name)' (\(g.nodes[stuck].opType))")
        }
        return order
    }

    /// The module path torch's exporters recorded for a node ("" for ops in the model's own forward, and for nodes
    /// that carry no scope, such as those an optimiser made).
    ///
    /// Dynamo writes the module stack as metadata, `pkg.torch.onnx.name_scopes`, a Python list literal
    /// ['', 'layer1', 'layer1.0', 'layer1.0.relu', 'relu_1']: between the model ('') and the aten op come the full
    /// paths. The legacy exporter names nodes "/layer1/layer1.0/conv1/Conv": each scope is a path shortened to its last
    /// non-numeric part and the numbers after it, so the full path is the parent's plus "." and the scope, unless the
    /// scope starts with the parent's own short name and a dot (features + features.3 → features.3).
    static func scope(_ node: ONNXNode) -> String {
        if let scopes = node.metadata["pkg.torch.onnx.name_scopes"] {
            let parts = scopes.split(separator: ",").map { $0.trimming("[]'\" ") }
            return parts.count >= 3 ? parts[parts.count - 2] : ""
        }
        guard node.name.hasPrefix("/") else { return "" }
        var parts = node.name.split(separator: "/").map(String.init)
        parts.removeLast()                                      // the op, e.g. "Conv" or "Conv_3"
        var path = "", short = ""
        for p in parts where !p.isEmpty {
            path = path.isEmpty ? p : p.hasPrefix(short + ".") ? path + p.dropFirst(short.count) : path + "." + p
            short = p
        }
        return path
    }
}

extension StringProtocol {
    /// The string without leading and trailing characters from `set`.
    func trimming(_ set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s = s.dropFirst() }
        while let c = s.last, set.contains(c) { s = s.dropLast() }
        return String(s)
    }
}

/// A tensor of the ONNX graph as the importer sees it: known at import, or computed by an engine node.
enum Value {
    case known(Folded)
    /// An engine node's output, by the index of its pending node, and its shape at batch 1.
    case computed(Int, [Int])
    /// The graph's input, (1, C, H, W).
    case input([Int])
    /// A computed value flattened to one axis with its batch (dynamo's `as_strided` writes Reshape(-1) then a
    /// Gather of every index in order): only such a Gather may read it, which gives the value back batch-first.
    indirect case flattened(Value)

    var shape: [Int] {
        switch self {
        case let .known(f): f.shape
        case let .computed(_, s), let .input(s): s
        case let .flattened(v): [v.shape.reduce(1, *)]
        }
    }
}

/// A tensor known at import: float values, and integer values for integer and boolean tensors.
struct Folded {
    var shape: [Int]
    /// The values as Float32 (integers converted).
    var floats: [Float]
    /// The values of an integer or boolean tensor; nil for floating-point ones.
    var ints: [Int]?

    init(shape: [Int], floats: [Float]) {
        self.shape = shape
        self.floats = floats
        ints = nil
    }

    init(shape: [Int], ints: [Int]) {
        self.shape = shape
        self.ints = ints
        floats = ints.map { Float($0) }
    }

    var count: Int { floats.count }
    var tensor: Tensor { Tensor(shape: shape, data: floats) }
}

/// An engine node waiting for its name: the layer, its inputs, and where it came from.
struct Pending {
    enum Input: Equatable { case input, node(Int) }
    let layer: Layer
    let inputs: [Input]
    /// The module path of the ONNX node, and its op type, for naming.
    let scope: String
    let op: String
    /// The ONNX tensor names it computes (aliases), or the initializer name of a constant.
    var tensors: [String]
    /// The output shape at batch 1.
    let shape: [Int]
}
