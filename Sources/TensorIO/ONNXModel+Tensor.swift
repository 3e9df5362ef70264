// Decoding TensorProto: dims, data type, and the values from raw_data (little-endian), from the typed fields
// (float_data, int32_data, int64_data, double_data, uint64_data) or from an external file. Every count is checked
// against the bytes actually present before the values are allocated.

/// An element type the reader converts: its raw_data width, the typed field that holds it otherwise, and whether it
/// becomes Float32 or Int.
struct ONNXElement {
    /// TensorProto.DataType's number.
    let code: Int
    /// Bytes per element in raw_data and external files.
    let size: Int
    /// The typed field: float_data 4, int32_data 5 (also float16, bfloat16, bool and 8/16-bit bit patterns),
    /// int64_data 7, double_data 10, uint64_data 11.
    let field: Int
    /// True for the types that become Float32.
    let isFloat: Bool

    /// The onnx.proto names of TensorProto.DataType, by number.
    static let names = ["UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING", "BOOL",
                        "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN",
                        "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1", "FLOAT8E8M0",
                        "UINT2", "INT2", "FLOAT6E2M3", "FLOAT6E3M2"]

    /// A data type's name: "FLOAT", or "TYPE_99" for a number onnx.proto does not (yet) define.
    static func name(_ code: Int) -> String { names.indices.contains(code) ? names[code] : "TYPE_\(code)" }

    /// The types read, by number.
    static let supported: [Int: ONNXElement] = Dictionary(uniqueKeysWithValues: [
        ONNXElement(code: 1, size: 4, field: 4, isFloat: true),    // FLOAT
        ONNXElement(code: 10, size: 2, field: 5, isFloat: true),   // FLOAT16
        ONNXElement(code: 16, size: 2, field: 5, isFloat: true),   // BFLOAT16
        ONNXElement(code: 11, size: 8, field: 10, isFloat: true),  // DOUBLE
        ONNXElement(code: 7, size: 8, field: 7, isFloat: false),   // INT64
        ONNXElement(code: 6, size: 4, field: 5, isFloat: false),   // INT32
        ONNXElement(code: 5, size: 2, field: 5, isFloat: false),   // INT16
        ONNXElement(code: 3, size: 1, field: 5, isFloat: false),   // INT8
        ONNXElement(code: 4, size: 2, field: 5, isFloat: false),   // UINT16
        ONNXElement(code: 2, size: 1, field: 5, isFloat: false),   // UINT8
        ONNXElement(code: 9, size: 1, field: 5, isFloat: false),   // BOOL
        ONNXElement(code: 12, size: 4, field: 11, isFloat: false), // UINT32
        ONNXElement(code: 13, size: 8, field: 11, isFloat: false), // UINT64
    ].map { ($0.code, $0) })

    /// The typed fields' names, for messages.
    static let fieldNames = [4: "float_data", 5: "int32_data", 7: "int64_data", 10: "double_data", 11: "uint64_data"]

    /// An integer of this type from its stored bits (raw little-endian bits, or a typed field's varint, which onnx
    /// narrows to the type as numpy's astype does); nil for a UINT64 above Int.max.
    func int(_ bits: UInt64) -> Int? {
        switch code {
        case 6: return Int(Int32(truncatingIfNeeded: bits))
        case 5: return Int(Int16(truncatingIfNeeded: bits))
        case 3: return Int(Int8(truncatingIfNeeded: bits))
        case 4: return Int(UInt16(truncatingIfNeeded: bits))
        case 2: return Int(UInt8(truncatingIfNeeded: bits))
        case 9: return UInt8(truncatingIfNeeded: bits) == 0 ? 0 : 1
        case 12: return Int(UInt32(truncatingIfNeeded: bits))
        case 13: return bits > UInt64(Int.max) ? nil : Int(bits)
        default: return Int(Int64(bitPattern: bits))
        }
    }

