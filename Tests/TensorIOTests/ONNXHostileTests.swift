// The ONNX reader on crafted bytes: every bound it checks before allocating, each as one test that expects one
// line naming the file and the problem. The bytes come from a tiny protobuf writer (PB below) following onnx.proto's
// field numbers; the valid ones are checked to parse first, so each refusal is caused by the one thing changed.
import Foundation
import Testing
@testable import TensorIO

/// Protobuf wire bytes, for crafting models.
enum PB {
    static func varint(_ v: UInt64) -> [UInt8] {
        var v = v, out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        return out + [UInt8(v)]
    }
    static func tag(_ field: Int, _ wire: Int) -> [UInt8] { varint(UInt64(field << 3 | wire)) }
    /// A varint field (negative values take ten bytes, as int64 does).
    static func int(_ field: Int, _ v: Int) -> [UInt8] { tag(field, 0) + varint(UInt64(bitPattern: Int64(v))) }
    /// A length-delimited field: a nested message, bytes or a packed run.
    static func bytes(_ field: Int, _ b: [UInt8]) -> [UInt8] { tag(field, 2) + varint(UInt64(b.count)) + b }
    static func string(_ field: Int, _ s: String) -> [UInt8] { bytes(field, Array(s.utf8)) }
    static func float(_ field: Int, _ f: Float) -> [UInt8] {
        tag(field, 5) + withUnsafeBytes(of: f.bitPattern.littleEndian, Array.init)
    }
    static func packedInts(_ field: Int, _ xs: [Int]) -> [UInt8] {
        bytes(field, xs.flatMap { varint(UInt64(bitPattern: Int64($0))) })
    }
    static func floats(_ xs: [Float]) -> [UInt8] { xs.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }

    /// TensorProto: dims 1, data_type 2, name 8, raw_data 9, plus whatever `rest` adds.
    static func tensor(_ name: String, type: Int = 1, dims: [Int], raw: [UInt8]? = nil, _ rest: [UInt8] = []) -> [UInt8] {
        (dims.isEmpty ? [] : packedInts(1, dims)) + int(2, type) + string(8, name) + (raw.map { bytes(9, $0) } ?? []) + rest
    }
    /// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5.
    static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "", attributes: [[UInt8]] = []) -> [UInt8] {
        inputs.flatMap { string(1, $0) } + outputs.flatMap { string(2, $0) } + string(3, name) + string(4, op)
            + attributes.flatMap { bytes(5, $0) }
    }
    /// GraphProto: node 1, name 2, initializer 5, input 11, output 12.
    static func graph(nodes: [[UInt8]] = [], initializers: [[UInt8]] = [], _ rest: [UInt8] = []) -> [UInt8] {
        nodes.flatMap { bytes(1, $0) } + string(2, "g") + initializers.flatMap { bytes(5, $0) } + rest
    }
    /// ModelProto: ir_version 1, graph 7, opset_import 8 (ai.onnx 17).
    static func model(_ graph: [UInt8], _ rest: [UInt8] = []) -> [UInt8] {
        int(1, 8) + bytes(8, string(1, "") + int(2, 17)) + bytes(7, graph) + rest
    }
    /// A model whose graph has one initializer.
    static func model(initializer t: [UInt8]) -> [UInt8] { model(graph(initializers: [t])) }
}

/// Parses crafted bytes as "crafted.onnx".
func parseONNX(_ bytes: [UInt8], limits: ONNXLimits = .default, directory: String? = nil) throws -> ONNXModel {
    try bytes.withUnsafeBytes { try ONNXModel.parse($0, directory: directory, source: "crafted.onnx", limits: limits) }
}

@Test func craftedModelsParse() throws {
    // The baseline the refusals below change one thing of.
    let m = try parseONNX(PB.model(PB.graph(nodes: [PB.node("Relu", ["x"], ["y"], name: "r")],
                                            initializers: [PB.tensor("w", dims: [2], raw: PB.floats([1, -2]))])))
    #expect(m.irVersion == 8 && m.opsets == ["": 17] && m.graph.nodes.map(\.opType) == ["Relu"])
    #expect(m.graph.initializers["w"]?.floats == [1, -2])
}

