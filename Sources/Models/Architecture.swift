import Engine

/// One network architecture of the zoo: how to build its graph, and what goes with it.
public struct Architecture: Sendable {
    /// The name users type, e.g. "resnet18" (several layouts may share it).
    public let name: String
    /// Which key layout the graph uses: "torchvision", "caffe", "deep-sort" (the MobileNetV2 backbone file),
    /// "efficientnet_pytorch" or "efficientnet_lite_pytorch".
    public let layout: String
    /// The preprocessing preset's name: "caffe", "torchvision", "tf" or "efficientnet-lite".
    public let preprocessing: String
    /// The side of the square input, e.g. 224 or 227.
    public let inputSize: Int
    /// The default Grad-CAM layer.
    public let camLayer: String
    /// The default layer for pooled embeddings.
    public let embeddingLayer: String
    /// The weight key whose first dimension is the class count; nil for a backbone without classifier.
    public let classifierKey: String?
    /// The class count when no weights say otherwise.
    public let defaultClasses: Int
    /// Builds the graph for a variant (class count, width). Layers start with zero weights.
    public let make: @Sendable (Variant) -> Graph

    public init(name: String, layout: String, preprocessing: String, inputSize: Int, camLayer: String, embeddingLayer: String,
                classifierKey: String?, defaultClasses: Int = 1000, build: @escaping @Sendable (Variant) -> Graph) {
        self.name = name
        self.layout = layout
        self.preprocessing = preprocessing
        self.inputSize = inputSize
        self.camLayer = camLayer
        self.embeddingLayer = embeddingLayer
        self.classifierKey = classifierKey
        self.defaultClasses = defaultClasses
        self.make = build
    }

    /// The builder of an imported architecture (ONNX, Keras), which has none: its one graph, with the weights the
    /// importer loaded, belongs to the model made with it. Calling it is a programmer error; returning that graph
    /// from this `Sendable` value instead would share one mutable graph between whoever holds the architecture.
    static let imported: @Sendable (Variant) -> Graph = { _ in
        preconditionFailure("an imported architecture has no builder; use its model's graph")
    }

    /// The graph for a class count (ignored by backbones), at full width.
    public func build(_ classes: Int) -> Graph { make(Variant(classes: classes)) }
}

/// Which instance of an architecture to build: the class count, and a width divisor for the narrow copies that
/// test fixtures use (every channel count divided by it; 1 is the real network).
public struct Variant: Sendable, Equatable {
    public var classes: Int
    public var widthDivisor: Int
    public init(classes: Int, widthDivisor: Int = 1) {
        self.classes = classes
        self.widthDivisor = widthDivisor
    }
}

/// A user-facing error from the model zoo or weight loading, one line plus an optional hint.
public struct ModelError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
