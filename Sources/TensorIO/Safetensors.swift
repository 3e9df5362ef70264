// Hugging Face safetensors: an 8-byte little-endian header length, a JSON header
// {"__metadata__": {...}, name: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}, then the data,
// offsets counted from the end of the header.
import Support

public enum Safetensors {
    /// The dtypes read, by their safetensors names.
    static let dtypes: [String: ElementType] = [
        "F32": .float32, "F16": .float16, "BF16": .bfloat16, "F64": .float64, "I64": .int64, "I32": .int32,
        "I16": .int16, "I8": .int8, "U8": .uint8, "BOOL": .bool,
    ]

    /// Reads a safetensors file; tensors of every supported dtype become Float32.
    /// - Parameters:
    ///   - path: the .safetensors file.
    public static func read(_ path: String) throws -> StateDict {
        try FileBytes.withContents(path) { try parse($0, name: path, limits: .default) }
    }

    /// Parses a safetensors file held in memory: F32, F16, BF16, F64 (and I64, I32, I16, I8, U8, BOOL as Float).
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - name: the file's name for messages.
    public static func parse(_ bytes: [UInt8], name: String) throws -> StateDict {
        try bytes.withUnsafeBytes { try parse($0, name: name, limits: .default) }
    }

    /// Parses a safetensors file from a borrowed buffer, within limits.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - name: the file's name for messages.
    ///   - limits: `maxElements` bounds each tensor, `maxDepth` the header's nesting.
    static func parse(_ bytes: UnsafeRawBufferPointer, name: String, limits: Limits) throws -> StateDict {
        func fail(_ message: String) -> TensorFileError {
            TensorFileError(file: name, message, hint: nil)
        }
        guard bytes.count >= 8 else { throw fail("is \(bytes.count) bytes long, too short for a safetensors header; the file is truncated") }
        let headerLength = bytes.le(0, 8)
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw fail("declares a \(headerLength)-byte safetensors header but the file is \(bytes.count) bytes; the file is truncated or not safetensors")
        }
        let dataStart = 8 + Int(headerLength)
        let header: JSON
        switch JSON.parse(UnsafeRawBufferPointer(rebasing: bytes[8 ..< dataStart]), maxDepth: min(limits.maxDepth, 64)) {
        case .success(let v): header = v
        case .failure(let e): throw fail("has a safetensors header that is not JSON (\(e.message))")
        }
        guard let members = header.members else { throw fail("has a safetensors header that is not a JSON object") }

        struct Entry { var name: String; var type: ElementType; var shape: [Int]; var range: Range<Int> }
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        let dataSize = bytes.count - dataStart
        for (key, value) in members {
            if key == "__metadata__" {
                guard let m = value.members else { throw fail("has __metadata__ that is not an object of strings") }
                for (k, v) in m {
                    guard let s = v.text else { throw fail("has __metadata__ entry '\(k)' that is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value.members, let dtypeName = info.first(where: { $0.key == "dtype" })?.value.text,
                  let shape = info.first(where: { $0.key == "shape" })?.value.ints,
                  let offsets = info.first(where: { $0.key == "data_offsets" })?.value.ints, offsets.count == 2 else {
                throw fail("tensor '\(key)' lacks a dtype, shape or data_offsets in the safetensors header")
            }
            guard let type = dtypes[dtypeName] else {
                throw fail("tensor '\(key)' has dtype \(dtypeName); supported: \(dtypes.keys.sorted().joined(separator: ", "))")
            }
            guard let count = checkedProduct(shape), count <= limits.maxElements else {
                throw fail("tensor '\(key)' has an impossible shape \(shape)")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw fail("tensor '\(key)' has data_offsets [\(begin), \(end)] outside the \(dataSize)-byte data section; the file is truncated or corrupt")
            }
            let (need, overflow) = count.multipliedReportingOverflow(by: type.size)
            guard !overflow, need == end - begin else {
                throw fail("tensor '\(key)' of shape \(shape) and dtype \(dtypeName) needs \(overflow ? "too many" : String(need)) "
                    + "bytes but data_offsets give \(end - begin)")
            }
            entries.append(Entry(name: key, type: type, shape: shape, range: dataStart + begin ..< dataStart + end))
        }
        let byStart = entries.filter { !$0.range.isEmpty }.sorted { $0.range.lowerBound < $1.range.lowerBound }
        for (a, b) in zip(byStart, byStart.dropFirst()) where a.range.upperBound > b.range.lowerBound {
            throw fail("tensors '\(a.name)' and '\(b.name)' overlap in the data section; the file is corrupt")
        }

        var tensors: [String: TensorData] = [:]
        for e in entries {
            let values = Convert.gather(UnsafeRawBufferPointer(rebasing: bytes[e.range]), type: e.type, bigEndian: false,
                                        offset: 0, shape: e.shape, strides: Convert.rowMajorStrides(e.shape))
            tensors[e.name] = TensorData(shape: e.shape, values: values)
        }
        guard tensors.count == entries.count else { throw fail("has two tensors with the same name") }
        return StateDict(names: entries.map(\.name), tensors: tensors, format: "safetensors", metadata: metadata)
    }

    /// Encodes a state dict as safetensors, all tensors F32, in `dict.names` order, laid out as Hugging Face's
    /// library does: compact JSON header padded with spaces to a multiple of 8 bytes, data packed in order.
    /// - Parameters:
    ///   - dict: the tensors; `dict.metadata` becomes `__metadata__`.
    public static func encode(_ dict: StateDict) throws -> [UInt8] {
        var header = "{"
        if !dict.metadata.isEmpty {
            let pairs = dict.metadata.sorted { $0.key < $1.key }.map { JSON.quote($0.key) + ":" + JSON.quote($0.value) }
            header += "\"__metadata__\":{" + pairs.joined(separator: ",") + "},"
        }
        var offset = 0
        var parts: [String] = []
        for name in dict.names {
            guard let t = dict.tensors[name] else { throw TensorFileError(file: "safetensors", "state dict has no tensor '\(name)'") }
            guard checkedProduct(t.shape) == t.values.count else {
                throw TensorFileError(file: "safetensors", "tensor '\(name)' has shape \(t.shape) but \(t.values.count) values")
            }
            let size = t.values.count * 4
            parts.append(JSON.quote(name) + ":{\"dtype\":\"F32\",\"shape\":[" + t.shape.map(String.init).joined(separator: ",")
                + "],\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
        }
        header += parts.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        headerBytes += [UInt8](repeating: 0x20, count: (8 - headerBytes.count % 8) % 8)
        var out = [UInt8]()
        out.reserveCapacity(8 + headerBytes.count + offset)
        let n = UInt64(headerBytes.count)
        for i in 0 ..< 8 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(i)))) }
        out += headerBytes
        for name in dict.names {
            dict.tensors[name]!.values.withUnsafeBytes { out.append(contentsOf: $0) }  // Float32 little-endian
        }
        return out
    }

    /// Writes a state dict as an F32 safetensors file, atomically (temporary file, then rename).
    /// - Parameters:
    ///   - dict: the tensors and metadata.
    ///   - path: the destination.
    public static func write(_ dict: StateDict, to path: String) throws {
        try AtomicFile.write(try encode(dict), to: path)
    }
}
