// Decoding ModelProto, GraphProto, NodeProto, AttributeProto and ValueInfoProto. Each message is one loop over its
// fields; messages nest only as onnx.proto nests them (model > graph > node > attribute > tensor), never by
// recursion, and graph-valued attributes (If, Loop, Scan bodies) are skipped, not decoded.

import Support

/// Decodes one model file, spending from a memory budget proportional to the bytes read before each allocation.
struct ONNXDecoder {
    let file: String
    let limits: ONNXLimits
    /// Bytes of the model file and of the external data files opened so far.
    private(set) var inputBytes: Int
    /// Estimated bytes of everything decoded so far.
    private(set) var spent = 0
    /// Tensors whose data lives in external files, read once the whole model is decoded.
    var pending: [PendingExternal] = []

    init(file: String, fileBytes: Int, limits: ONNXLimits) {
        self.file = file
        self.limits = limits
        inputBytes = fileBytes
    }

    /// Takes `bytes` out of the budget, or refuses the file.
    mutating func spend(_ bytes: Int) throws {
        let (scaled, o1) = inputBytes.multipliedReportingOverflow(by: limits.budgetFactor)
        let allowed = o1 ? Int.max : max(scaled, limits.budgetFloor)
        let (total, o2) = spent.addingReportingOverflow(bytes)
        guard !o2, total <= allowed else {
            throw ONNXDecodeError("decoding would take more than \(byteCount(allowed)) of memory, \(limits.budgetFactor) "
                + "times the \(byteCount(inputBytes)) read; the file is corrupt or hostile")
        }
        spent = total
    }

    /// Takes `count` elements of `size` bytes each out of the budget.
    mutating func spend(count: Int, size: Int) throws {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
        try spend(overflow ? Int.max : bytes)
    }

    /// Counts the bytes of a newly opened external data file into the budget's base.
    mutating func addInput(_ bytes: Int) { inputBytes = inputBytes &+ bytes }

    /// A name (of a node, value, op type, domain, attribute or metadata key).
    mutating func name(_ w: inout Wire, _ wire: WireType, _ field: Int, _ what: @autoclosure () -> String) throws -> String {
        try Wire.expect(wire, .bytes, field: field)
        let s = try w.string(maxBytes: limits.maxNameBytes, what())
        try spend(s.utf8.count + 16)
        return s
    }

    /// Other text (a string attribute, a metadata value, the producer).
    mutating func text(_ w: inout Wire, _ wire: WireType, _ field: Int, _ what: @autoclosure () -> String) throws -> String {
        try Wire.expect(wire, .bytes, field: field)
        let s = try w.string(maxBytes: limits.maxTextBytes, what())
        try spend(s.utf8.count + 16)
        return s
    }

    /// A varint field as a signed integer.
    func int(_ w: inout Wire, _ wire: WireType, _ field: Int) throws -> Int {
        try Wire.expect(wire, .varint, field: field)
        return try w.int()
    }

    /// A length-delimited field's range, for a nested message.
    func message(_ w: inout Wire, _ wire: WireType, _ field: Int) throws -> Wire {
        try Wire.expect(wire, .bytes, field: field)
        return Wire(w.bytes, try w.length())
    }

    /// Checks a list's length before it grows by one.
    func room(_ count: Int, _ limit: Int, _ what: @autoclosure () -> String) throws {
        guard count < limit else {
            throw ONNXDecodeError("has more than \(limit) \(what()); the file is corrupt or hostile")
        }
    }

