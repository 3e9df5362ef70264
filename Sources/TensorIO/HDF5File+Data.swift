// HDF5's values: dataspaces, datatypes, data layouts (compact, contiguous, chunked through a version-1 B-tree,
// raw or deflated), attributes, variable-length strings in global heaps, and the conversion of elements to Float32,
// Int and String. Every element count is checked against the bytes present and the budget before allocating.

import Support
import CZlib

/// The element types the reader decodes.
enum HDF5Type {
    /// A fixed-point integer of 1, 2, 4 or 8 bytes.
    case int(size: Int, signed: Bool, bigEndian: Bool)
    /// An IEEE float of 2, 4 or 8 bytes.
    case float(size: Int, bigEndian: Bool)
    /// A fixed-length string of `size` bytes.
    case string(size: Int)
    /// A variable-length string: each element a length, a global heap collection and an index.
    case vlenString
    /// Any other class, kept by name.
    case other(String, size: Int)

    /// Bytes per element as stored.
    func size(offsetSize: Int) -> Int {
        switch self {
        case let .int(s, _, _), let .float(s, _), let .string(s), let .other(_, s): s
        case .vlenString: 4 + offsetSize + 4
        }
    }

    var isInteger: Bool { if case .int = self { true } else { false } }

    var name: String {
        switch self {
        case let .int(s, signed, _): "\(signed ? "" : "u")int\(8 * s)"
        case let .float(s, _): "float\(8 * s)"
        case .string, .vlenString: "string"
        case let .other(n, _): n
        }
    }
}

/// Where a dataset's elements are stored.
enum HDF5Layout {
    case compact(Range<Int>)
    /// nil when the space was never allocated (the fill value, zero, everywhere).
    case contiguous(Int?, size: Int)
    /// A version-1 B-tree of chunks of the given shape (the last dimension is the element size).
    case chunked(btree: Int?, chunk: [Int])
}

extension HDF5Reader {
    /// A dataspace message: the dimensions ([] for a scalar); `null` is set for a NULL dataspace.
    func dataspace(_ body: Range<Int>, null: inout Bool) throws -> [Int] {
        let p = body.lowerBound, version = try u(p, 1), rank = try u(p + 1, 1), flags = try u(p + 2, 1)
        guard rank <= limits.maxRank else { throw HDF5Error("has a dataspace of rank \(rank), over \(limits.maxRank); the file is corrupt") }
        var dims = p + 8
        switch version {
        case 1: break
        case 2:
            dims = p + 4
            if try u(p + 3, 1) == 2 { null = true }
        default: throw HDF5Error("has a dataspace message of unknown version \(version); the file is corrupt")
        }
        guard dims + rank * lengthSize * (flags & 1 != 0 ? 2 : 1) <= body.upperBound else {
            throw HDF5Error("has a dataspace message shorter than its rank; the file is corrupt")
        }
        return try (0 ..< rank).map { try u(dims + $0 * lengthSize, lengthSize) }
    }

    /// A datatype message.
    func datatype(_ body: Range<Int>) throws -> HDF5Type {
        let p = body.lowerBound
        guard body.count >= 8 else { throw HDF5Error("has a datatype message shorter than 8 bytes; the file is corrupt") }
        let classAndVersion = try u(p, 1), bits = try u(p + 1, 1), size = try u(p + 4, 4)
        let kind = classAndVersion & 0x0f
        switch kind {
        case 0:
            guard [1, 2, 4, 8].contains(size) else { return .other("integer of \(size) bytes", size: size) }
            return .int(size: size, signed: bits & 8 != 0, bigEndian: bits & 1 != 0)
        case 1:
            guard [2, 4, 8].contains(size), bits & 0x40 == 0 else { return .other("float of \(size) bytes", size: size) }
            return .float(size: size, bigEndian: bits & 1 != 0)
        case 3:
            return .string(size: size)
        case 9:
            // A sequence or a string (bits 0-3); h5py's str attributes are variable-length strings.
            return bits & 0x0f == 1 ? .vlenString : .other("variable-length sequence", size: 4 + offsetSize + 4)
        default:
            let names = [2: "time", 4: "bitfield", 5: "opaque", 6: "compound", 7: "reference", 8: "enum", 10: "array"]
            return .other(names[kind] ?? "class \(kind)", size: size)
        }
    }

