// A restricted unpickler: it reads the opcodes numpy and torch pickles use and builds only numpy arrays, torch
// tensors and plain containers. It never imports or calls anything; see Pickle+Globals.swift for what a GLOBAL may
// name.
//
// Values never nest in Swift: containers live in `Unpickler.heap` and values refer to them by index. Deep or cyclic
// pickles therefore cannot overflow the stack in the parser, in deinit, or in printing; nesting is still bounded
// by `Limits.maxDepth` because the readers that walk the result recurse.

/// A value on the unpickler's stack.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// A LONG wider than 64 bits, little-endian two's complement (torch's legacy magic number is one).
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    /// A bytes object: a range of the unpickler's input, not copied.
    case bytes(Range<Int>)
    /// A container or object: an index into `Unpickler.heap`.
    case object(Int)
}

/// A key of a pickled dict, for replacing on a repeated SETITEM.
enum PickleDictKey: Hashable {
    case string(String), int(Int)
}

/// A pickled dict (or OrderedDict) in insertion order.
struct PickleDict {
    var keys: [PickleValue] = []
    var values: [PickleValue] = []
    var index: [PickleDictKey: Int] = [:]

    /// Sets `key` to `value`, replacing an earlier entry with an equal string or int key.
    mutating func set(_ key: PickleValue, _ value: PickleValue) {
        let hashable: PickleDictKey?
        switch key {
        case .string(let s): hashable = .string(s)
        case .int(let i): hashable = .int(i)
        default: hashable = nil
        }
        if let hashable, let i = index[hashable] { values[i] = value; return }
        if let hashable { index[hashable] = keys.count }
        keys.append(key)
        values.append(value)
    }

    /// The value under a string key.
    subscript(key: String) -> PickleValue? {
        index[.string(key)].map { values[$0] }
    }
}

/// What a heap slot holds.
enum PickleObject {
    case tuple([PickleValue])
    case list([PickleValue])
    case dict(PickleDict)
    /// A whitelisted function or class named by GLOBAL, not yet called.
    case global(PickleGlobal)
    case dtype(NumpyDType)
    case ndarray(NumpyArray)
    case storage(TorchStorageRef)
    case tensor(TorchTensorRef)
    /// A slot whose contents are being mutated (taken out so the mutation does not copy).
    case moved
}