@Test func readsOldAndUnpackedEncodings() throws {
    // Files of IR version 1 have no AttributeProto.type: the value field decides, whatever follows it (doc_string 13).
    // Repeated scalars may come unpacked, one tag per value, as proto2 writers without [packed] write them.
    let attrs = [PB.string(1, "alpha") + PB.float(2, 0.5) + PB.string(13, "doc"),
                 PB.string(1, "pads") + PB.packedInts(8, [1, 2]) + PB.string(13, "doc"),
                 PB.string(1, "strides") + PB.int(8, 3) + PB.int(8, -4),
                 PB.string(1, "mode") + PB.string(4, "linear"),
                 PB.string(1, "n") + PB.int(3, -7),
                 PB.string(1, "body") + PB.bytes(6, PB.graph()),
                 PB.string(1, "none") + PB.string(13, "doc only")]
    let unpacked = PB.int(1, 2) + PB.int(1, 1) + PB.int(2, 1) + PB.string(8, "u") + PB.float(4, 1.5) + PB.float(4, -2)
    let m = try parseONNX(PB.model(PB.graph(nodes: [PB.node("X", [], [], attributes: attrs)], initializers: [unpacked])))
    #expect(m.graph.nodes[0].attributes == ["alpha": .float(0.5), "pads": .ints([1, 2]), "strides": .ints([3, -4]),
                                            "mode": .string("linear"), "n": .int(-7), "body": .other("GRAPH"),
                                            "none": .other("UNDEFINED")])
    #expect(m.graph.initializers["u"] == ONNXTensor(name: "u", shape: [2, 1], floats: [1.5, -2]))
}

@Test func refusesLengthsPastTheirMessage() {
    // The graph's length claims 2^40 bytes; the file has a handful.
    let huge = PB.int(1, 8) + PB.tag(7, 2) + PB.varint(1 << 40) + [0x0a, 0x00]
    expectError("crafted.onnx", "length of 1099511627776 bytes", "runs past its message", "truncated") { try parseONNX(huge) }
    // A node's length fits in the file but not in its graph.
    let node = PB.node("Relu", ["x"], ["y"])
    let graph = PB.tag(1, 2) + PB.varint(UInt64(node.count + 5)) + node
    expectError("crafted.onnx", "graph", "runs past its message") { try parseONNX(PB.model(graph) + [1, 2, 3, 4, 5, 6]) }
    // Truncated in the middle of every kind of value.
    let full = PB.model(PB.graph(nodes: [PB.node("Conv", ["x"], ["y"], attributes: [PB.string(1, "a") + PB.float(2, 1)])],
                                 initializers: [PB.tensor("w", dims: [1], raw: PB.floats([1]))]))
    for cut in 1 ..< full.count {
        do {
            _ = try parseONNX(Array(full[..<cut]))
            Issue.record("a model cut at \(cut) of \(full.count) bytes parsed")
        } catch let e as TensorFileError {
            #expect(!e.message.contains("\n"))
        } catch {
            Issue.record("\(error)")
        }
    }
}

@Test func refusesMalformedWireData() {
    expectError("crafted.onnx", "varint longer than 10 bytes") { try parseONNX([0x08] + [UInt8](repeating: 0xff, count: 11) + [0]) }
    expectError("crafted.onnx", "invalid protobuf wire type 7") { try parseONNX(PB.tag(3, 7)) }
    expectError("crafted.onnx", "invalid protobuf field number 0") { try parseONNX([0x02, 0x00]) }
    expectError("crafted.onnx", "field 1 is length-delimited where onnx.proto has varint") { try parseONNX(PB.string(1, "8")) }
    expectError("crafted.onnx", "group ends", "never started") { try parseONNX(PB.model(PB.graph()) + PB.tag(99, 4)) }
    expectError("crafted.onnx", "group", "runs past the end") { try parseONNX(PB.model(PB.graph()) + PB.tag(99, 3) + PB.int(1, 1)) }
}

@Test func refusesWhatIsNotAnONNXModel() throws {
    expectError("crafted.onnx", "has no graph") { try parseONNX([]) }
    expectError("crafted.onnx", "has no graph") { try parseONNX(PB.int(1, 8)) }
    expectError("crafted.onnx") { try parseONNX([0x89] + Array("PNG\r\n\u{1a}\n".utf8) + [0, 0, 0, 13]) }
    let safetensors = try FileBytes.read(fixture("hf.safetensors"))
    expectError("crafted.onnx") { try parseONNX(safetensors) }
    expectError("crafted.onnx", "has two main graphs") { try parseONNX(PB.model(PB.graph(), PB.bytes(7, PB.graph()))) }
}