    /// A data layout message (version 3, or 4 for compact and contiguous data).
    func layout(_ body: Range<Int>, what: String) throws -> HDF5Layout {
        let p = body.lowerBound, version = try u(p, 1), kind = try u(p + 1, 1)
        guard version == 3 || version == 4 else {
            throw HDF5Error("has a data layout message of version \(version) for \(what); ConvLens reads versions 3 and 4")
        }
        switch kind {
        case 0:
            let size = try u(p + 2, 2)
            guard p + 4 + size <= body.upperBound else { throw HDF5Error("has compact data past its message for \(what); the file is corrupt") }
            return .compact(p + 4 ..< p + 4 + size)
        case 1:
            return .contiguous(try address(p + 2), size: try u(p + 2 + offsetSize, lengthSize))
        case 2 where version == 3:
            let rank = try u(p + 2, 1)
            guard rank >= 1, rank <= limits.maxRank + 1 else { throw HDF5Error("has chunks of rank \(rank) for \(what); the file is corrupt") }
            let dims = try (0 ..< rank).map { try u(p + 3 + offsetSize + 4 * $0, 4) }
            guard dims.allSatisfy({ $0 >= 1 }) else { throw HDF5Error("has an empty chunk shape \(dims) for \(what); the file is corrupt") }
            return .chunked(btree: try address(p + 3), chunk: dims)
        case 2:
            throw HDF5Error("indexes the chunks of \(what) in a version-4 layout (libver='latest'); ConvLens reads contiguous data "
                + "and version-3 chunk B-trees, as h5py writes by default")
        default:
            throw HDF5Error("has data layout class \(kind) for \(what) (virtual datasets are not read)")
        }
    }

    /// A filter pipeline message: each filter's id and client values.
    func filterPipeline(_ body: Range<Int>) throws -> [(id: Int, values: [Int])] {
        let version = try u(body.lowerBound, 1), n = try u(body.lowerBound + 1, 1)
        var p = body.lowerBound + (version == 1 ? 8 : 2), out: [(id: Int, values: [Int])] = []
        for _ in 0 ..< n {
            let id = try u(p, 2)
            let nameLength = version == 1 || id >= 256 ? try u(p + 2, 2) : 0
            p += version == 1 || id >= 256 ? 4 : 2
            p += 2                                                  // flags
            let count = try u(p, 2)
            p += 2
            p += version == 1 ? (nameLength + 7) / 8 * 8 : nameLength
            guard count <= 256, p + 4 * count <= body.upperBound else { throw HDF5Error("has a broken filter pipeline message; the file is corrupt") }
            out.append((id, try (0 ..< count).map { try u(p + 4 * $0, 4) }))
            p += 4 * count + (version == 1 && count % 2 == 1 ? 4 : 0)
        }
        return out
    }

    /// An attribute message (versions 1 to 3): name, type, shape and where its data is.
    func attribute(_ body: Range<Int>) throws -> HDF5RawAttribute {
        let p = body.lowerBound, version = try u(p, 1)
        guard (1 ... 3).contains(version) else { throw HDF5Error("has an attribute message of unknown version \(version); the file is corrupt") }
        let nameSize = try u(p + 2, 2), typeSize = try u(p + 4, 2), spaceSize = try u(p + 6, 2)
        func padded(_ n: Int) -> Int { version == 1 ? (n + 7) / 8 * 8 : n }
        var q = p + (version == 3 ? 9 : 8)
        guard nameSize <= limits.maxNameBytes, q + padded(nameSize) + padded(typeSize) + padded(spaceSize) <= body.upperBound else {
            throw HDF5Error("has an attribute message longer than its header says; the file is corrupt")
        }
        let name = try text(q ..< q + nameSize)
        q += padded(nameSize)
        let type = try datatype(q ..< q + typeSize)
        q += padded(typeSize)
        var null = false
        let shape = try dataspace(q ..< q + spaceSize, null: &null)
        q += padded(spaceSize)
        return HDF5RawAttribute(name: name, shape: null ? [0] : shape, type: type, data: q ..< body.upperBound)
    }

    /// Elements in a shape, or an error when the product overflows.
    func elements(_ shape: [Int], _ what: String) throws -> Int {
        guard let n = checkedProduct(shape) else { throw HDF5Error("has \(what) of shape \(shape), whose size overflows; the file is corrupt or hostile") }
        return n
    }

