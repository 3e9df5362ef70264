// What a pickle may name and call: numpy's array reconstruction, torch's tensor rebuilders, OrderedDict and the
// torch storage types. Anything else is refused at the GLOBAL opcode, before it could be called.

/// A whitelisted function or class.
enum PickleGlobal: CustomStringConvertible {
    case numpyReconstruct, numpyNDArray, numpyDType, numpyFromBuffer
    case rebuildTensor, rebuildTensorV2, rebuildParameter, rebuildParameterWithState
    case orderedDict
    case storageType(ElementType)

    /// The Python name, for messages.
    var description: String {
        switch self {
        case .numpyReconstruct: return "numpy _reconstruct"
        case .numpyNDArray: return "numpy.ndarray"
        case .numpyDType: return "numpy.dtype"
        case .numpyFromBuffer: return "numpy _frombuffer"
        case .rebuildTensor: return "torch._utils._rebuild_tensor"
        case .rebuildTensorV2: return "torch._utils._rebuild_tensor_v2"
        case .rebuildParameter: return "torch._utils._rebuild_parameter"
        case .rebuildParameterWithState: return "torch._utils._rebuild_parameter_with_state"
        case .orderedDict: return "collections.OrderedDict"
        case .storageType(let t): return "torch \(t) storage type"
        }
    }

    /// The allowed globals by "module.name".
    static let allowed: [String: PickleGlobal] = {
        var table: [String: PickleGlobal] = [
            "numpy.core.multiarray._reconstruct": .numpyReconstruct,
            "numpy._core.multiarray._reconstruct": .numpyReconstruct,
            "numpy.ndarray": .numpyNDArray,
            "numpy.dtype": .numpyDType,
            "numpy.core.numeric._frombuffer": .numpyFromBuffer,
            "numpy._core.numeric._frombuffer": .numpyFromBuffer,
            "torch._utils._rebuild_tensor": .rebuildTensor,
            "torch._utils._rebuild_tensor_v2": .rebuildTensorV2,
            "torch._utils._rebuild_parameter": .rebuildParameter,
            "torch._utils._rebuild_parameter_with_state": .rebuildParameterWithState,
            "collections.OrderedDict": .orderedDict,
        ]
        let storages: [(String, ElementType)] = [
            ("FloatStorage", .float32), ("HalfStorage", .float16), ("BFloat16Storage", .bfloat16),
            ("DoubleStorage", .float64), ("LongStorage", .int64), ("IntStorage", .int32), ("ShortStorage", .int16),
            ("CharStorage", .int8), ("ByteStorage", .uint8), ("BoolStorage", .bool), ("UntypedStorage", .uint8),
        ]
        for (name, type) in storages { table["torch." + name] = .storageType(type) }
        return table
    }()
}

/// A numpy dtype: the element type and byte order.
struct NumpyDType {
    /// The dtype as numpy spells it: "f4", "<f8".
    var spec: String
    /// The element type, or nil for one TensorIO cannot read (objects, strings, complex).
    var type: ElementType?
    var bigEndian: Bool

    /// Parses "f4", "<f4", ">i8", "|u1", "float32".
    /// - Parameters:
    ///   - spec: the dtype string.
    init(_ spec: String) {
        self.spec = spec
        var s = Substring(spec)
        bigEndian = s.first == ">"
        if let c = s.first, "<>|=".contains(c) { s = s.dropFirst() }
        let names: [Substring: ElementType] = [
            "f4": .float32, "f8": .float64, "f2": .float16, "i8": .int64, "i4": .int32, "i2": .int16, "i1": .int8,
            "u1": .uint8, "b1": .bool, "float32": .float32, "float64": .float64, "float16": .float16,
            "int64": .int64, "int32": .int32, "uint8": .uint8, "bool": .bool,
        ]
        type = names[s]
    }
}

