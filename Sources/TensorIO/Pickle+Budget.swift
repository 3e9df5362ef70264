// What the unpickler may spend on one file, in bytes it keeps and operations it runs. Memo entries and REDUCE let a
// small pickle refer to one big container many times: OrderedDict of a memoised list of pairs, copied a million
// times, would take gigabytes and a day. Every allocation and copy is charged here first, so such a file fails at
// once, with one line.
import Support

/// The unpickler's allowance for one file: a floor every file gets, plus an amount per byte of the file, up to a
/// ceiling (`Limits.maxPickleMemory`, `Limits.maxPickleOperations`). A real pickle keeps at most a few dozen bytes
/// and runs a few operations per byte of pickle: one opcode makes at most one value or container.
final class PickleBudget {
    /// Every file may keep 64 MiB and run 16 M operations, however small it is.
    static let floor = (bytes: 1 << 26, operations: 1 << 24)
    /// And this much more per byte of the file.
    static let perFileByte = (bytes: 64, operations: 64)

    let file: String
    let fileBytes: Int
    /// What the file was given.
    let allowed: (bytes: Int, operations: Int)
    private(set) var spent = (bytes: 0, operations: 0)

    /// A budget for one file, shared by all the pickles in it.
    /// - Parameters:
    ///   - file: the file's name for messages.
    ///   - fileBytes: the file's size (the whole file, not its inflated pickle: a deflated pickle may be far larger).
    ///   - limits: the ceilings.
    init(file: String, fileBytes: Int, limits: Limits) {
        self.file = file
        self.fileBytes = fileBytes
        func scaled(_ floor: Int, _ perByte: Int, _ ceiling: Int) -> Int {
            let (more, overflow) = fileBytes.multipliedReportingOverflow(by: perByte)
            return overflow ? ceiling : min(floor + more, ceiling)
        }
        allowed = (scaled(Self.floor.bytes, Self.perFileByte.bytes, limits.maxPickleMemory),
                   scaled(Self.floor.operations, Self.perFileByte.operations, limits.maxPickleOperations))
    }

    /// Takes bytes and operations out of the budget, or refuses them before they are spent.
    /// - Parameters:
    ///   - bytes: memory about to be kept.
    ///   - operations: values about to be made, copied or visited.
    ///   - offset: the pickle offset of the opcode, for the message.
    func charge(bytes: Int = 0, operations: Int, offset: Int) throws {
        let (b, o1) = spent.bytes.addingReportingOverflow(bytes)
        let (n, o2) = spent.operations.addingReportingOverflow(operations)
        guard !o1, !o2, b <= allowed.bytes, n <= allowed.operations else {
            let what = o1 || b > allowed.bytes ? "more than \(byteCount(allowed.bytes)) of memory"
                : "more than \(allowed.operations) operations"
            throw TensorFileError(file: file, "pickle needs \(what) to unpickle, too much for a file of \(byteCount(fileBytes)) "
                + "(containers copied or listed over and over); the file is corrupt or hostile (pickle offset \(offset))")
        }
        spent = (b, n)
    }
}

extension PickleValue {
    /// The bytes a value takes in a container.
    static let size = MemoryLayout<PickleValue>.stride
    /// The bytes a dict entry takes: its key and value, and a slot of the index with the key's hashable copy (the
    /// index's empty slots included, at Swift's load factor of 3/4).
    static let dictEntrySize = 4 * size
}

extension PickleObject {
    /// The bytes a heap object keeps: its slot and depth, and what it holds.
    var size: Int {
        let slot = MemoryLayout<PickleObject>.stride + MemoryLayout<Int>.stride
        switch self {
        case .tuple(let items), .list(let items): return slot + items.count * PickleValue.size
        case .dict(let d): return slot + d.keys.count * PickleValue.dictEntrySize
        case .ndarray(let a): return slot + a.shape.count * 8
        case .tensor(let t): return slot + (t.size.count + t.stride.count) * 8
        default: return slot
        }
    }

    /// The values it holds, each made or copied once to build it.
    var count: Int {
        switch self {
        case .tuple(let items), .list(let items): return items.count
        case .dict(let d): return d.keys.count
        case .ndarray(let a): return a.shape.count
        case .tensor(let t): return t.size.count + t.stride.count
        default: return 0
        }
    }
}