@Test func skipsUnknownFieldsOfEveryWireType() throws {
    // Fields onnx.proto does not have (yet), of every wire type, including nested groups, at every level.
    let unknown = PB.int(90, -5) + PB.tag(91, 1) + [UInt8](repeating: 7, count: 8) + PB.string(92, "future")
        + PB.tag(93, 3) + PB.int(1, 1) + PB.tag(94, 3) + PB.string(2, "x") + PB.tag(94, 4) + PB.tag(93, 4) + PB.float(95, 2)
    let attribute = PB.string(1, "alpha") + PB.float(2, 0.5) + PB.int(20, 1)
    func model(_ u: [UInt8]) -> [UInt8] {
        let info = PB.string(1, "x") + PB.bytes(2, PB.bytes(1, PB.int(1, 1) + PB.bytes(2, PB.bytes(1, PB.int(1, 4) + u) + u) + u) + u) + u
        return PB.model(PB.graph(nodes: [PB.node("LeakyRelu", ["x"], ["y"], attributes: [attribute + u]) + u],
                                 initializers: [PB.tensor("w", dims: [2], raw: PB.floats([1, 2]), u)], PB.bytes(11, info) + u), u)
    }
    let plain = try parseONNX(model([]))
    let future = try parseONNX(model(unknown))
    #expect(plain.graph.nodes[0].attributes["alpha"] == .float(0.5))
    #expect(plain.graph.inputs[0].shape == [.fixed(4)])
    #expect(future == plain)
}

@Test func deepNestingCostsNoStack() throws {
    // 200,000 nested groups in an unknown field are skipped by counting, not by recursion.
    let depth = 200_000
    let groups = (0 ..< depth).flatMap { _ in PB.tag(50, 3) } + (0 ..< depth).flatMap { _ in PB.tag(50, 4) }
    #expect(try parseONNX(PB.model(PB.graph(), groups)).graph.name == "g")
    // An If whose then_branch nests 100,000 graphs deep (3 MB): graph-valued attributes are skipped, never decoded.
    let m = try parseONNX(PB.model(nestedGraphs(100_000)))
    #expect(m.graph.nodes[0].attributes["then_branch"] == .other("GRAPH"))
}

/// A graph whose one If node's then_branch holds a graph like it, `depth` levels deep. Built inside out: each level
/// is a prefix and a suffix around the graph it holds, so building costs no copying of the inner levels.
func nestedGraphs(_ depth: Int) -> [UInt8] {
    var prefixes: [[UInt8]] = [], suffixes: [[UInt8]] = []
    var length = PB.graph().count
    for _ in 0 ..< depth {
        let attributeHead = PB.string(1, "then_branch") + PB.tag(6, 2) + PB.varint(UInt64(length))
        let attributeTail = PB.int(20, 5)
        let attributeLength = attributeHead.count + length + attributeTail.count
        let nodeHead = PB.string(1, "c") + PB.string(2, "y") + PB.string(4, "If") + PB.tag(5, 2) + PB.varint(UInt64(attributeLength))
        let graphHead = PB.tag(1, 2) + PB.varint(UInt64(nodeHead.count + attributeLength)) + nodeHead + attributeHead
        let graphTail = attributeTail + PB.string(2, "g")
        prefixes.append(graphHead)
        suffixes.append(graphTail)
        length += graphHead.count + graphTail.count
    }
    return prefixes.reversed().flatMap { $0 } + PB.graph() + suffixes.flatMap { $0 }
}

@Test func refusesDataThatDisagreesWithTheShape() {
    expectError("crafted.onnx", "initializer 'w'", "needs 24 bytes, but raw_data holds 20") {
        try parseONNX(PB.model(initializer: PB.tensor("w", dims: [2, 3], raw: [UInt8](repeating: 0, count: 20))))
    }
    // 2^32 elements declared, 4 bytes present: refused before anything is allocated.
    expectError("crafted.onnx", "initializer 'w'", "needs 17179869184 bytes, but raw_data holds 4") {
        try parseONNX(PB.model(initializer: PB.tensor("w", dims: [1 << 16, 1 << 16], raw: PB.floats([1]))))
    }
    expectError("crafted.onnx", "initializer 'w'", "1073741824 elements, but holds 2 values") {
        try parseONNX(PB.model(initializer: PB.tensor("w", dims: [1 << 30], raw: nil, PB.bytes(4, PB.floats([1, 2])))))
    }
    expectError("crafted.onnx", "initializer 'w'", "2 elements, but holds 0 values") {
        try parseONNX(PB.model(initializer: PB.tensor("w", dims: [2])))
    }
    expectError("crafted.onnx", "more than one of raw_data, typed fields") {
        try parseONNX(PB.model(initializer: PB.tensor("w", dims: [1], raw: PB.floats([1]), PB.bytes(4, PB.floats([1])))))
    }
    expectError("crafted.onnx", "holds int64_data where FLOAT uses float_data") {
        try parseONNX(PB.model(initializer: PB.tensor("w", dims: [2], raw: nil, PB.packedInts(7, [1, 2]))))
    }
    expectError("crafted.onnx", "packed run of fixed32 values is 7 bytes") {
        try parseONNX(PB.model(initializer: PB.tensor("w", dims: [2], raw: nil, PB.bytes(4, [0, 0, 0, 0, 0, 0, 0]))))
    }
    expectError("crafted.onnx", "UINT64 value above") {
        try parseONNX(PB.model(initializer: PB.tensor("u", type: 13, dims: [1], raw: [UInt8](repeating: 0xff, count: 8))))
    }
    expectError("crafted.onnx", "has no data type") { try parseONNX(PB.model(initializer: PB.tensor("w", type: 0, dims: [1]))) }
    expectError("crafted.onnx", "is segmented") {
        try parseONNX(PB.model(initializer: PB.tensor("w", dims: [1], raw: PB.floats([1]), PB.bytes(3, PB.int(1, 0)))))
    }
}