/// A numpy array as `_reconstruct` + BUILD or `_frombuffer` describe it.
struct NumpyArray {
    var shape: [Int] = []
    var dtype: NumpyDType?
    var fortranOrder = false
    /// The raw elements: a range of the unpickler's input.
    var data: Range<Int>?
}

/// A torch storage named by a persistent id: `('storage', FloatStorage, key, location, numel[, view])`.
struct TorchStorageRef {
    var type: ElementType
    var key: String
    var numel: Int
    /// Legacy files only: this storage is elements `offset ..< offset + numel` of storage `key`.
    var view: (offset: Int, numel: Int)?
}

/// A tensor as `_rebuild_tensor_v2(storage, offset, size, stride, ...)` describes it.
struct TorchTensorRef {
    var storage: TorchStorageRef
    var offset: Int
    var size: [Int]
    var stride: [Int]
}

extension Unpickler {
    /// Resolves a GLOBAL, refusing anything off the whitelist.
    /// - Parameters:
    ///   - module: the module, e.g. "torch._utils".
    ///   - name: the attribute, e.g. "_rebuild_tensor_v2".
    func global(module: String, name: String) throws -> PickleValue {
        let full = module + "." + name
        guard let g = PickleGlobal.allowed[full] else {
            let model = module.hasPrefix("torch.nn") || module.hasPrefix("__main__") || module.hasPrefix("__torch__")
            throw TensorFileError(
                file: file, "pickle calls \(full), which is not allowed (only numpy arrays and torch tensors are read)",
                hint: model ? "the file holds a whole pickled model or a custom class; in Python save only the weights: "
                    + "torch.save(model.state_dict(), path)" : nil)
        }
        return try make(.global(g))
    }

    /// Runs REDUCE (or NEWOBJ): calls a whitelisted function on an argument tuple.
    /// - Parameters:
    ///   - callable: the function, a `.global` object.
    ///   - argsValue: the argument tuple.
    func call(_ callable: PickleValue, _ argsValue: PickleValue) throws -> PickleValue {
        guard case .object(let i) = callable, case .global(let g) = heap[i] else {
            throw error("pickle calls a \(describe(callable)), which is not a function")
        }
        guard let args = items(argsValue) else { throw error("pickle calls \(g) with a \(describe(argsValue)) as arguments") }
        func bad() -> TensorFileError { error("pickle calls \(g) with unexpected arguments") }
        switch g {
        case .numpyReconstruct:  // _reconstruct(ndarray, (0,), b'b'); BUILD fills it in
            return try make(.ndarray(NumpyArray()))
        case .numpyDType:  // dtype('f4', 0, 1); BUILD sets the byte order
            guard let first = args.first, case .string(let spec) = first else { throw bad() }
            return try make(.dtype(NumpyDType(spec)))
        case .numpyFromBuffer:  // _frombuffer(bytes, dtype, shape, order)
            guard args.count == 4, case .bytes(let r) = args[0], case .object(let d) = args[1],
                  case .dtype(let dtype) = heap[d], let shape = try ints(args[2]),
                  case .string(let order) = args[3] else { throw bad() }
            return try make(.ndarray(NumpyArray(shape: shape, dtype: dtype, fortranOrder: order == "F", data: r)))
        case .rebuildTensor, .rebuildTensorV2:  // (storage, storage_offset, size, stride, ...)
            guard args.count >= 4, case .object(let s) = args[0], case .storage(let storage) = heap[s],
                  case .int(let offset) = args[1], let size = try ints(args[2]), let stride = try ints(args[3]) else { throw bad() }
            return try make(.tensor(TorchTensorRef(storage: storage, offset: offset, size: size, stride: stride)))
        case .rebuildParameter, .rebuildParameterWithState:  // (data, requires_grad, backward_hooks[, state])
            guard let data = args.first, case .object(let t) = data, case .tensor = heap[t] else { throw bad() }
            return data
        case .orderedDict:  // OrderedDict() or OrderedDict([(k, v), ...])
            var d = PickleDict()
            if let pairs = args.first {
                guard args.count == 1, let list = items(pairs) else { throw bad() }
                // The copy's operations before it is made; its bytes when `make` keeps it (one copy is no larger than
                // the list, whose bytes were charged: repeating it is what the budget stops).
                try charge(operations: list.count)
                for pair in list {
                    guard let kv = items(pair), kv.count == 2 else { throw bad() }
                    d.set(kv[0], kv[1])
                }
            }
            return try make(.dict(d), depth: 1 + (args.first.map(depthOf) ?? 0))
        case .numpyNDArray, .storageType:
            throw bad()
        }
    }