    /// A float of this type from its stored bits (FLOAT16 and BFLOAT16 sit in the low 16 bits of int32_data).
    func float(_ bits: UInt64) -> Float {
        switch code {
        case 10: return floatFromHalfBits(UInt16(truncatingIfNeeded: bits))
        case 16: return floatFromBFloat16Bits(UInt16(truncatingIfNeeded: bits))
        case 11: return Float(Double(bitPattern: bits))
        default: return Float(bitPattern: UInt32(truncatingIfNeeded: bits))
        }
    }

    /// Converts `count` little-endian elements of this type at the start of `raw` into `tensor`'s values; the caller
    /// has checked that `raw` holds exactly `count` elements and charged the budget.
    func convert(_ raw: UnsafeRawBufferPointer, count: Int, into tensor: inout ONNXTensor) throws {
        if isFloat {
            let type: ElementType = code == 1 ? .float32 : code == 10 ? .float16 : code == 16 ? .bfloat16 : .float64
            tensor.floats = count == 0 ? [] : [Float](unsafeUninitializedCapacity: count) { out, written in
                Convert.run(raw, type: type, bigEndian: false, start: 0, stride: 1, count: count, into: out.baseAddress!)
                written = count
            }
            return
        }
        var ints = [Int]()
        ints.reserveCapacity(count)
        for i in 0 ..< count {
            guard let v = int(raw.le(i * size, size)) else { throw ONNXDecodeError("has a UINT64 value above \(Int.max)") }
            ints.append(v)
        }
        tensor.ints = ints
    }
}

/// A tensor whose values are in an external file, and where it goes in the model once they are read.
struct PendingExternal {
    enum Slot { case initializer(String), attribute(node: Int, name: String) }
    /// The external_data entries, checked at decoding.
    struct Ref {
        var location: String
        var offset: Int
        /// Bytes: the element count times the element's size (external_data's length, when given, must agree).
        var length: Int
        var element: ONNXElement
        var count: Int
    }
    var slot: Slot
    var ref: Ref
}

extension ONNXDecoder {
    /// TensorProto: dims 1, data_type 2, segment 3, float_data 4, int32_data 5, string_data 6, int64_data 7, name 8,
    /// raw_data 9, double_data 10, uint64_data 11, external_data 13, data_location 14.
    /// - Parameters:
    ///   - w: the tensor's message.
    ///   - place: what the tensor is ("initializer 3", "tensor"), for messages until its name is known.
    /// - Returns: the tensor, and where its values are when they are in an external file.
    mutating func tensor(_ w: inout Wire, _ place: String) throws -> (ONNXTensor, PendingExternal.Ref?) {
        var t = ONNXTensor(shape: [], elementType: "")
        var code = 0, external = false
        var raw: Range<Int>?
        var typed: [(field: Int, range: Range<Int>)] = []
        var typedCount = 0
        var entries: [String: String] = [:]
        do {
            while let (field, wire) = try w.next() {
                switch field {
                case 1:
                    let run = try w.scalars(wire, .varint, field: field)
                    guard t.shape.count + run.count <= limits.maxRank else {
                        throw ONNXDecodeError("has more than \(limits.maxRank) dimensions; the file is corrupt or hostile")
                    }
                    try w.decode(run.range, into: &t.shape) { try $0.int() }
                case 2: code = try int(&w, wire, field)
                case 3: throw ONNXDecodeError("is segmented, which ConvLens does not read")
                case 4, 5, 7, 10, 11:
                    let run = try w.scalars(wire, field == 4 ? .fixed32 : field == 10 ? .fixed64 : .varint, field: field)
                    try spend(32)
                    typed.append((field, run.range))
                    typedCount += run.count
                case 8: t.name = try name(&w, wire, field, "the tensor's name")
                case 9:
                    try Wire.expect(wire, .bytes, field: field)
                    raw = try w.length()
                case 13:
                    var sub = try message(&w, wire, field)
                    try room(entries.count, 16, "external_data entries")
                    let (key, value) = try entry(&sub)
                    entries[key] = value
                case 14: external = try int(&w, wire, field) == 1
                default: try w.skip(wire)
                }
            }
            t.elementType = ONNXElement.name(code)
            let ref = try values(&t, code: code, raw: raw, typed: typed, typedCount: typedCount, w.bytes,
                                 external: external ? entries : nil)
            return (t, ref)
        } catch var e as ONNXDecodeError {
            e.path.insert(t.name.isEmpty ? place : place.split(separator: " ")[0] + " " + quoted(t.name), at: 0)
            throw e
        }
    }

