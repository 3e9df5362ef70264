// An HDF5 file as plain Swift values: the subset that h5py writes for Keras (superblock 0, 2 and 3; object headers 1
// and 2; symbol-table groups and link messages; contiguous, compact and chunked datasets, raw or deflated; numbers,
// fixed and variable-length strings), read by hand from the mapped file with every address, size and count checked
// before use (HDF5File+Format.swift, HDF5File+Data.swift). See the README's "HDF5" section for why not libhdf5.

import Support

/// An HDF5 file read whole: every dataset's values and every object's attributes, by path ("layers/conv2d/vars/0",
/// "" for the root group).
public struct HDF5File: Sendable {
    /// Datasets by path.
    public var datasets: [String: HDF5Dataset] = [:]
    /// Attributes by object path, then by name.
    public var attributes: [String: [String: HDF5Attribute]] = [:]
    /// Each group's members (datasets and groups), by group path, in link order (by name for old-style groups).
    public var groups: [String: [String]] = [:]

    public init() {}

    /// Reads an HDF5 file.
    /// - Parameters:
    ///   - path: the file.
    public static func load(_ path: String) throws -> HDF5File {
        try FileBytes.withContents(path) { try parse($0, source: path) }
    }

    /// Parses an HDF5 file held in memory.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - source: the file's name for messages.
    ///   - limits: bounds on nesting, counts and the memory the values may take.
    public static func parse(_ bytes: UnsafeRawBufferPointer, source: String, limits: HDF5Limits = .default) throws -> HDF5File {
        var reader = HDF5Reader(bytes: bytes, source: source, limits: limits)
        return try reader.read()
    }

    /// The attribute `name` of the object at `path`.
    public func attribute(_ path: String, _ name: String) -> HDF5Attribute? { attributes[path]?[name] }
}

/// A dataset's shape and values.
public struct HDF5Dataset: Sendable, Equatable {
    /// The dimensions, outermost first; [] for a scalar.
    public var shape: [Int]
    /// The stored element type: "float16", "float32", "float64", "int8" ... "uint64", "string".
    public var elementType: String
    /// Numeric values as Float32, row-major. // (product(shape),)
    public var floats: [Float]
    /// Integer values, for integer datasets. // (product(shape),)
    public var ints: [Int]?

    public init(shape: [Int], elementType: String, floats: [Float], ints: [Int]? = nil) {
        self.shape = shape
        self.elementType = elementType
        self.floats = floats
        self.ints = ints
    }
}

/// An attribute's value: text, numbers, or a type this reader keeps by name only.
public enum HDF5Attribute: Sendable, Equatable {
    /// Fixed- or variable-length strings (a scalar string is one element).
    case strings([String])
    case floats([Float])
    case ints([Int])
    /// A type the reader does not decode (compound, enum, reference, ...), by its HDF5 class name.
    case unsupported(String)

    /// The text of a string attribute: one string, or the elements of a string array.
    public var strings: [String]? { if case let .strings(s) = self { s } else { nil } }
    /// Whether the attribute holds no elements (h5py writes an empty list as an empty float64 array).
    public var isEmpty: Bool {
        switch self {
        case let .strings(s): s.isEmpty
        case let .floats(f): f.isEmpty
        case let .ints(i): i.isEmpty
        case .unsupported: false
        }
    }
}

/// Bounds on what the HDF5 reader accepts, so a hostile file gives an error instead of exhausting memory or time.
public struct HDF5Limits: Sendable {
    /// Deepest group nesting.
    public var maxDepth = 64
    /// Most objects (groups and datasets), links and attributes in one file, in all.
    public var maxObjects = 1 << 20
    /// Most header messages in one object (with its continuation blocks), and B-tree nodes per tree.
    public var maxMessages = 1 << 16
    /// Highest rank of a dataset or attribute.
    public var maxRank = 32
    /// Longest name, in bytes.
    public var maxNameBytes = 1 << 16
    /// Memory the decoded values may take (as Float32 and string bytes), per byte of file, above `budgetFloor`.
    public var budgetFactor = 32
    /// What every file may take, however small.
    public var budgetFloor = 1 << 28