    /// ModelProto: ir_version 1, producer_name 2, producer_version 3, graph 7, opset_import 8, metadata_props 14.
    mutating func model(_ w: Wire) throws -> ONNXModel {
        var w = w
        var model = ONNXModel(irVersion: 0, opsets: [:], graph: ONNXGraph(nodes: []))
        var sawGraph = false
        while let (field, wire) = try w.next() {
            switch field {
            case 1: model.irVersion = try int(&w, wire, field)
            case 2: model.producer = try text(&w, wire, field, "the producer name")
            case 3: model.producerVersion = try text(&w, wire, field, "the producer version")
            case 7:
                guard !sawGraph else { throw ONNXDecodeError("has two main graphs; the file is corrupt") }
                sawGraph = true
                var sub = try message(&w, wire, field)
                model.graph = try within("graph") { try graph(&sub) }
            case 8:
                var sub = try message(&w, wire, field)
                try room(model.opsets.count, limits.maxListLength, "opset imports")
                let (domain, version) = try within("opset import \(model.opsets.count)") { try opset(&sub) }
                guard model.opsets[domain] == nil else {
                    throw ONNXDecodeError("imports the opset of domain \(quoted(domain.isEmpty ? "ai.onnx" : domain)) twice; the file is corrupt")
                }
                model.opsets[domain] = version
            case 14: try metadataEntry(&w, wire, field, into: &model.metadata)
            default: try w.skip(wire)
            }
        }
        guard sawGraph else {
            throw ONNXDecodeError("has no graph; it is empty, truncated or not an ONNX model")
        }
        return model
    }

    /// OperatorSetIdProto: domain 1, version 2.
    mutating func opset(_ w: inout Wire) throws -> (String, Int) {
        var domain = "", version = 0
        while let (field, wire) = try w.next() {
            switch field {
            case 1: domain = try name(&w, wire, field, "the domain")
            case 2: version = try int(&w, wire, field)
            default: try w.skip(wire)
            }
        }
        return (domain == "ai.onnx" ? "" : domain, version)
    }

    /// StringStringEntryProto: key 1, value 2.
    mutating func entry(_ w: inout Wire) throws -> (String, String) {
        var key = "", value = ""
        while let (field, wire) = try w.next() {
            switch field {
            case 1: key = try name(&w, wire, field, "a metadata key")
            case 2: value = try text(&w, wire, field, "a metadata value")
            default: try w.skip(wire)
            }
        }
        return (key, value)
    }

    /// A metadata_props entry, added to `metadata` (a later entry with the same key wins).
    mutating func metadataEntry(_ w: inout Wire, _ wire: WireType, _ field: Int, into metadata: inout [String: String]) throws {
        var sub = try message(&w, wire, field)
        try room(metadata.count, limits.maxListLength, "metadata entries")
        let (key, value) = try within("metadata") { try entry(&sub) }
        metadata[key] = value
    }

    /// GraphProto: node 1, name 2, initializer 5, input 11, output 12, value_info 13, sparse_initializer 15.
    mutating func graph(_ w: inout Wire) throws -> ONNXGraph {
        var g = ONNXGraph(nodes: [])
        while let (field, wire) = try w.next() {
            switch field {
            case 1:
                var sub = try message(&w, wire, field)
                try room(g.nodes.count, limits.maxNodes, "nodes")
                try spend(256)
                g.nodes.append(try node(&sub, index: g.nodes.count))
            case 2: g.name = try name(&w, wire, field, "the graph's name")
            case 5:
                var sub = try message(&w, wire, field)
                try room(g.initializerNames.count, limits.maxTensors, "initializers")
                let index = g.initializerNames.count
                let (t, external) = try tensor(&sub, "initializer \(index)")
                guard g.initializers.updateValue(t, forKey: t.name) == nil else {
                    throw ONNXDecodeError("has two initializers named \(quoted(t.name)); the file is corrupt")
                }
                g.initializerNames.append(t.name)
                if let external { pending.append(PendingExternal(slot: .initializer(t.name), ref: external)) }
            case 11, 12, 13:
                var sub = try message(&w, wire, field)
                let kind = field == 11 ? "input" : field == 12 ? "output" : "value_info"
                let count = field == 11 ? g.inputs.count : field == 12 ? g.outputs.count : g.valueInfo.count
                try room(count, limits.maxNodes, "graph \(kind)s")
                try spend(64)
                let info = try within("graph \(kind) \(count)") { try valueInfo(&sub) }
                if field == 11 { g.inputs.append(info) } else if field == 12 { g.outputs.append(info) } else { g.valueInfo.append(info) }
            case 15:
                let sub = try message(&w, wire, field)
                throw ONNXDecodeError("sparse initializer \(quoted(sparseName(sub))) is a sparse tensor; ConvLens reads dense tensors only")
            default: try w.skip(wire)
            }
        }
        return g
    }

