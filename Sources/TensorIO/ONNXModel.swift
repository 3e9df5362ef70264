// An ONNX model as plain Swift values: what the importer needs of onnx.proto's ModelProto, GraphProto, NodeProto,
// AttributeProto, TensorProto and ValueInfoProto, decoded by hand from protobuf's wire format (ONNXModel+Wire.swift)
// with every size checked against the bytes that are there before anything is allocated.

/// An ONNX model: its opsets, its producer and its main graph.
public struct ONNXModel: Equatable, Sendable {
    /// The IR version (7 for opset 12 through 13, 8 for 14 through 18, 9 and up for 19 and later).
    public var irVersion: Int
    /// The imported opsets: domain ("" for ai.onnx, also when the file says "ai.onnx") to version.
    public var opsets: [String: Int]
    /// The producer's name, e.g. "pytorch".
    public var producer: String
    /// The producer's version, e.g. "2.13.0".
    public var producerVersion: String
    /// The model's metadata_props.
    public var metadata: [String: String]
    /// The main graph.
    public var graph: ONNXGraph
    /// The folder external data is read from: the model file's folder, or what `parse` was given ("" for none).
    public var directory: String

    /// Makes a model, e.g. to test an importer without a file.
    public init(irVersion: Int = 8, opsets: [String: Int] = ["": 17], producer: String = "", producerVersion: String = "",
                metadata: [String: String] = [:], graph: ONNXGraph, directory: String = "") {
        self.irVersion = irVersion
        self.opsets = opsets
        self.producer = producer
        self.producerVersion = producerVersion
        self.metadata = metadata
        self.graph = graph
        self.directory = directory
    }
}

/// A graph: nodes in file order (ONNX requires a topological order, but the reader does not check it), initializers,
/// inputs, outputs and the intermediate values' declared types.
public struct ONNXGraph: Equatable, Sendable {
    /// The graph's name.
    public var name: String
    /// The nodes, in file order.
    public var nodes: [ONNXNode]
    /// The initializers (weights and constants) by name.
    public var initializers: [String: ONNXTensor]
    /// The initializers' names in file order.
    public var initializerNames: [String]
    /// The graph's inputs; files of IR version 3 and older also list the initializers here.
    public var inputs: [ONNXValueInfo]
    /// The graph's outputs.
    public var outputs: [ONNXValueInfo]
    /// Declared types and shapes of intermediate values (shape inference's results, when the exporter kept them).
    public var valueInfo: [ONNXValueInfo]

    /// Makes a graph; the initializers are keyed by their names, in the order given.
    public init(name: String = "", nodes: [ONNXNode], initializers: [ONNXTensor] = [], inputs: [ONNXValueInfo] = [],
                outputs: [ONNXValueInfo] = [], valueInfo: [ONNXValueInfo] = []) {
        self.name = name
        self.nodes = nodes
        self.initializers = Dictionary(initializers.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        initializerNames = initializers.map(\.name)
        self.inputs = inputs
        self.outputs = outputs
        self.valueInfo = valueInfo
    }
}

/// A node: one operator applied to named values.
public struct ONNXNode: Equatable, Sendable {
    /// The node's name, e.g. "/layer4/layer4.1/conv2/Conv" (torch's legacy exporter); may be empty.
    public var name: String
    /// The operator, e.g. "Conv".
    public var opType: String
    /// The operator's domain: "" for ai.onnx (also when the file says "ai.onnx").
    public var domain: String
    /// Input value names; "" marks an absent optional input.
    public var inputs: [String]
    /// Output value names; "" marks an absent optional output.
    public var outputs: [String]
    /// Attributes by name.
    public var attributes: [String: ONNXAttribute]
    /// The node's metadata_props, e.g. torch dynamo's "pkg.torch.onnx.name_scopes".
    public var metadata: [String: String]

    /// Makes a node.
    public init(name: String = "", opType: String, domain: String = "", inputs: [String], outputs: [String],
                attributes: [String: ONNXAttribute] = [:], metadata: [String: String] = [:]) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.metadata = metadata
    }
}

/// An attribute's value.
public enum ONNXAttribute: Equatable, Sendable {
    case int(Int)
    case float(Float)
    case string(String)
    case tensor(ONNXTensor)
    case ints([Int])
    case floats([Float])
    case strings([String])
    /// A kind the reader keeps only by name: "GRAPH", "GRAPHS", "TENSORS", "TYPE_PROTO", "TYPE_PROTOS",
    /// "SPARSE_TENSORS" or "UNDEFINED". Its contents are skipped, never decoded.
    case other(String)
}

