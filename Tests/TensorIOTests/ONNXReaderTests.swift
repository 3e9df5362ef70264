// The ONNX reader against files written by the `onnx` package (Scripts/make_onnx_reader_fixtures.py), field by field.
// The expected values are what onnx's own Python reader sees in the same files, saved beside them as JSON by the
// script's expected(): numpy_helper.to_array(t, base_dir=...) for tensor values, helper.get_attribute_value for
// attributes, the protobuf fields for the rest. What reader.onnx holds (the script's reader_model()):
//
//   tensor("w_raw", FLOAT, [2, 3, 1, 1], raw=(np.arange(6) / 4 - 0.5))      tensor("w_typed", FLOAT, [3], float_data)
//   tensor("h_raw"/"h_typed", FLOAT16, raw / int32_data of [0.5, -1.25, 65504, 2**-24])
//   tensor("b_raw"/"b_typed", BFLOAT16, raw / int32_data of the top halves of [1, -2.5, 3e38, 1e-38])
//   tensor("d_raw"/"d_typed", DOUBLE, raw / double_data), INT64 in int64_data and raw (with -1, 2**40, -2**63),
//   INT32, INT8, UINT8, INT16, BOOL, UINT64, UINT32, a scalar, a (0, 3) tensor, a STRING tensor (kept by name)
//   Constant(value=FLOAT16 tensor), Conv(pads, strides, group, auto_pad; metadata_props name_scopes), LeakyRelu(alpha),
//   Resize(["y2", "", "scales"]), MyOp in "com.example" (floats, strings, a large int), If(then/else graphs),
//   Relu in domain "ai.onnx"; input x: ["batch", 3, None, 8]; output without a shape; a sequence value_info.
import Foundation
import Testing
@testable import TensorIO

/// The JSON beside a fixture.
func expectedJSON(_ name: String) throws -> JSON {
    let bytes = try FileBytes.read(fixture("onnx/" + name))
    return try bytes.withUnsafeBytes { try JSON.parse($0).get() }
}

extension JSON {
    subscript(_ key: String) -> JSON { members?.first { $0.key == key }?.value ?? .null }
    var items: [JSON] { if case .array(let a) = self { return a }; return [] }
    var double: Double? { if case .number(let d, _) = self { return d }; return nil }
    var int: Int? { if case .number(_, let i) = self { return i }; return nil }
    var strings: [String] { items.compactMap(\.text) }
    var isNull: Bool { if case .null = self { return true }; return false }
    var stringMap: [String: String] { Dictionary(uniqueKeysWithValues: (members ?? []).map { ($0.key, $0.value.text ?? "") }) }
}

/// Compares a tensor with onnx's view of it; values must be identical (both sides convert the same bits).
func expectONNXTensor(_ label: String, _ t: ONNXTensor, _ e: JSON, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(t.name == e["name"].text, "\(label): name", sourceLocation: sourceLocation)
    #expect(t.shape == e["shape"].ints, "\(label): shape \(t.shape)", sourceLocation: sourceLocation)
    #expect(t.elementType == e["type"].text, "\(label): type \(t.elementType)", sourceLocation: sourceLocation)
    let floats = e["floats"].items.compactMap(\.double).map(Float.init)
    let ints = e["ints"].items.compactMap(\.int)
    if !e["floats"].isNull {
        let same = t.floats.map { zip($0, floats).allSatisfy { $0.bitPattern == $1.bitPattern } && $0.count == floats.count } ?? false
        print("\(label) \(same ? "OK" : "MISMATCH"): \(t.floats?.prefix(6).map { $0 } ?? [])")
        #expect(same, "\(label): floats \(t.floats ?? []), expected \(floats)", sourceLocation: sourceLocation)
        #expect(t.ints == nil, "\(label): has ints too", sourceLocation: sourceLocation)
    } else if !e["ints"].isNull {
        print("\(label) \(t.ints == ints ? "OK" : "MISMATCH"): \(t.ints?.prefix(6).map { $0 } ?? [])")
        #expect(t.ints == ints, "\(label): ints \(t.ints ?? []), expected \(ints)", sourceLocation: sourceLocation)
        #expect(t.floats == nil, "\(label): has floats too", sourceLocation: sourceLocation)
    } else {
        #expect(t.floats == nil && t.ints == nil, "\(label): has values", sourceLocation: sourceLocation)
    }
}