    /// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7, metadata_props 9.
    mutating func node(_ w: inout Wire, index: Int) throws -> ONNXNode {
        var n = ONNXNode(opType: "", inputs: [], outputs: [])
        var tensors: [(String, PendingExternal.Ref)] = []
        do {
            while let (field, wire) = try w.next() {
                switch field {
                case 1, 2:
                    try room(field == 1 ? n.inputs.count : n.outputs.count, limits.maxListLength, field == 1 ? "inputs" : "outputs")
                    let value = try name(&w, wire, field, field == 1 ? "an input name" : "an output name")
                    if field == 1 { n.inputs.append(value) } else { n.outputs.append(value) }
                case 3: n.name = try name(&w, wire, field, "the node's name")
                case 4: n.opType = try name(&w, wire, field, "the op type")
                case 7: n.domain = try name(&w, wire, field, "the domain")
                case 5:
                    var sub = try message(&w, wire, field)
                    try room(n.attributes.count, limits.maxAttributes, "attributes")
                    try spend(64)
                    let (key, value, external) = try attribute(&sub, index: n.attributes.count)
                    guard n.attributes.updateValue(value, forKey: key) == nil else {
                        throw ONNXDecodeError("has two attributes named \(quoted(key)); the file is corrupt")
                    }
                    if let external { tensors.append((key, external)) }
                case 9: try metadataEntry(&w, wire, field, into: &n.metadata)
                default: try w.skip(wire)
                }
            }
        } catch var e as ONNXDecodeError {
            e.path.insert("node \(index)" + (n.name.isEmpty ? "" : " \(quoted(n.name))"), at: 0)
            throw e
        }
        if n.domain == "ai.onnx" { n.domain = "" }
        for (key, ref) in tensors { pending.append(PendingExternal(slot: .attribute(node: index, name: key), ref: ref)) }
        return n
    }

    /// AttributeProto: name 1, f 2, i 3, s 4, t 5, g 6, floats 7, ints 8, strings 9, tensors 10, graphs 11,
    /// tp 14, type_protos 15, type 20, sparse_tensor 22, sparse_tensors 23. The value is the one `type` names; files
    /// written before `type` existed have only the value field, which then decides.
    mutating func attribute(_ w: inout Wire, index: Int) throws -> (String, ONNXAttribute, PendingExternal.Ref?) {
        var key = "", type = 0, inferred = 0
        var f: Float = 0, i = 0, s = "", t: ONNXTensor?, external: PendingExternal.Ref?
        var floats: [Float] = [], ints: [Int] = [], strings: [String] = []
        do {
            while let (field, wire) = try w.next() {
                if let kind = ONNXDecoder.attributeKinds[field] { inferred = kind }
                switch field {
                case 1: key = try name(&w, wire, field, "the attribute's name")
                case 20: type = try int(&w, wire, field)
                case 2:
                    try Wire.expect(wire, .fixed32, field: field)
                    f = Float(bitPattern: try w.fixed32())
                case 3: i = try int(&w, wire, field)
                case 4: s = try text(&w, wire, field, "a string attribute")
                case 5:
                    var sub = try message(&w, wire, field)
                    (t, external) = try tensor(&sub, "tensor")
                case 7:
                    let run = try w.scalars(wire, .fixed32, field: field)
                    try spend(count: run.count, size: 4)
                    try w.decode(run.range, into: &floats) { Float(bitPattern: try $0.fixed32()) }
                case 8:
                    let run = try w.scalars(wire, .varint, field: field)
                    try spend(count: run.count, size: 8)
                    try w.decode(run.range, into: &ints) { try $0.int() }
                case 9:
                    try room(strings.count, limits.maxListLength, "strings")
                    strings.append(try text(&w, wire, field, "a string attribute"))
                case 22, 23:
                    throw ONNXDecodeError("is a sparse tensor; ConvLens reads dense tensors only")
                default: try w.skip(wire)
                }
            }
        } catch var e as ONNXDecodeError {
            e.path.insert("attribute " + (key.isEmpty ? "\(index)" : quoted(key)), at: 0)
            throw e
        }
        if type == 0 { type = inferred }
        let value: ONNXAttribute
        switch type {
        case 1: value = .float(f)
        case 2: value = .int(i)
        case 3: value = .string(s)
        case 4:
            guard let t else { throw ONNXDecodeError("attribute \(quoted(key)) is a TENSOR without a tensor; the file is corrupt") }
            value = .tensor(t)
        case 6: value = .floats(floats)
        case 7: value = .ints(ints)
        case 8: value = .strings(strings)
        case 11, 12: throw ONNXDecodeError("attribute \(quoted(key)) is a sparse tensor; ConvLens reads dense tensors only")
        default:
            let names = [5: "GRAPH", 9: "TENSORS", 10: "GRAPHS", 13: "TYPE_PROTO", 14: "TYPE_PROTOS"]
            value = .other(names[type] ?? (type == 0 ? "UNDEFINED" : "TYPE_\(type)"))
        }
        return (key, value, type == 4 ? external : nil)
    }