    /// An attribute's value.
    mutating func attributeValue(_ a: HDF5RawAttribute, of path: String) throws -> HDF5Attribute {
        let what = "attribute \(quoted(a.name)) of \(path.isEmpty ? "the root group" : quoted(path))"
        let n = try elements(a.shape, what)
        let size = a.type.size(offsetSize: offsetSize)
        if case let .other(name, _) = a.type { return .unsupported(name) }
        guard size > 0, n <= a.data.count / size else {
            throw HDF5Error("has \(what) of shape \(a.shape) but only \(a.data.count) bytes of data; the file is corrupt")
        }
        return try values(a.type, at: a.data.lowerBound, count: n, what: what)
    }

    /// `count` elements of `type` starting at `offset`, decoded.
    mutating func values(_ type: HDF5Type, at offset: Int, count n: Int, what: String) throws -> HDF5Attribute {
        switch type {
        case .int, .float:
            let (floats, ints) = try numbers(type, at: offset, count: n, what: what)
            return ints.map { .ints($0) } ?? .floats(floats)
        case let .string(size):
            try spend(n * size + 16 * n, "\(what)")
            return .strings(try (0 ..< n).map { try text(offset + $0 * size ..< offset + ($0 + 1) * size) })
        case .vlenString:
            try spend(16 * n, "\(what)")
            var out: [String] = []
            for i in 0 ..< n {
                let e = offset + i * (8 + offsetSize)
                let length = try u(e, 4)
                guard let collection = try address(e + 4) else { out.append(""); continue }
                out.append(try heapObject(collection, index: try u(e + 4 + offsetSize, 4), length: length, what: what))
                try spend(out[i].utf8.count, "\(what)")
            }
            return .strings(out)
        case let .other(name, _):
            return .unsupported(name)
        }
    }

    /// An object of a global heap collection: the bytes of a variable-length string.
    func heapObject(_ collection: Int, index: Int, length: Int, what: String) throws -> String {
        guard has("GCOL", at: collection) else { throw HDF5Error("points \(what) at offset \(collection), where there is no global heap; the file is corrupt") }
        let size = try u(collection + 8, lengthSize)
        guard size <= bytes.count - collection else { throw HDF5Error("has a global heap past the end of the file; the file is truncated") }
        var p = collection + 8 + lengthSize, objects = 0
        while p + 8 + lengthSize <= collection + size {
            let i = try u(p, 2), objectSize = try u(p + 8, lengthSize)
            if i == 0 { break }                                    // free space: the end of the objects
            let data = p + 8 + lengthSize
            guard objectSize <= collection + size - data else { throw HDF5Error("has a global heap object past its collection; the file is corrupt") }
            if i == index {
                guard length <= objectSize else { throw HDF5Error("has \(what) longer than its heap object; the file is corrupt") }
                return try text(data ..< data + length)
            }
            p = data + (objectSize + 7) / 8 * 8
            objects += 1
            guard objects <= limits.maxMessages else { break }
        }
        throw HDF5Error("points \(what) at heap object \(index), which its collection does not hold; the file is corrupt")
    }

    /// Numbers of the file as Float32, and as Int for integer types.
    mutating func numbers(_ type: HDF5Type, at offset: Int, count n: Int, what: String) throws -> ([Float], [Int]?) {
        let size = type.size(offsetSize: offsetSize)
        guard offset >= 0, offset <= bytes.count, n <= (bytes.count - offset) / max(size, 1) else {
            throw HDF5Error("has \(what) past the end of the file; the file is truncated")
        }
        try spend((type.isInteger ? 12 : 4) * n, what)
        return Self.decode(type, bytes, offset, n)
    }

    /// `n` numbers of `type` from `b` at `offset` (the caller has checked the bounds).
    static func decode(_ type: HDF5Type, _ b: UnsafeRawBufferPointer, _ offset: Int, _ n: Int) -> ([Float], [Int]?) {
        switch type {
        case let .float(s, big):
            return ((0 ..< n).map { i -> Float in
                let raw = big ? b.be(offset + i * s, s) : b.le(offset + i * s, s)
                switch s {
                case 2: return floatFromHalfBits(UInt16(raw))
                case 4: return Float(bitPattern: UInt32(raw))
                default: return Float(Double(bitPattern: raw))
                }
            }, nil)
        case let .int(s, signed, big):
            let ints = (0 ..< n).map { i -> Int in
                let raw = big ? b.be(offset + i * s, s) : b.le(offset + i * s, s)
                if signed { let shift = UInt64(64 - 8 * s); return Int(Int64(bitPattern: raw << shift) >> Int64(shift)) }
                return Int(clamping: raw)
            }
            return (ints.map { Float($0) }, ints)
        default:
            return ([], nil)
        }
    }