/// Compares a declared value type with onnx's view of it (dims: an int, a dim_param, or null for neither).
func expectValueInfo(_ label: String, _ v: ONNXValueInfo, _ e: JSON, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(v.name == e["name"].text, "\(label): name", sourceLocation: sourceLocation)
    #expect(v.elementType == e["type"].text, "\(label): type \(v.elementType)", sourceLocation: sourceLocation)
    let dims: [ONNXDim]? = e["shape"].isNull ? nil : e["shape"].items.map { d in
        if let n = d.int { return .fixed(n) }
        if let s = d.text { return .symbolic(s) }
        return .unknown
    }
    #expect(v.shape == dims, "\(label): shape \(String(describing: v.shape))", sourceLocation: sourceLocation)
}

/// Compares a whole model with the JSON the fixture script wrote from onnx's reading of the same file.
func expectModel(_ m: ONNXModel, _ e: JSON) {
    #expect(m.irVersion == e["ir_version"].int)
    #expect(m.opsets == (e["opsets"].members ?? []).reduce(into: [:]) { $0[$1.key] = $1.value.int })
    #expect(m.producer == e["producer"].text && m.producerVersion == e["producer_version"].text)
    #expect(m.metadata == e["metadata"].stringMap)
    #expect(m.graph.name == e["graph"].text)
    let inits = e["initializers"].items
    #expect(m.graph.initializerNames == inits.compactMap { $0["name"].text }, "initializer order")
    #expect(m.graph.initializers.count == inits.count)
    for t in inits {
        let name = t["name"].text ?? ""
        guard let got = m.graph.initializers[name] else { Issue.record("no initializer \(name)"); continue }
        expectONNXTensor(name, got, t)
    }
    let nodes = e["nodes"].items
    #expect(m.graph.nodes.count == nodes.count)
    for (n, en) in zip(m.graph.nodes, nodes) {
        let label = "node \(n.name)"
        #expect(n.name == en["name"].text && n.opType == en["op_type"].text && n.domain == en["domain"].text, "\(label)")
        #expect(n.inputs == en["inputs"].strings && n.outputs == en["outputs"].strings, "\(label): \(n.inputs) -> \(n.outputs)")
        #expect(n.metadata == en["metadata"].stringMap, "\(label): metadata \(n.metadata)")
        let attrs = en["attributes"].members ?? []
        #expect(Set(n.attributes.keys) == Set(attrs.map(\.key)), "\(label): attributes \(n.attributes.keys.sorted())")
        for (key, ea) in attrs {
            let v = ea["value"]
            switch (n.attributes[key], ea["type"].text) {
            case (.int(let i)?, "INT"): #expect(i == v.int, "\(label).\(key)")
            case (.float(let f)?, "FLOAT"): #expect(f == v.double.map(Float.init), "\(label).\(key)")
            case (.string(let s)?, "STRING"): #expect(s == v.text, "\(label).\(key)")
            case (.ints(let a)?, "INTS"): #expect(a == v.ints, "\(label).\(key)")
            case (.floats(let a)?, "FLOATS"): #expect(a == v.items.compactMap(\.double).map(Float.init), "\(label).\(key)")
            case (.strings(let a)?, "STRINGS"): #expect(a == v.strings, "\(label).\(key)")
            case (.tensor(let t)?, "TENSOR"): expectONNXTensor("\(label).\(key)", t, v)
            case (.other(let kind)?, let expected?): #expect(kind == expected, "\(label).\(key)")
            case (let got, let expected): Issue.record("\(label).\(key): \(String(describing: got)), expected \(expected ?? "?")")
            }
        }
    }
    for (kind, got) in [("inputs", m.graph.inputs), ("outputs", m.graph.outputs), ("value_info", m.graph.valueInfo)] {
        let want = e[kind].items
        #expect(got.count == want.count, "\(kind): \(got.count)")
        for (v, ev) in zip(got, want) { expectValueInfo("\(kind) \(v.name)", v, ev) }
    }
}

