// HDF5's containers: the superblock, object headers (versions 1 and 2, with continuation blocks), and the two kinds
// of group: old-style symbol tables (a version-1 B-tree of symbol nodes naming entries in a local heap) and new-style
// link messages in the header. Layout as in the HDF5 File Format Specification 3.0, sections II–IV.

/// What an object header says, as far as the reader needs it.
struct HDF5Header {
    var dataspace: [Int]?
    /// A dataspace of class NULL (no elements at all).
    var nullSpace = false
    var datatype: HDF5Type?
    var layout: HDF5Layout?
    var filters: [(id: Int, values: [Int])] = []
    var attributes: [HDF5RawAttribute] = []
    /// Old-style group: B-tree and local heap addresses.
    var symbolTable: (btree: Int, heap: Int)?
    /// New-style group: its links in header order.
    var links: [(name: String, address: Int)] = []
}

/// An attribute before its value is decoded: the offset and length of its data in the file.
struct HDF5RawAttribute {
    let name: String
    let shape: [Int]
    let type: HDF5Type
    let data: Range<Int>
}

extension HDF5Reader {
    // MARK: Bytes

    /// The little-endian unsigned integer of `width` bytes at `offset`, bounds-checked.
    func u(_ offset: Int, _ width: Int) throws -> Int {
        guard offset >= 0, width >= 0, offset <= bytes.count - width else {
            throw HDF5Error("needs \(width) bytes at offset \(offset), past the end of the file (\(bytes.count) bytes); the file is truncated")
        }
        let v = bytes.le(offset, width)
        guard v <= UInt64(Int.max) else { throw HDF5Error("has a size or address too large at offset \(offset); the file is corrupt") }
        return Int(v)
    }

    /// An address field at `offset`: nil for HDF5's undefined address (all bits set); else the absolute offset.
    func address(_ offset: Int) throws -> Int? {
        guard offset >= 0, offset <= bytes.count - offsetSize else {
            throw HDF5Error("needs an address at offset \(offset), past the end of the file; the file is truncated")
        }
        let raw = bytes.le(offset, offsetSize)
        if raw == (offsetSize == 8 ? UInt64.max : (1 << (8 * UInt64(offsetSize))) - 1) { return nil }
        guard raw <= UInt64(Int.max - base) else { throw HDF5Error("has an address past any file at offset \(offset); the file is corrupt") }
        return Int(raw) + base
    }

    /// An address that must be defined and lie inside the file with `size` bytes after it.
    func required(_ offset: Int, size: Int = 1, _ what: String) throws -> Int {
        guard let a = try address(offset) else { throw HDF5Error("has no address for \(what); the file is corrupt") }
        guard a <= bytes.count - size else {
            throw HDF5Error("points past the end of the file for \(what) (offset \(a) of \(bytes.count) bytes); the file is truncated")
        }
        return a
    }

    /// Whether the 4 bytes at `offset` are `signature`.
    func has(_ signature: String, at offset: Int) -> Bool {
        let s = Array(signature.utf8)
        guard offset >= 0, offset <= bytes.count - s.count else { return false }
        return s.indices.allSatisfy { bytes[offset + $0] == s[$0] }
    }

    /// The bytes of a range as UTF-8 text, up to the first NUL.
    func text(_ range: Range<Int>) throws -> String {
        guard range.lowerBound >= 0, range.upperBound <= bytes.count else { throw HDF5Error("has a name past the end of the file; the file is truncated") }
        let end = (range.lowerBound ..< range.upperBound).first { bytes[$0] == 0 } ?? range.upperBound
        return String(decoding: bytes[range.lowerBound ..< end], as: UTF8.self)
    }

    // MARK: Superblock

    /// Finds the superblock (at 0, 512, 1024, ...), reads the sizes it sets, and returns the root group's address.
    mutating func superblock() throws -> Int {
        var at = 0
        while at > bytes.count - 8 || bytes.le(at, 8) != 0x0A1A_0A0D_4644_4889 {   // "\x89HDF\r\n\x1a\n"
            at = at == 0 ? 512 : at * 2
            guard at <= bytes.count - 8 else {
                throw HDF5Error("is not an HDF5 file (no superblock signature)" + (bytes.count < 8 ? "; the file is truncated" : ""))
            }
        }
        let version = try u(at + 8, 1)
        switch version {
        case 0, 1:
            offsetSize = try u(at + 13, 1)
            lengthSize = try u(at + 14, 1)
            try checkSizes()
            let fields = at + (version == 0 ? 24 : 28)             // version 1 adds the indexed-storage K and 2 reserved bytes
            base = try u(fields, offsetSize)
            guard base <= bytes.count else { throw HDF5Error("has a base address past its end; the file is corrupt") }
            let entry = fields + 4 * offsetSize                     // base, free space, end of file, driver info
            return try required(entry + offsetSize, "the root group")
        case 2, 3:
            offsetSize = try u(at + 9, 1)
            lengthSize = try u(at + 10, 1)
            try checkSizes()
            base = try u(at + 12, offsetSize)
            guard base <= bytes.count else { throw HDF5Error("has a base address past its end; the file is corrupt") }
            return try required(at + 12 + 3 * offsetSize, "the root group")
        default:
            throw HDF5Error("has superblock version \(version); ConvLens reads versions 0 to 3 (h5py and Keras write 0, or 3 with libver='latest')")
        }
    }

