/// A named parameter or buffer of a layer, as it appears in a state dict (`weight`, `running_mean`, ...).
public struct ParameterSpec: Equatable, Sendable {
    /// The key relative to the layer's name, e.g. "weight".
    public let name: String
    /// The expected shape, e.g. [O, C/G, kH, kW].
    public let shape: [Int]
    /// False for buffers (BatchNorm running statistics), which parameter counts leave out as torchvision does.
    public let trainable: Bool
    /// False for entries a state dict may carry that the layer does not need (e.g. `num_batches_tracked`).
    public let required: Bool

    public init(_ name: String, _ shape: [Int], trainable: Bool = true, required: Bool = true) {
        self.name = name
        self.shape = shape
        self.trainable = trainable
        self.required = required
    }
}

/// One operation of a network: a forward map and, beside it, the gradient of its inputs.
///
/// Layers are stateless between calls apart from their parameters: the graph keeps every node's inputs and
/// output from the forward pass and hands them back to `backward`. Passes only read a layer (nothing is cached
/// in it during `forward` or `backward`), so graphs that share a layer may run on different threads; its
/// parameters are set before any pass.
public protocol Layer: AnyObject {
    /// A short type name for listings, e.g. "Conv2d".
    var kind: String { get }
    /// A one-line description of the configuration, e.g. "3→64, 3x3, stride 2".
    var summary: String { get }
    /// The output shape for the given input shapes, or an error naming the shapes that disagree.
    func outputShape(_ inputs: [[Int]]) throws -> [Int]
    /// Computes the output into `y`, whose storage may be reused from an earlier call.
    /// - Parameters:
    ///   - inputs: the input tensors, one per graph input of the node.
    ///   - y: the output; the layer sets its shape.
    func forward(_ inputs: [Tensor], _ y: inout Tensor)
    /// Gradients of a scalar loss with respect to each input.
    /// - Parameters:
    ///   - inputs: the forward's inputs.
    ///   - y: the forward's output.
    ///   - dy: the loss gradient with respect to `y`, same shape as `y`.
    ///   - needed: which inputs need a gradient; the layer may return nil for the others.
    /// - Returns: one gradient per input, shaped like that input, or nil where not needed.
    func backward(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor, needed: [Bool]) -> [Tensor?]
    /// The parameters and buffers in state-dict order.
    var parameterSpecs: [ParameterSpec] { get }
    /// The current value of a parameter.
    func parameter(_ name: String) -> Tensor?
    /// Replaces a parameter; the shape has been checked against `parameterSpecs`.
    func setParameter(_ name: String, _ value: Tensor)
    /// Gradients of the loss with respect to the trainable parameters, keyed like `parameterSpecs`.
    func parameterGradients(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor) -> [String: Tensor]
    /// Multiply-accumulate operations of one forward pass for batch item 0 (for listings and GFLOP/s).
    func macs(_ inputs: [[Int]], _ output: [Int]) -> Int
}

extension Layer {
    public var summary: String { "" }
    public var parameterSpecs: [ParameterSpec] { [] }
    public func parameter(_ name: String) -> Tensor? { nil }
    public func setParameter(_ name: String, _ value: Tensor) {}
    public func parameterGradients(_ inputs: [Tensor], _ y: Tensor, _ dy: Tensor) -> [String: Tensor] { [:] }
    public func macs(_ inputs: [[Int]], _ output: [Int]) -> Int { 0 }
    /// Number of trainable parameters.
    public var parameterCount: Int {
        parameterSpecs.filter(\.trainable).reduce(0) { $0 + $1.shape.reduce(1, *) }
    }
}

/// A layer whose parameters are a `weight` and an optional `bias`, under torchvision's key names (Conv2d, Linear).
public protocol WeightedLayer: Layer {
    var weight: Tensor { get set }
    var bias: Tensor? { get set }
}

extension WeightedLayer {
    public var parameterSpecs: [ParameterSpec] {
        [ParameterSpec("weight", weight.shape)] + (bias.map { [ParameterSpec("bias", $0.shape)] } ?? [])
    }
    public func parameter(_ name: String) -> Tensor? { name == "weight" ? weight : name == "bias" ? bias : nil }
    public func setParameter(_ name: String, _ value: Tensor) {
        if name == "weight" { weight = value } else if name == "bias" { bias = value }
    }
}

/// Shapes that do not fit a layer, or a graph that cannot run as asked.
public struct EngineError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Checks a layer's input shapes; throws an error naming the layer kind and the shapes that disagree.
@inlinable
func expect(_ ok: Bool, _ message: @autoclosure () -> String) throws {
    if !ok { throw EngineError(message()) }
}