    /// Checks a tensor's shape against its data and reads the values, or returns where they are in an external file.
    private mutating func values(_ t: inout ONNXTensor, code: Int, raw: Range<Int>?, typed: [(field: Int, range: Range<Int>)],
                                 typedCount: Int, _ bytes: UnsafeRawBufferPointer,
                                 external: [String: String]?) throws -> PendingExternal.Ref? {
        guard code != 0 else { throw ONNXDecodeError("has no data type; the file is corrupt") }
        if let negative = t.shape.first(where: { $0 < 0 }) {
            throw ONNXDecodeError("has a negative dimension \(negative) in shape \(t.shape); the file is corrupt")
        }
        guard let count = checkedProduct(t.shape), count <= limits.maxElements else {
            throw ONNXDecodeError("has shape \(t.shape), whose product overflows or passes \(limits.maxElements) elements; "
                + "the file is corrupt or hostile")
        }
        try spend(t.shape.count * 8 + 128)
        guard let element = ONNXElement.supported[code] else { return nil }  // kept by name, without values
        let sources = (raw == nil ? 0 : 1) + (typed.isEmpty ? 0 : 1) + (external == nil ? 0 : 1)
        guard sources <= 1 else {
            throw ONNXDecodeError("has its values in more than one of raw_data, typed fields and external data; "
                + "the file is corrupt")
        }
        let (product, overflow) = count.multipliedReportingOverflow(by: element.size)
        let needed = overflow ? nil : product  // bytes
        if let external { return try externalRef(external, element: element, count: count, bytes: needed) }
        if let raw {
            guard let needed, raw.count == needed else {
                throw ONNXDecodeError("has shape \(t.shape) of \(t.elementType), which needs \(needed.map(String.init) ?? "more than \(Int.max)") "
                    + "bytes, but raw_data holds \(raw.count); the file is corrupt")
            }
            try spend(count: count, size: element.isFloat ? 4 : 8)
            try element.convert(UnsafeRawBufferPointer(rebasing: bytes[raw]), count: count, into: &t)
            return nil
        }
        guard typedCount == count else {
            throw ONNXDecodeError("has shape \(t.shape) of \(count) elements, but holds \(typedCount) values; the file is corrupt")
        }
        if let wrong = typed.first(where: { $0.field != element.field }) {
            throw ONNXDecodeError("holds \(ONNXElement.fieldNames[wrong.field]!) where \(t.elementType) uses "
                + "\(ONNXElement.fieldNames[element.field]!); the file is corrupt")
        }
        try spend(count: count, size: element.isFloat ? 4 : 8)
        let w = Wire(bytes)
        if element.isFloat {
            var floats: [Float] = []
            floats.reserveCapacity(count)
            for run in typed {
                switch element.field {
                case 4: try w.decode(run.range, into: &floats) { Float(bitPattern: try $0.fixed32()) }
                case 10: try w.decode(run.range, into: &floats) { Float(Double(bitPattern: try $0.fixed64())) }
                default: try w.decode(run.range, into: &floats) { element.float(try $0.varint()) }
                }
            }
            t.floats = floats
        } else {
            var ints: [Int] = []
            ints.reserveCapacity(count)
            for run in typed {
                try w.decode(run.range, into: &ints) {
                    guard let v = element.int(try $0.varint()) else { throw ONNXDecodeError("has a UINT64 value above \(Int.max)") }
                    return v
                }
            }
            t.ints = ints
        }
        return nil
    }
}
