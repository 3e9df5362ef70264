import Engine

/// Adds layers to a graph under a name prefix, the way a scoped loader produces torchvision's keys:
/// `Scope(g, "layer1").child("0").add("conv1", ...)` adds "layer1.0.conv1".
public struct Scope {
    public let graph: Graph
    public let prefix: String

    public init(_ graph: Graph, _ prefix: String = "") {
        self.graph = graph
        self.prefix = prefix
    }

    /// The full name of `name` in this scope ("" gives the scope's own name).
    public func name(_ name: String) -> String {
        prefix.isEmpty ? name : name.isEmpty ? prefix : prefix + "." + name
    }

    /// A nested scope.
    public func child(_ name: String) -> Scope { Scope(graph, self.name(name)) }
    public func child(_ index: Int) -> Scope { child(String(index)) }

    /// Adds a layer named `name` in this scope, fed by `inputs` (full names) or by the last layer added.
    @discardableResult
    public func add(_ name: String, _ layer: Layer, inputs: [String]? = nil) -> String {
        graph.add(self.name(name), layer, inputs: inputs)
    }

    /// The name of the last layer added to the graph (or "input").
    public var last: String { graph.nodes.last?.name ?? Graph.inputName }
}

/// Short constructors for the layers architectures use.
enum L {
    static func conv(_ c: Int, _ o: Int, _ k: Int, stride: Int = 1, padding: Int = 0, groups: Int = 1, bias: Bool = true) -> Conv2d {
        Conv2d(c, o, kernel: k, stride: stride, padding: padding, groups: groups, bias: bias)
    }
    static func relu() -> ActivationLayer { ActivationLayer(.relu) }
    static func relu6() -> ActivationLayer { ActivationLayer(.relu6) }
    static func bn(_ c: Int) -> BatchNorm2d { BatchNorm2d(c) }
}