@Test func readsEveryEncodingAsOnnxDoes() throws {
    let model = try ONNXModel.load(fixture("onnx/reader.onnx"))
    expectModel(model, try expectedJSON("reader.json"))
    // A few values spelled out, so a wrong JSON could not hide a wrong reader: reader_model() in the script.
    #expect(model.opsets == ["": 17, "com.example": 1])
    #expect(model.graph.initializers["h_typed"]?.floats == [0.5, -1.25, 65504, 0x1p-24])
    #expect(model.graph.initializers["shape_i64"]?.ints == [1, -1, 1 << 40, Int.min])
    #expect(model.graph.initializers["scalar"]?.shape == [] && model.graph.initializers["scalar"]?.floats == [42])
    #expect(model.graph.initializers["empty"]?.shape == [0, 3] && model.graph.initializers["empty"]?.floats == [])
    #expect(model.graph.initializers["text"]?.elementType == "STRING")
    #expect(model.graph.nodes[3].inputs == ["y2", "", "scales"])
    #expect(model.graph.nodes[1].metadata["pkg.torch.onnx.name_scopes"] == "['', 'layer1', 'layer1.0', 'layer1.0.conv1']")
    #expect(model.graph.nodes[1].attributes["pads"] == .ints([0, 1, 2, 3]))
    #expect(model.graph.nodes[5].attributes["then_branch"] == .other("GRAPH"))
    #expect(model.graph.nodes[6].domain == "")  // written as "ai.onnx"
    #expect(model.graph.inputs[0].shape == [.symbolic("batch"), .fixed(3), .unknown, .fixed(8)])
    #expect(model.graph.outputs[0].shape == nil)
    #expect(model.graph.valueInfo[1].elementType == "SEQUENCE")
    #expect(model.directory.hasSuffix("Fixtures/onnx"))
}

@Test func readsExternalDataNextToTheModel() throws {
    let model = try ONNXModel.load(fixture("onnx/external.onnx"))
    expectModel(model, try expectedJSON("external.json"))
    #expect(model.graph.initializers["ext_i"]?.ints == [-1, 0, 1 << 33])
    #expect(model.graph.nodes[0].attributes["value"] == .tensor(ONNXTensor(name: "", shape: [2], elementType: "DOUBLE",
                                                                           floats: [0.25, -8], ints: nil)))
}

@Test func parsesFromMemoryWithAndWithoutAFolder() throws {
    let bytes = try FileBytes.read(fixture("onnx/reader.onnx"))
    let fromMemory = try bytes.withUnsafeBytes { try ONNXModel.parse($0, directory: nil, source: "reader.onnx") }
    var loaded = try ONNXModel.load(fixture("onnx/reader.onnx"))
    #expect(fromMemory.directory == "")
    loaded.directory = ""
    #expect(fromMemory == loaded)
    // external.onnx from memory: with its folder it reads external.bin; without one it refuses by name.
    let ext = try FileBytes.read(fixture("onnx/external.onnx"))
    let folder = URL(fileURLWithPath: fixture("onnx/external.onnx")).deletingLastPathComponent().path
    let withFolder = try ext.withUnsafeBytes { try ONNXModel.parse($0, directory: folder, source: "external.onnx") }
    #expect(withFolder.graph.initializers["ext_w"]?.floats == [-2, -0.5, 1, 2.5, 4, 5.5])
    expectError("external.onnx", "node 0 attribute 'value'", "external.bin", "without its folder") {
        try ext.withUnsafeBytes { try ONNXModel.parse($0, directory: nil, source: "external.onnx") }
    }
}