    public init() {}
    public static let `default` = HDF5Limits()
}

/// Why a file could not be read, without the file's name (the caller adds it).
struct HDF5Error: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Walks the file from the root group, reading every object once.
struct HDF5Reader {
    let bytes: UnsafeRawBufferPointer
    let source: String
    let limits: HDF5Limits
    /// Sizes of addresses and lengths (2, 4 or 8 bytes), and the base every address is relative to.
    var offsetSize = 8, lengthSize = 8, base = 0
    /// What decoding has spent, in bytes, and may spend.
    var spent = 0
    let budget: Int
    /// Objects counted against `maxObjects`.
    var objects = 0
    var file = HDF5File()

    init(bytes: UnsafeRawBufferPointer, source: String, limits: HDF5Limits) {
        self.bytes = bytes
        self.source = source
        self.limits = limits
        let (scaled, overflow) = bytes.count.multipliedReportingOverflow(by: max(limits.budgetFactor, 0))
        budget = overflow ? .max : max(scaled, limits.budgetFloor)
    }

    /// Reads the superblock, then every group and dataset reachable from the root.
    mutating func read() throws -> HDF5File {
        do {
            let root = try superblock()
            try walk(root: root)
            return file
        } catch let e as HDF5Error {
            throw TensorFileError(file: source, e.message)
        }
    }

    /// Takes `bytes` out of the decoding budget before they are allocated.
    mutating func spend(_ n: Int, _ what: @autoclosure () -> String) throws {
        let (total, overflow) = spent.addingReportingOverflow(n)
        guard n >= 0, !overflow, total <= budget else {
            throw HDF5Error("\(what()) would take the decoded file past \(byteCount(budget)), too much for a file of "
                + "\(byteCount(bytes.count)); the file is corrupt or hostile")
        }
        spent = total
    }

    /// Counts one more object, link or attribute.
    mutating func count(_ what: @autoclosure () -> String) throws {
        objects += 1
        guard objects <= limits.maxObjects else {
            throw HDF5Error("has more than \(limits.maxObjects) objects, links and attributes (at \(what())); the file is corrupt or hostile")
        }
    }

    /// Visits the groups breadth-first from the root; an object reached twice (a hard link, a cycle) is read once
    /// and its datasets listed under each path.
    mutating func walk(root: Int) throws {
        var queue: [(path: String, address: Int, depth: Int)] = [("", root, 0)], head = 0
        var seen: [Int: String] = [:]                          // object header address → first path
        while head < queue.count {
            let (path, address, depth) = queue[head]
            head += 1
            if let first = seen[address] {
                // The same object under another name: share a dataset's values, but never walk a group twice.
                if let d = file.datasets[first] { file.datasets[path] = d }
                continue
            }
            seen[address] = path
            let header = try objectHeader(address, what: path.isEmpty ? "the root group" : "\(quoted(path))")
            var attributes: [String: HDF5Attribute] = [:]
            for a in header.attributes {
                try count("attribute '\(a.name)' of \(quoted(path))")
                attributes[a.name] = try attributeValue(a, of: path)
            }
            if !attributes.isEmpty { file.attributes[path] = attributes }
            if let layout = header.layout {
                file.datasets[path] = try dataset(header, layout: layout, path: path)
                continue
            }
            let links = try groupLinks(header, path: path)
            guard links.isEmpty || depth < limits.maxDepth else {
                throw HDF5Error("nests groups more than \(limits.maxDepth) deep at \(quoted(path)); the file is corrupt or hostile")
            }
            file.groups[path] = links.map(\.name)
            for link in links {
                try count("'\(path)/\(link.name)'")
                queue.append((path.isEmpty ? link.name : path + "/" + link.name, link.address, depth + 1))
            }
        }
    }
}