@Test func refusesDimensionsThatOverflowOrAreNegative() {
    expectError("crafted.onnx", "initializer 'w'", "product overflows") {
        try parseONNX(PB.model(initializer: PB.tensor("w", dims: [1 << 32, 1 << 32], raw: PB.floats([1]))))
    }
    expectError("crafted.onnx", "initializer 'w'", "negative dimension -2") {
        try parseONNX(PB.model(initializer: PB.tensor("w", dims: [-2, -2], raw: PB.floats([1]))))
    }
    expectError("crafted.onnx", "more than 64 dimensions") {
        try parseONNX(PB.model(initializer: PB.tensor("w", dims: [Int](repeating: 1, count: 65), raw: PB.floats([1]))))
    }
    let info = PB.string(1, "x") + PB.bytes(2, PB.bytes(1, PB.int(1, 1) + PB.bytes(2, PB.bytes(1, PB.int(1, -1)))))
    expectError("crafted.onnx", "graph input 0", "'x' has a negative dimension -1") { try parseONNX(PB.model(PB.graph(PB.bytes(11, info)))) }
}

@Test func refusesCountsAndNamesOverTheLimits() {
    var small = ONNXLimits.default
    small.maxNodes = 10
    small.maxAttributes = 3
    small.maxNameBytes = 16
    small.maxListLength = 4
    let relu = PB.node("Relu", ["x"], ["y"])
    #expect((try? parseONNX(PB.model(PB.graph(nodes: Array(repeating: relu, count: 10))), limits: small)) != nil)
    expectError("crafted.onnx", "has more than 10 nodes") { try parseONNX(PB.model(PB.graph(nodes: Array(repeating: relu, count: 11))), limits: small) }
    let attrs = (0 ..< 4).map { PB.string(1, "a\($0)") + PB.int(3, $0) + PB.int(20, 2) }
    expectError("crafted.onnx", "node 0 'n'", "has more than 3 attributes") {
        try parseONNX(PB.model(PB.graph(nodes: [PB.node("Conv", ["x"], ["y"], name: "n", attributes: attrs)])), limits: small)
    }
    expectError("crafted.onnx", "node 0", "has more than 4 inputs") {
        try parseONNX(PB.model(PB.graph(nodes: [PB.node("Concat", ["a", "b", "c", "d", "e"], ["y"])])), limits: small)
    }
    expectError("crafted.onnx", "the op type is 17 bytes long, over the limit of 16") {
        try parseONNX(PB.model(PB.graph(nodes: [PB.node(String(repeating: "A", count: 17), ["x"], ["y"])])), limits: small)
    }
    // The default limit on names, 64 KiB.
    expectError("crafted.onnx", "initializer 0", "is 65537 bytes long, over the limit of 65536") {
        try parseONNX(PB.model(initializer: PB.tensor(String(repeating: "w", count: 65537), dims: [1], raw: PB.floats([1]))))
    }
}

@Test func refusesDecodingPastTheMemoryBudget() {
    // 5,000 empty nodes are 10 KB of file but a few MB of Swift values: a budget of 100 times the file refuses them.
    var tight = ONNXLimits.default
    tight.budgetFloor = 0
    tight.budgetFactor = 100
    let empty = PB.model(PB.graph(nodes: Array(repeating: [], count: 5000)))
    expectError("crafted.onnx", "decoding would take more than", "100 times the", "corrupt or hostile") { try parseONNX(empty, limits: tight) }
    #expect((try? parseONNX(empty)) != nil, "the default budget's floor lets small files through")
}