    func checkSizes() throws {
        guard [2, 4, 8].contains(offsetSize), [2, 4, 8].contains(lengthSize) else {
            throw HDF5Error("declares \(offsetSize)-byte addresses and \(lengthSize)-byte lengths; HDF5 uses 2, 4 or 8; the file is corrupt")
        }
    }

    // MARK: Object headers

    /// Reads an object header (version 1 or 2) and its continuation blocks, keeping the messages the reader uses.
    mutating func objectHeader(_ address: Int, what: String) throws -> HDF5Header {
        var header = HDF5Header()
        var blocks: [Range<Int>] = [], seenBlocks = Set<Int>(), messages = 0
        let v2 = has("OHDR", at: address)
        var flags = 0
        if v2 {
            guard try u(address + 4, 1) == 2 else { throw HDF5Error("has an object header of unknown version at \(what); the file is corrupt") }
            flags = try u(address + 5, 1)
            var p = address + 6
            if flags & 0x20 != 0 { p += 16 }                       // access, modification, change and birth times
            if flags & 0x10 != 0 { p += 4 }                        // attribute storage phase change values
            let width = 1 << (flags & 3)
            let size = try u(p, width)
            p += width
            guard size <= bytes.count - p, size >= 4 else { throw HDF5Error("has an object header past the end of the file at \(what); the file is truncated") }
            blocks.append(p ..< p + size)                         // the messages; the checksum follows
        } else {
            guard try u(address, 1) == 1 else {
                throw HDF5Error("has no object header at offset \(address) (for \(what)); the file is corrupt")
            }
            let size = try u(address + 8, 4)
            guard size <= bytes.count - (address + 16) else { throw HDF5Error("has an object header past the end of the file at \(what); the file is truncated") }
            blocks.append(address + 16 ..< address + 16 + size)
        }
        seenBlocks.insert(address)
        var index = 0
        while index < blocks.count {
            let block = blocks[index]
            index += 1
            var p = block.lowerBound
            let end = v2 ? block.upperBound - (index == 1 ? 0 : 4) : block.upperBound
            let headerBytes = v2 ? 4 + (flags & 4 != 0 ? 2 : 0) : 8
            while p + headerBytes <= end {
                messages += 1
                guard messages <= limits.maxMessages else { throw HDF5Error("has more than \(limits.maxMessages) header messages in \(what); the file is corrupt or hostile") }
                let type = v2 ? try u(p, 1) : try u(p, 2)
                let size = v2 ? try u(p + 1, 2) : try u(p + 2, 2)
                let mflags = v2 ? try u(p + 3, 1) : try u(p + 4, 1)
                let data = p + headerBytes
                guard size <= end - data else { throw HDF5Error("has a header message past its block in \(what); the file is corrupt") }
                let body = data ..< data + size
                p = data + size
                if type == 0x10 {                                  // continuation: another block of messages
                    let at = try required(body.lowerBound, "a header continuation of \(what)")
                    let length = try u(body.lowerBound + offsetSize, lengthSize)
                    guard length <= bytes.count - at, seenBlocks.insert(at).inserted else {
                        throw HDF5Error("has a header continuation past the end of the file or looping back, in \(what); the file is corrupt")
                    }
                    if v2 {
                        guard has("OCHK", at: at), length >= 8 else { throw HDF5Error("has a broken header continuation in \(what); the file is corrupt") }
                        blocks.append(at + 4 ..< at + length)
                    } else {
                        blocks.append(at ..< at + length)
                    }
                    continue
                }
                if mflags & 2 != 0, [1, 3, 8, 0x0B, 0x0C].contains(type) {
                    throw HDF5Error("has a shared (committed) header message of type \(type) in \(what); ConvLens reads files as h5py writes them")
                }
                try message(type, body, into: &header, of: what)
            }
        }
        return header
    }

    /// Decodes one header message into `header`.
    mutating func message(_ type: Int, _ body: Range<Int>, into header: inout HDF5Header, of what: String) throws {
        let p = body.lowerBound
        switch type {
        case 0x01:
            header.dataspace = try dataspace(body, null: &header.nullSpace)
        case 0x03:
            header.datatype = try datatype(body)
        case 0x08:
            header.layout = try layout(body, what: what)
        case 0x0B:
            header.filters = try filterPipeline(body)
        case 0x0C:
            try count("an attribute of \(what)")
            header.attributes.append(try attribute(body))
        case 0x11:
            header.symbolTable = (try required(p, "the B-tree of \(what)"), try required(p + offsetSize, "the local heap of \(what)"))
        case 0x06:
            if let link = try link(body, of: what) { header.links.append(link) }
        case 0x02:                                                 // link info: dense links live in a fractal heap
            let flags = try u(p + 1, 1)
            if try address(p + 2 + (flags & 1 != 0 ? 8 : 0)) != nil {
                throw HDF5Error("stores the links of \(what) in a fractal heap (dense storage, more links than h5py keeps "
                    + "compact with libver='latest'); ConvLens reads compact groups: save with h5py's default libver")
            }
        case 0x15:                                                 // attribute info
            let flags = try u(p + 1, 1)
            if try address(p + 2 + (flags & 1 != 0 ? 2 : 0)) != nil {
                throw HDF5Error("stores the attributes of \(what) in a fractal heap (dense storage, attributes over 64 KB); "
                    + "ConvLens reads attributes kept in the object header, as Keras writes them")
            }
        case 0x07:
            throw HDF5Error("keeps the data of \(what) in external files; ConvLens reads only data inside the file")
        default:
            break                                                  // fill value, times, group info, ...
        }
    }