/// A tensor (an initializer or an attribute's value). Floating-point types become Float32, integer types and BOOL
/// become Int; other types (STRING, COMPLEX64, the 8-, 4- and 2-bit types) keep only their name, shape and no values.
public struct ONNXTensor: Equatable, Sendable {
    /// The tensor's name (attribute tensors are often unnamed).
    public var name: String
    /// The dimensions, outermost first; [] for a scalar.
    public var shape: [Int]
    /// The element type by its onnx.proto name: "FLOAT", "FLOAT16", "BFLOAT16", "DOUBLE", "INT64", "INT32", ...
    public var elementType: String
    /// The values of FLOAT, FLOAT16, BFLOAT16 and DOUBLE tensors as Float32, row-major. // (product(shape),)
    public var floats: [Float]?
    /// The values of INT64, INT32, INT16, INT8, UINT64, UINT32, UINT16, UINT8 and BOOL tensors, row-major.
    public var ints: [Int]?  // (product(shape),)

    /// Makes a tensor.
    public init(name: String = "", shape: [Int], elementType: String = "FLOAT", floats: [Float]? = nil, ints: [Int]? = nil) {
        self.name = name
        self.shape = shape
        self.elementType = elementType
        self.floats = floats
        self.ints = ints
    }
}

/// A value's declared type: its name, element type and shape.
public struct ONNXValueInfo: Equatable, Sendable {
    /// The value's name.
    public var name: String
    /// The element type's onnx.proto name ("FLOAT", ...); "" when not given; "SEQUENCE", "MAP", "OPTIONAL",
    /// "SPARSE_TENSOR" or "OPAQUE" for values that are not tensors.
    public var elementType: String
    /// The dimensions, or nil when the rank is unknown.
    public var shape: [ONNXDim]?

    /// Makes a value's type.
    public init(name: String, elementType: String = "FLOAT", shape: [ONNXDim]?) {
        self.name = name
        self.elementType = elementType
        self.shape = shape
    }
}

/// One dimension of a declared shape.
public enum ONNXDim: Equatable, Sendable {
    /// A known size.
    case fixed(Int)
    /// A named, dynamic size such as "batch_size".
    case symbolic(String)
    /// Neither a size nor a name.
    case unknown
}

extension ONNXModel {
    /// Reads an ONNX model file; external data is read from files in the same folder.
    /// - Parameters:
    ///   - path: the .onnx file.
    public static func load(_ path: String) throws -> ONNXModel {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        return try withFile(path) { try parse($0, directory: directory, source: path) }
    }

    /// Parses an ONNX model held in memory.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - directory: the folder external data files are read from; nil refuses external data.
    ///   - source: the file's name for messages.
    public static func parse(_ bytes: UnsafeRawBufferPointer, directory: String?, source: String) throws -> ONNXModel {
        try parse(bytes, directory: directory, source: source, limits: .default)
    }

    /// Parses an ONNX model held in memory, within limits.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - directory: the folder external data files are read from; nil refuses external data.
    ///   - source: the file's name for messages.
    ///   - limits: bounds on counts, names and the memory decoding may take.
    static func parse(_ bytes: UnsafeRawBufferPointer, directory: String?, source: String,
                      limits: ONNXLimits) throws -> ONNXModel {
        var decoder = ONNXDecoder(file: source, fileBytes: bytes.count, limits: limits)
        do {
            var model = try decoder.model(Wire(bytes))
            model.directory = directory ?? ""
            try decoder.readExternalData(into: &model, directory: directory)
            return model
        } catch let e as ONNXDecodeError {
            throw TensorFileError(file: source, e.description)
        }
    }

    /// Maps a file and runs `body` on its bytes: the reader's one way into the file system, for the model and for
    /// its external data files.
    /// - Parameters:
    ///   - path: the file.
    ///   - body: runs on the file's bytes.
    static func withFile<R>(_ path: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try FileBytes.withContents(path, noun: "an ONNX model or its data", body)
    }
}

/// Bounds on what the ONNX reader accepts, so a hostile file gives an error instead of exhausting memory or time.
struct ONNXLimits: Sendable {
    /// Most nodes in the graph.
    var maxNodes = 1 << 20
    /// Most attributes on one node.
    var maxAttributes = 1 << 10
    /// Most inputs or outputs of one node, and entries in one metadata list.
    var maxListLength = 1 << 16
    /// Longest name (of a node, value, op type, domain, attribute or metadata key), in bytes.
    var maxNameBytes = 1 << 16
    /// Longest other text (string attributes, metadata values, producer), in bytes.
    var maxTextBytes = 1 << 20
    /// Highest rank of a tensor or declared shape.
    var maxRank = 64
    /// Most initializers.
    var maxTensors = 1 << 20
    /// Most elements in one tensor.
    var maxElements = 1 << 33
    /// Memory the decoded model may take, per byte of the model and its external data files, above `budgetFloor`.
    var budgetFactor = 32
    /// Memory every model may take, however small its file.
    var budgetFloor = 1 << 26

    static let `default` = ONNXLimits()
}
