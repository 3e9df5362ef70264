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

    /// torchvision's Conv2dNormActivation as `name`: "<name>.0" a convolution without bias, padded (k − 1) / 2,
    /// "<name>.1" BatchNorm, "<name>.2" the activation if any; "<name>" names its output.
    @discardableResult
    func convNormAct(_ name: String, _ cin: Int, _ cout: Int, _ k: Int, stride: Int = 1, groups: Int = 1, eps: Float,
                     activation: Layer?, from: String) -> String {
        let s = child(name)
        s.add("0", L.conv(cin, cout, k, stride: stride, padding: (k - 1) / 2, groups: groups, bias: false), inputs: [from])
        var out = s.add("1", BatchNorm2d(cout, eps: eps))
        if let activation { out = s.add("2", activation) }
        graph.alias(s.prefix, out)
        return out
    }

    /// torchvision's SqueezeExcitation as `name`: avgpool, fc1, activation, fc2, scale_activation, and the product
    /// with the input under "<name>" itself.
    func squeezeExcitation(_ name: String, _ channels: Int, _ squeezed: Int, activation: Layer, scale: Layer, from: String) -> String {
        let s = child(name)
        s.add("avgpool", AdaptiveAvgPool2d(1, 1), inputs: [from])
        s.add("fc1", L.conv(channels, squeezed, 1))
        s.add("activation", activation)
        s.add("fc2", L.conv(squeezed, channels, 1))
        let gate = s.add("scale_activation", scale)
        return s.add("", L.mul(), inputs: [from, gate])
    }
}

/// Short constructors for the layers architectures use.
enum L {
    static func conv(_ c: Int, _ o: Int, _ k: Int, stride: Int = 1, padding: Int = 0, groups: Int = 1, bias: Bool = true) -> Conv2d {
        Conv2d(c, o, kernel: k, stride: stride, padding: padding, groups: groups, bias: bias)
    }
    static func relu() -> ActivationLayer { ActivationLayer(.relu) }
    static func relu6() -> ActivationLayer { ActivationLayer(.relu6) }
    static func silu() -> Unary { Unary(.silu) }
    static func sigmoid() -> Unary { Unary(.sigmoid) }
    static func hardSwish() -> Unary { Unary(.hardSwish) }
    /// torch's Hardsigmoid: relu6(x + 3) / 6.
    static func hardSigmoid() -> Unary { Unary(.hardSigmoid(alpha: 1 / 6, beta: 0.5)) }
    static func mul() -> Mul { Mul() }
    static func bn(_ c: Int) -> BatchNorm2d { BatchNorm2d(c) }
}