@Test func refusesDuplicatesAndSparseTensorsByName() {
    let w = PB.tensor("w\n1", dims: [1], raw: PB.floats([1]))
    expectError("crafted.onnx", "two initializers named 'w\\n1'") { try parseONNX(PB.model(PB.graph(initializers: [w, w]))) }
    let alpha = PB.string(1, "alpha") + PB.float(2, 1) + PB.int(20, 1)
    expectError("crafted.onnx", "node 0 'n'", "two attributes named 'alpha'") {
        try parseONNX(PB.model(PB.graph(nodes: [PB.node("Elu", ["x"], ["y"], name: "n", attributes: [alpha, alpha])])))
    }
    let opset = PB.bytes(8, PB.string(1, "ai.onnx") + PB.int(2, 13))
    expectError("crafted.onnx", "imports the opset of domain 'ai.onnx' twice") { try parseONNX(PB.model(PB.graph(), opset)) }
    let sparse = PB.bytes(1, PB.tensor("sp", dims: [1], raw: PB.floats([1]))) + PB.packedInts(3, [4])
    expectError("crafted.onnx", "sparse initializer 'sp' is a sparse tensor") { try parseONNX(PB.model(PB.graph(PB.bytes(15, sparse)))) }
    let attr = PB.string(1, "sparse_value") + PB.bytes(22, sparse) + PB.int(20, 11)
    expectError("crafted.onnx", "node 0 'k'", "attribute 'sparse_value'", "is a sparse tensor") {
        try parseONNX(PB.model(PB.graph(nodes: [PB.node("Constant", [], ["y"], name: "k", attributes: [attr])])))
    }
}

/// A folder holding `model.onnx` with one external initializer "w" (FLOAT, dims) at `location`, and `data.bin`.
func externalModel(location: String, dims: [Int] = [2], offset: String? = nil, length: String? = nil) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-ext-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir + "/model", withIntermediateDirectories: true)
    var entries = PB.bytes(13, PB.string(1, "location") + PB.string(2, location))
    if let offset { entries += PB.bytes(13, PB.string(1, "offset") + PB.string(2, offset)) }
    if let length { entries += PB.bytes(13, PB.string(1, "length") + PB.string(2, length)) }
    let model = PB.model(initializer: PB.tensor("w", dims: dims, raw: nil, entries + PB.int(14, 1)))
    try Data(model).write(to: URL(fileURLWithPath: dir + "/model/model.onnx"))
    try Data(PB.floats([1, 2, 3])).write(to: URL(fileURLWithPath: dir + "/model/data.bin"))
    try Data(PB.floats([7, 8])).write(to: URL(fileURLWithPath: dir + "/secret.bin"))
    return dir
}

@Test func readsExternalDataOnlyFromInsideTheModelsFolder() throws {
    let ok = try externalModel(location: "data.bin", offset: "4", length: "8")
    defer { try? FileManager.default.removeItem(atPath: ok) }
    #expect(try ONNXModel.load(ok + "/model/model.onnx").graph.initializers["w"]?.floats == [2, 3])
    for (location, problem) in [("/etc/passwd", "outside the model's folder"), ("../secret.bin", "outside the model's folder"),
                                ("sub/../../secret.bin", "outside the model's folder"), ("link.bin", "resolves to"),
                                ("missing.bin", "which is not there"), ("dirlink", "which is a directory")] {
        let dir = try externalModel(location: location)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createSymbolicLink(atPath: dir + "/model/link.bin", withDestinationPath: dir + "/secret.bin")
        try FileManager.default.createSymbolicLink(atPath: dir + "/model/dirlink", withDestinationPath: dir + "/model")
        expectError("model.onnx", problem) { try ONNXModel.load(dir + "/model/model.onnx") }
    }
}

@Test func refusesExternalRangesPastTheFile() throws {
    for (offset, length, dims, problem) in [("8", "8", [2], "needs bytes 8 to 16 of 'data.bin', which is 12 bytes"),
                                            ("9223372036854775800", "8", [2], "past 9223372036854775807"),
                                            ("0", "12", [2], "need 8 bytes, but its external data length is 12"),
                                            ("-4", "8", [2], "offset '-4', not a byte count"),
                                            ("0", nil, [1 << 16, 1 << 16], "needs bytes 0 to 17179869184")] as [(String, String?, [Int], String)] {
        let dir = try externalModel(location: "data.bin", dims: dims, offset: offset, length: length)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        expectError("model.onnx", "initializer 'w'", problem) { try ONNXModel.load(dir + "/model/model.onnx") }
    }
}