    /// AttributeProto's value fields and the AttributeType each stands for, for attributes without a type.
    static let attributeKinds = [2: 1, 3: 2, 4: 3, 5: 4, 6: 5, 7: 6, 8: 7, 9: 8, 10: 9, 11: 10, 14: 13, 15: 14]

    /// ValueInfoProto (name 1, type 2) and, inside it, TypeProto (tensor_type 1; sequence 4, map 5, opaque 7,
    /// sparse_tensor 8, optional 9), TypeProto.Tensor (elem_type 1, shape 2), TensorShapeProto (dim 1) and its
    /// Dimension (dim_value 1, dim_param 2): five nested loops, one per message.
    mutating func valueInfo(_ w: inout Wire) throws -> ONNXValueInfo {
        var info = ONNXValueInfo(name: "", elementType: "", shape: nil)
        while let (field, wire) = try w.next() {
            switch field {
            case 1: info.name = try name(&w, wire, field, "the value's name")
            case 2:
                var type = try message(&w, wire, field)
                while let (field, wire) = try type.next() {
                    if let other = [4: "SEQUENCE", 5: "MAP", 7: "OPAQUE", 8: "SPARSE_TENSOR", 9: "OPTIONAL"][field] {
                        info.elementType = other
                        info.shape = nil
                        try type.skip(wire)
                        continue
                    }
                    guard field == 1 else { try type.skip(wire); continue }
                    var tensor = try message(&type, wire, field)
                    while let (field, wire) = try tensor.next() {
                        if field == 1 { info.elementType = ONNXElement.name(try int(&tensor, wire, field)); continue }
                        guard field == 2 else { try tensor.skip(wire); continue }
                        var shape = try message(&tensor, wire, field)
                        var dims: [ONNXDim] = []
                        while let (field, wire) = try shape.next() {
                            guard field == 1 else { try shape.skip(wire); continue }
                            var dim = try message(&shape, wire, field)
                            try room(dims.count, limits.maxRank, "dimensions")
                            try spend(24)
                            var d = ONNXDim.unknown
                            while let (field, wire) = try dim.next() {
                                switch field {
                                case 1:
                                    let size = try int(&dim, wire, field)
                                    guard size >= 0 else { throw ONNXDecodeError("\(quoted(info.name)) has a negative dimension \(size)") }
                                    d = .fixed(size)
                                case 2: d = .symbolic(try name(&dim, wire, field, "a dimension's name"))
                                default: try dim.skip(wire)
                                }
                            }
                            dims.append(d)
                        }
                        info.shape = dims
                    }
                }
            default: try w.skip(wire)
            }
        }
        return info
    }

    /// The name of a SparseTensorProto's values tensor (field 1, its name field 8), for the message refusing it.
    func sparseName(_ w: Wire) -> String {
        var w = w
        while let (field, wire) = try? w.next() {
            guard field == 1, wire == .bytes, let range = try? w.length() else {
                if (try? w.skip(wire)) == nil { break }
                continue
            }
            var values = Wire(w.bytes, range)
            while let (field, wire) = try? values.next() {
                if field == 8, wire == .bytes, let s = try? values.string(maxBytes: limits.maxNameBytes, "") { return s }
                if (try? values.skip(wire)) == nil { break }
            }
        }
        return ""
    }
}