    /// Runs BUILD: sets the state of a numpy array or dtype; ignores the attributes of an OrderedDict.
    /// - Parameters:
    ///   - target: the object on top of the stack.
    ///   - state: the state popped off it.
    func build(_ target: PickleValue, _ state: PickleValue) throws {
        let (i, object) = try take(target, "BUILD")
        defer { if case .moved = heap[i] { heap[i] = object } }
        switch object {
        case .ndarray(var array):
            // (version, shape, dtype, is_fortran, raw bytes); numpy before 1.? leaves out the version.
            guard var s = items(state), s.count == 5 || s.count == 4 else { throw error("numpy array state is not a 4- or 5-tuple") }
            if s.count == 5 { s.removeFirst() }
            guard let shape = try ints(s[0]), case .object(let d) = s[1], case .dtype(let dtype) = heap[d] else {
                throw error("numpy array state lacks a shape or dtype")
            }
            switch s[2] {
            case .bool(let f): array.fortranOrder = f
            case .int(let f): array.fortranOrder = f != 0
            default: throw error("numpy array state has a fortran flag of \(describe(s[2]))")
            }
            guard case .bytes(let r) = s[3] else {
                throw error("numpy array data is a \(describe(s[3])), not raw bytes (an object array, or a Python 2 pickle?)")
            }
            array.shape = shape
            array.dtype = dtype
            array.data = r
            heap[i] = .ndarray(array)
        case .dtype(var dtype):  // (version, byte order, subarray, names, fields, elsize, alignment, flags)
            guard let s = items(state), s.count >= 2, case .string(let order) = s[1] else { throw error("numpy dtype state is malformed") }
            dtype.bigEndian = order == ">"
            heap[i] = .dtype(dtype)
        case .dict, .tensor:
            break  // OrderedDict._metadata and tensor attributes carry nothing TensorIO needs
        default:
            throw error("pickle BUILDs a \(describe(target)), which is not allowed")
        }
    }

    /// Runs BINPERSID for torch: turns `('storage', StorageType, key, location, numel[, view])` into a storage.
    /// - Parameters:
    ///   - pid: the persistent id.
    func persistentLoad(_ pid: PickleValue) throws -> PickleValue {
        guard let t = items(pid), let kind = t.first else { throw error("pickle has a persistent id that is not a tuple") }
        if case .string("module") = kind {
            throw error("the file holds a whole pickled torch module, not a state dict",
                        hint: "in Python save only the weights: torch.save(model.state_dict(), path)")
        }
        guard case .string("storage") = kind, t.count >= 5, case .object(let g) = t[1],
              case .global(.storageType(let type)) = heap[g], case .int(let numel) = t[4], numel >= 0 else {
            throw error("pickle has a persistent id that is not a torch storage")
        }
        let key: String
        switch t[2] {
        case .string(let s): key = s
        case .int(let n): key = String(n)
        default: throw error("torch storage key is a \(describe(t[2]))")
        }
        var storage = TorchStorageRef(type: type, key: key, numel: numel)
        if t.count >= 6, let v = items(t[5]) {  // legacy view_metadata: (view_key, offset, view_size)
            guard v.count == 3, case .int(let offset) = v[1], case .int(let size) = v[2], offset >= 0, size >= 0 else {
                throw error("torch storage view is malformed")
            }
            storage.view = (offset, size)
        }
        return try make(.storage(storage))
    }
}