    // MARK: Datasets

    /// A dataset's values, read from its layout.
    mutating func dataset(_ header: HDF5Header, layout: HDF5Layout, path: String) throws -> HDF5Dataset {
        let what = "dataset \(quoted(path))"
        guard let type = header.datatype, let shape = header.nullSpace ? [0] : header.dataspace else {
            throw HDF5Error("has \(what) without a datatype or dataspace; the file is corrupt")
        }
        switch type {
        case .int, .float: break
        default: throw HDF5Error("has \(what) of type \(type.name); ConvLens reads numeric datasets")
        }
        let n = try elements(shape, what), size = type.size(offsetSize: offsetSize)
        let (total, overflow) = n.multipliedReportingOverflow(by: size)
        guard !overflow else { throw HDF5Error("has \(what) of shape \(shape), whose size overflows; the file is corrupt or hostile") }
        let offset: Int
        switch layout {
        case let .compact(range):
            guard range.count >= total else { throw HDF5Error("has \(what) of shape \(shape) but \(range.count) bytes of compact data; the file is corrupt") }
            offset = range.lowerBound
        case let .contiguous(address, stored):
            guard let address else {                                // never written: the fill value, zero
                try spend(4 * n, what)
                return HDF5Dataset(shape: shape, elementType: type.name, floats: [Float](repeating: 0, count: n),
                                   ints: type.isInteger ? [Int](repeating: 0, count: n) : nil)
            }
            guard stored >= total, address <= bytes.count - total else {
                throw HDF5Error("has \(what) of shape \(shape) (\(byteCount(total))) past the end of the file; the file is truncated")
            }
            offset = address
        case let .chunked(btree, chunk):
            let data = try chunks(btree, chunk: chunk, shape: shape, elementSize: size, filters: header.filters, what: what)
            try spend((type.isInteger ? 12 : 4) * n, what)
            let (floats, ints) = data.withUnsafeBytes { Self.decode(type, $0, 0, n) }
            return HDF5Dataset(shape: shape, elementType: type.name, floats: floats, ints: ints)
        }
        let (floats, ints) = try numbers(type, at: offset, count: n, what: what)
        return HDF5Dataset(shape: shape, elementType: type.name, floats: floats, ints: ints)
    }

    /// A chunked dataset's bytes, assembled from the chunks its B-tree lists (each inflated if deflated).
    mutating func chunks(_ btree: Int?, chunk: [Int], shape: [Int], elementSize: Int, filters: [(id: Int, values: [Int])],
                         what: String) throws -> [UInt8] {
        let rank = shape.count
        guard chunk.count == rank + 1, chunk[rank] == elementSize else {
            throw HDF5Error("has \(what) whose chunk shape \(chunk) does not fit its shape \(shape); the file is corrupt")
        }
        for f in filters where f.id != 1 && f.id != 2 {
            throw HDF5Error("compresses \(what) with HDF5 filter \(f.id); ConvLens reads raw, gzip and shuffled data")
        }
        let total = try elements(shape, what) * elementSize
        try spend(total, what)
        var out = [UInt8](repeating: 0, count: total)
        guard let btree else { return out }
        let chunkBytes = try elements(Array(chunk), what)
        var stack = [btree], seen = Set<Int>()
        while let node = stack.popLast() {
            guard seen.insert(node).inserted, seen.count <= limits.maxMessages else {
                throw HDF5Error("has a chunk B-tree for \(what) that loops or is too large; the file is corrupt")
            }
            guard has("TREE", at: node), try u(node + 4, 1) == 1 else { throw HDF5Error("has no chunk B-tree node at offset \(node) for \(what); the file is corrupt") }
            let level = try u(node + 5, 1), entries = try u(node + 6, 2)
            let keySize = 8 + 8 * (rank + 1), first = node + 8 + 2 * offsetSize
            guard entries <= (bytes.count - first) / (keySize + offsetSize) else { throw HDF5Error("has a chunk B-tree node past the end of the file for \(what); the file is truncated") }
            for i in (0 ..< entries).reversed() {
                let key = first + i * (keySize + offsetSize)
                let child = try required(key + keySize, "a chunk of \(what)")
                if level > 0 { stack.append(child); continue }
                let stored = try u(key, 4), mask = try u(key + 4, 4)
                let origin = try (0 ..< rank).map { try u(key + 8 + 8 * $0, 8) }
                guard stored <= bytes.count - child else { throw HDF5Error("has a chunk of \(what) past the end of the file; the file is truncated") }
                try spend(chunkBytes, "the chunks of \(what)")       // every chunk decoded counts, so shared chunks cannot multiply work
                var data = Array(UnsafeRawBufferPointer(rebasing: bytes[child ..< child + stored]))
                for f in filters.indices.reversed() where mask & (1 << f) == 0 {
                    data = filters[f].id == 1 ? try inflate(data, size: chunkBytes, what: what) : unshuffle(data, elementSize)
                }
                guard data.count == chunkBytes else { throw HDF5Error("has a chunk of \(what) of \(data.count) bytes instead of \(chunkBytes); the file is corrupt") }
                try place(data, origin: origin, chunk: Array(chunk.prefix(rank)), shape: shape, elementSize: elementSize, into: &out, what: what)
            }
        }
        return out
    }