    // MARK: Groups

    /// A group's hard links, from its symbol table or its link messages.
    mutating func groupLinks(_ header: HDF5Header, path: String) throws -> [(name: String, address: Int)] {
        guard let table = header.symbolTable else { return header.links }
        let what = path.isEmpty ? "the root group" : "group \(quoted(path))"
        guard has("HEAP", at: table.heap) else { throw HDF5Error("has no local heap where \(what) says; the file is corrupt") }
        let heapSize = try u(table.heap + 8, lengthSize)
        let heapData = try required(table.heap + 8 + 2 * lengthSize, size: heapSize, "the names of \(what)")
        var links: [(name: String, address: Int)] = []
        // The B-tree's leaves point at symbol nodes; walk it without recursion, each node once.
        var stack = [table.btree], seen = Set<Int>()
        while let node = stack.popLast() {
            guard seen.insert(node).inserted, seen.count <= limits.maxMessages else {
                throw HDF5Error("has a B-tree for \(what) that loops or is too large; the file is corrupt")
            }
            if has("SNOD", at: node) {
                let n = try u(node + 6, 2)
                let entrySize = 2 * offsetSize + 24
                guard n <= (bytes.count - node - 8) / entrySize else { throw HDF5Error("has a symbol node past the end of the file in \(what); the file is truncated") }
                for i in 0 ..< n {
                    let e = node + 8 + i * entrySize
                    let nameOffset = try u(e, offsetSize)
                    guard nameOffset < heapSize else { throw HDF5Error("names a link of \(what) outside its heap; the file is corrupt") }
                    let limit = min(heapSize - nameOffset, limits.maxNameBytes)
                    let name = try text(heapData + nameOffset ..< heapData + nameOffset + limit)
                    let cache = try u(e + 2 * offsetSize, 4)
                    guard cache != 2 else { continue }                 // a soft link: a path, not an object
                    try checkName(name, in: what)
                    links.append((name, try required(e + offsetSize, "\(quoted(name)) in \(what)")))
                }
                continue
            }
            guard has("TREE", at: node), try u(node + 4, 1) == 0 else {
                throw HDF5Error("has no group B-tree node at offset \(node) for \(what); the file is corrupt")
            }
            let entries = try u(node + 6, 2)
            let keys = node + 8 + 2 * offsetSize
            guard entries <= (bytes.count - keys) / (lengthSize + offsetSize) else { throw HDF5Error("has a B-tree node past the end of the file in \(what); the file is truncated") }
            // Children in reverse, so the stack pops them in order.
            for i in (0 ..< entries).reversed() { stack.append(try required(keys + lengthSize + i * (lengthSize + offsetSize), "a B-tree child of \(what)")) }
        }
        return links
    }

    /// A link message: a hard link's name and address; nil for a soft link; an error for an external link.
    func link(_ body: Range<Int>, of what: String) throws -> (name: String, address: Int)? {
        var p = body.lowerBound
        guard try u(p, 1) == 1 else { throw HDF5Error("has a link message of unknown version in \(what); the file is corrupt") }
        let flags = try u(p + 1, 1)
        p += 2
        var type = 0
        if flags & 0x08 != 0 { type = try u(p, 1); p += 1 }
        if flags & 0x04 != 0 { p += 8 }                            // creation order
        if flags & 0x10 != 0 { p += 1 }                            // name character set
        let width = 1 << (flags & 3)
        let length = try u(p, width)
        p += width
        guard length <= limits.maxNameBytes, length <= body.upperBound - p else { throw HDF5Error("has a link name past its message in \(what); the file is corrupt") }
        let name = try text(p ..< p + length)
        p += length
        switch type {
        case 0:
            try checkName(name, in: what)
            guard p + offsetSize <= body.upperBound else { throw HDF5Error("has a truncated link \(quoted(name)) in \(what); the file is corrupt") }
            return (name, try required(p, "link \(quoted(name)) in \(what)"))
        case 1:
            return nil
        case 64:
            throw HDF5Error("has an external link \(quoted(name)) in \(what), to another file; ConvLens reads only what is inside the file")
        default:
            throw HDF5Error("has a link \(quoted(name)) of user-defined type \(type) in \(what); ConvLens reads hard links only")
        }
    }

    func checkName(_ name: String, in what: String) throws {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw HDF5Error("has a link named \(quoted(name)) in \(what), which no HDF5 writer makes; the file is corrupt")
        }
    }
}
