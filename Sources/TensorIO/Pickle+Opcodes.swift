// The unpickler's opcode loop: protocols 2 to 5 as numpy and torch write them. Every length is checked against
// the bytes that remain before anything is allocated.

extension Unpickler {
    /// Runs opcodes from `start` until STOP.
    /// - Parameters:
    ///   - buf: the whole of `data`.
    ///   - start: the first opcode's offset.
    func run(_ buf: UnsafeRawBufferPointer, from start: Int) throws -> (value: PickleValue, end: Int) {
        var pos = start
        let end = buf.count

        /// Reads an unsigned little-endian integer of `width` bytes.
        func uint(_ width: Int) throws -> UInt64 {
            guard end - pos >= width else { throw truncated(width) }
            var v: UInt64 = 0
            for i in (0 ..< width).reversed() { v = v << 8 | UInt64(buf[pos + i]) }
            pos += width
            return v
        }
        /// Reads a length field and checks that that many bytes remain.
        func length(_ width: Int) throws -> Int {
            let n = try uint(width)
            guard n <= UInt64(end - pos) else {
                throw error("pickle declares \(n) bytes of data but only \(end - pos) remain; the file is truncated or corrupt")
            }
            return Int(n)
        }
        /// Reads `n` bytes as a range of the input.
        func span(_ n: Int) -> Range<Int> { defer { pos += n }; return pos ..< pos + n }
        func text(_ n: Int) -> String { String(decoding: UnsafeRawBufferPointer(rebasing: buf[span(n)]), as: UTF8.self) }
        /// A str of the next `n` bytes, charged to the budget before it is made.
        func string(_ n: Int) throws -> PickleValue {
            try charge(bytes: n, operations: n)
            return .string(text(n))
        }
        /// Reads a newline-terminated name (GLOBAL's module and attribute).
        func line() throws -> String {
            var i = pos
            while i < end && buf[i] != 0x0a && i - pos < 256 { i += 1 }
            guard i < end, buf[i] == 0x0a else { throw error("pickle has a GLOBAL name without an end; the file is corrupt") }
            let s = text(i - pos)
            pos += 1
            return s
        }
        func truncated(_ n: Int) -> TensorFileError {
            error("pickle needs \(n) more bytes but the file ends; the file is truncated")
        }
        func memoIndex(_ width: Int) throws -> Int { Int(try uint(width)) }
        func put(_ index: Int) throws {
            guard let top = stack.last, stack.count > (marks.last ?? 0) else { throw error("pickle memoizes an empty stack") }
            guard memo.count < limits.maxMemoSize || memo[index] != nil else {
                throw error("pickle memo grows past \(limits.maxMemoSize) entries; the file is corrupt or hostile")
            }
            try charge(bytes: 2 * PickleValue.size, operations: 1)  // a key and a value in the memo's table
            memo[index] = top
        }
        func get(_ index: Int) throws {
            guard let v = memo[index] else { throw error("pickle refers to memo entry \(index), which was never stored") }
            try push(v)
        }
        func tuple(_ items: [PickleValue]) throws {
            try push(make(.tuple(items), depth: 1 + (items.map(depthOf).max() ?? 0)))
        }
        func append(_ items: [PickleValue]) throws {
            let target = try pop()
            let (i, object) = try take(target, "APPEND")
            guard case .list(var list) = object else { heap[i] = object; throw error("pickle appends to a \(describe(target))") }
            do { try charge(bytes: items.count * PickleValue.size, operations: items.count) } catch { heap[i] = object; throw error }
            list.append(contentsOf: items)
            heap[i] = .list(list)
            depth[i] = max(depth[i], 1 + (items.map(depthOf).max() ?? 0))
            guard depth[i] <= limits.maxDepth else { throw error("pickle nests lists more than \(limits.maxDepth) deep") }
            try push(target)
        }
        func setItems(_ items: [PickleValue]) throws {
            guard items.count % 2 == 0 else { throw error("pickle sets a dict item without a value") }
            let target = try pop()
            let (i, object) = try take(target, "SETITEM")
            guard case .dict(var d) = object else { heap[i] = object; throw error("pickle sets an item of a \(describe(target))") }
            do { try charge(bytes: items.count / 2 * PickleValue.dictEntrySize, operations: items.count) } catch { heap[i] = object; throw error }
            for k in stride(from: 0, to: items.count, by: 2) { d.set(items[k], items[k + 1]) }
            heap[i] = .dict(d)
            depth[i] = max(depth[i], 1 + (items.map(depthOf).max() ?? 0))
            guard depth[i] <= limits.maxDepth else { throw error("pickle nests dicts more than \(limits.maxDepth) deep") }
            try push(target)
        }

        while true {
            guard pos < end else { throw error("pickle ends without a STOP opcode; the file is truncated") }
            opOffset = pos
            try charge(operations: 1)
            let op = buf[pos]
            pos += 1
            switch op {
            case 0x80:  // PROTO
                let p = try uint(1)
                guard p <= 5 else { throw error("pickle protocol \(p) is newer than 5; the file is corrupt") }
            case 0x95: _ = try length(8)  // FRAME: a framing hint; the frame's opcodes follow inline
            case 0x2e:  // STOP
                let v = try pop()
                return (v, pos)
            case 0x28:  // MARK
                guard marks.count < limits.maxDepth else {
                    throw error("pickle nests MARKs more than \(limits.maxDepth) deep; the file is corrupt or hostile")
                }
                marks.append(stack.count)
            case 0x4e: try push(.none)  // NONE
            case 0x88: try push(.bool(true))  // NEWTRUE
            case 0x89: try push(.bool(false))  // NEWFALSE
            case 0x4a: try push(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))  // BININT
            case 0x4b: try push(.int(Int(try uint(1))))  // BININT1
            case 0x4d: try push(.int(Int(try uint(2))))  // BININT2
            case 0x8a, 0x8b:  // LONG1, LONG4
                let r = span(try length(op == 0x8a ? 1 : 4))
                if r.count <= 8 {
                    var v: UInt64 = 0
                    for i in r.reversed() { v = v << 8 | UInt64(buf[i]) }
                    if !r.isEmpty && r.count < 8 && buf[r.upperBound - 1] & 0x80 != 0 { v |= ~0 << (8 * UInt64(r.count)) }
                    try push(.int(Int(Int64(bitPattern: v))))
                } else {
                    try charge(bytes: r.count, operations: r.count)
                    try push(.bigInt(Array(buf[r])))
                }
            case 0x47:  // BINFLOAT, big-endian
                let bits = try uint(8).byteSwapped
                try push(.float(Double(bitPattern: bits)))
            case 0x58: try push(string(try length(4)))  // BINUNICODE
            case 0x8c: try push(string(try length(1)))  // SHORT_BINUNICODE
            case 0x8d: try push(string(try length(8)))  // BINUNICODE8
            case 0x54: try push(string(try length(4)))  // BINSTRING (Python 2 str)
            case 0x55: try push(string(try length(1)))  // SHORT_BINSTRING
            case 0x42: try push(.bytes(span(try length(4))))  // BINBYTES
            case 0x43: try push(.bytes(span(try length(1))))  // SHORT_BINBYTES
            case 0x8e, 0x96: try push(.bytes(span(try length(8))))  // BINBYTES8, BYTEARRAY8
            case 0x29: try tuple([])  // EMPTY_TUPLE
            case 0x85: try tuple([try pop()])  // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); try tuple([a, b])  // TUPLE2
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); try tuple([a, b, c])  // TUPLE3
            case 0x74: try tuple(try popMark())  // TUPLE
            case 0x5d: try push(make(.list([])))  // EMPTY_LIST
            case 0x7d: try push(make(.dict(PickleDict())))  // EMPTY_DICT
            case 0x6c:  // LIST
                let items = try popMark()
                try push(make(.list(items), depth: 1 + (items.map(depthOf).max() ?? 0)))
            case 0x64:  // DICT
                let items = try popMark()
                try push(make(.dict(PickleDict())))
                try setItems(items)
            case 0x61: try append([try pop()])  // APPEND
            case 0x65: try append(try popMark())  // APPENDS
            case 0x73: let v = try pop(), k = try pop(); try setItems([k, v])  // SETITEM
            case 0x75: try setItems(try popMark())  // SETITEMS
            case 0x71: try put(try memoIndex(1))  // BINPUT
            case 0x72: try put(try memoIndex(4))  // LONG_BINPUT
            case 0x94: try put(memo.count)  // MEMOIZE
            case 0x68: try get(try memoIndex(1))  // BINGET
            case 0x6a: try get(try memoIndex(4))  // LONG_BINGET
            case 0x30:  // POP
                if let m = marks.last, m == stack.count { marks.removeLast() } else { _ = try pop() }
            case 0x31: _ = try popMark()  // POP_MARK
            case 0x32: let v = try pop(); try push(v); try push(v)  // DUP
            case 0x63:  // GLOBAL
                let module = try line(), name = try line()
                try push(try global(module: module, name: name))
            case 0x93:  // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard case .string(let n) = name, case .string(let m) = module else {
                    throw error("pickle's STACK_GLOBAL names are not strings; the file is corrupt")
                }
                try push(try global(module: m, name: n))
            case 0x52, 0x81:  // REDUCE, NEWOBJ
                let args = try pop(), callable = try pop()
                try push(try call(callable, args))
            case 0x62:  // BUILD
                let state = try pop()
                guard let target = stack.last, stack.count > (marks.last ?? 0) else { throw error("pickle BUILDs on an empty stack") }
                try build(target, state)
            case 0x51: try push(try persistentLoad(try pop()))  // BINPERSID
            default:
                let name = Unpickler.opcodeNames[op]
                throw error(name.map { "pickle opcode \($0) (0x\(String(op, radix: 16))) is not supported" }
                            ?? "unknown pickle opcode 0x\(String(op, radix: 16)); the file is corrupt or not a pickle")
            }
        }
    }

    /// Names of the opcodes this unpickler refuses, for messages.
    static let opcodeNames: [UInt8: String] = [
        0x46: "FLOAT", 0x49: "INT", 0x4c: "LONG", 0x50: "PERSID", 0x53: "STRING", 0x56: "UNICODE", 0x67: "GET",
        0x69: "INST", 0x6f: "OBJ", 0x70: "PUT", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x8f: "EMPTY_SET",
        0x90: "ADDITEMS", 0x91: "FROZENSET", 0x92: "NEWOBJ_EX", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
    ]
}