    /// Copies one chunk into the dataset's row-major bytes, clipping it at the dataset's edges.
    func place(_ data: [UInt8], origin: [Int], chunk: [Int], shape: [Int], elementSize: Int, into out: inout [UInt8], what: String) throws {
        let rank = shape.count
        for a in 0 ..< rank where origin[a] >= shape[a] || origin[a] % chunk[a] != 0 {
            throw HDF5Error("has a chunk of \(what) at \(origin), outside its shape \(shape); the file is corrupt")
        }
        if rank == 0 { out.replaceSubrange(0 ..< elementSize, with: data.prefix(elementSize)); return }
        // Rows along the last axis, one per index of the other axes inside the chunk.
        let row = min(chunk[rank - 1], shape[rank - 1] - origin[rank - 1]) * elementSize
        var index = [Int](repeating: 0, count: rank - 1)
        while true {
            if zip(index, origin).enumerated().allSatisfy({ a, p in p.0 + p.1 < shape[a] }) {
                var src = 0, dst = 0
                for a in 0 ..< rank - 1 {
                    src = src * chunk[a] + index[a]
                    dst = dst * shape[a] + origin[a] + index[a]
                }
                src = src * chunk[rank - 1] * elementSize
                dst = (dst * shape[rank - 1] + origin[rank - 1]) * elementSize
                out.replaceSubrange(dst ..< dst + row, with: data[src ..< src + row])
            }
            var a = rank - 2
            while a >= 0 {
                index[a] += 1
                if index[a] < chunk[a] { break }
                index[a] = 0
                a -= 1
            }
            if a < 0 { break }
        }
    }

    /// Inflates a zlib stream (HDF5's deflate filter) into at most `size` bytes.
    func inflate(_ data: [UInt8], size: Int, what: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size + 1)
        var length = uLongf(out.count)
        let status = data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in uncompress(dst.baseAddress, &length, src.baseAddress, uLong(src.count)) }
        }
        guard status == Z_OK, Int(length) <= size else {
            throw HDF5Error("has a deflated chunk of \(what) that does not inflate to its \(size) bytes (zlib status \(status)); the file is corrupt")
        }
        return Array(out.prefix(Int(length)))
    }

    /// Undoes HDF5's shuffle filter: byte k of every element was stored together.
    func unshuffle(_ data: [UInt8], _ elementSize: Int) -> [UInt8] {
        let n = data.count / elementSize
        guard elementSize > 1, n > 1 else { return data }
        var out = data
        for b in 0 ..< elementSize { for i in 0 ..< n { out[i * elementSize + b] = data[b * n + i] } }
        return out
    }
}

extension UnsafeRawBufferPointer {
    /// The unsigned big-endian integer of `width` bytes at `offset`; the caller has checked the bounds.
    @inline(__always) func be(_ offset: Int, _ width: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0 ..< width { v = v << 8 | UInt64(self[offset + i]) }
        return v
    }
}