/// The restricted unpickler. One instance reads one pickle from `data`, starting at an offset, so that the several
/// pickles of a torch legacy file can be read from one buffer. It borrows `data`: use it only while the buffer lives.
final class Unpickler {
    let data: UnsafeRawBufferPointer
    let file: String
    let limits: Limits
    /// Containers and objects, addressed by `PickleValue.object`.
    var heap: [PickleObject] = []
    /// The nesting depth of each heap object (1 for an empty container).
    var depth: [Int] = []
    var stack: [PickleValue] = []
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]
    /// The offset of the opcode being run, for messages.
    var opOffset = 0
    /// What this unpickler, and any other reading the same file, may still spend.
    let budget: PickleBudget

    /// Makes an unpickler over `data`.
    /// - Parameters:
    ///   - data: the bytes holding the pickle (a whole file is fine; `.bytes` values point into it).
    ///   - file: the file's name for messages.
    ///   - limits: depth, stack and memo bounds, and the ceilings of the budget.
    ///   - budget: the file's budget, when several unpicklers read one file or `data` is not the whole file; by
    ///     default one for a file of `data.count` bytes.
    init(data: UnsafeRawBufferPointer, file: String, limits: Limits, budget: PickleBudget? = nil) {
        self.data = data
        self.file = file
        self.limits = limits
        self.budget = budget ?? PickleBudget(file: file, fileBytes: data.count, limits: limits)
    }

    /// Charges the budget for memory about to be kept and values about to be made or copied.
    func charge(bytes: Int = 0, operations: Int) throws {
        try budget.charge(bytes: bytes, operations: operations, offset: opOffset)
    }

    /// Reads one pickle starting at `start`.
    /// - Parameters:
    ///   - start: the offset of the pickle's first opcode in `data`.
    /// - Returns: the pickled value and the offset just past its STOP opcode.
    func load(from start: Int = 0) throws -> (value: PickleValue, end: Int) {
        stack = []
        marks = []
        memo = [:]
        return try run(data, from: start)
    }

    /// An error naming the file and the opcode's offset.
    func error(_ message: String, hint: String? = nil) -> TensorFileError {
        TensorFileError(file: file, "\(message) (pickle offset \(opOffset))", hint: hint)
    }

    /// Adds an object to the heap, charging the budget for it.
    /// - Parameters:
    ///   - object: the object.
    ///   - depth: its nesting depth; more than `limits.maxDepth` is an error.
    func make(_ object: PickleObject, depth d: Int = 1) throws -> PickleValue {
        guard d <= limits.maxDepth else {
            throw error("pickle nests containers more than \(limits.maxDepth) deep; the file is corrupt or hostile")
        }
        try charge(bytes: object.size, operations: object.count)
        heap.append(object)
        depth.append(d)
        return .object(heap.count - 1)
    }

    /// The nesting depth of a value: 0 for a scalar.
    func depthOf(_ v: PickleValue) -> Int {
        if case .object(let i) = v { return depth[i] }
        return 0
    }

    func push(_ v: PickleValue) throws {
        guard stack.count < limits.maxStackSize else {
            throw error("pickle stack grows past \(limits.maxStackSize) values; the file is corrupt or hostile")
        }
        stack.append(v)
    }

    func pop() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let v = stack.popLast() else {
            throw error("pickle pops from an empty stack; the file is corrupt")
        }
        return v
    }

    /// Pops everything above the topmost MARK.
    func popMark() throws -> [PickleValue] {
        guard let m = marks.last else { throw error("pickle uses a MARK it never set; the file is corrupt") }
        try charge(operations: stack.count - m)
        marks.removeLast()
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    /// Takes heap object `i` out for mutation; put it back with `heap[i] = ...`.
    func take(_ v: PickleValue, _ what: String) throws -> (Int, PickleObject) {
        guard case .object(let i) = v else { throw error("pickle applies \(what) to a \(describe(v))") }
        let object = heap[i]
        heap[i] = .moved
        return (i, object)
    }

    /// A short description of a value for messages: "string 'abc'", "list", "numpy array".
    func describe(_ v: PickleValue) -> String {
        switch v {
        case .none: return "None"
        case .bool(let b): return "bool \(b ? "True" : "False")"
        case .int(let i): return "int \(i)"
        case .bigInt(let b): return "long integer 0x" + b.prefix(16).reversed().map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        case .float(let f): return "float \(f)"
        case .string(let s): return "string '\(s.prefix(40))'"
        case .bytes(let r): return "bytes of length \(r.count)"
        case .object(let i):
            switch heap[i] {
            case .tuple: return "tuple"
            case .list: return "list"
            case .dict: return "dict"
            case .global(let g): return "\(g)"
            case .dtype: return "numpy dtype"
            case .ndarray: return "numpy array"
            case .storage: return "torch storage"
            case .tensor: return "torch tensor"
            case .moved: return "object under construction"
            }
        }
    }

    /// The items of a tuple (or list) value, or nil.
    func items(_ v: PickleValue) -> [PickleValue]? {
        guard case .object(let i) = v else { return nil }
        switch heap[i] {
        case .tuple(let items), .list(let items): return items
        default: return nil
        }
    }

    /// The dict a value refers to, or nil.
    func dict(_ v: PickleValue) -> PickleDict? {
        guard case .object(let i) = v, case .dict(let d) = heap[i] else { return nil }
        return d
    }

    /// Ints of a tuple value (shapes, strides), or nil; the copy is charged to the budget.
    func ints(_ v: PickleValue) throws -> [Int]? {
        guard let items = items(v) else { return nil }
        try charge(bytes: items.count * MemoryLayout<Int>.stride, operations: items.count)
        var out: [Int] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard case .int(let n) = item else { return nil }
            out.append(n)
        }
        return out
    }
}
