// From an unpickled torch checkpoint to a flat list of named tensors, and from a tensor reference plus its
// storage's bytes to Float32 values. Shared by the zip and the legacy formats.
import Support

/// The tensors a torch pickle holds, found by walking its dicts.
struct TorchTensorList {
    /// Dotted names and tensor references, in the pickle's order.
    var tensors: [(name: String, ref: TorchTensorRef)] = []
    /// Scalar entries of the outer dict (epoch, arch, ...) as strings.
    var metadata: [String: String] = [:]
}

extension Unpickler {
    /// Finds the state dict in a torch pickle: unwraps `{"state_dict": ...}` and `{"model": ...}`, then flattens
    /// nested dicts (and lists) into dotted names. Non-tensor entries are skipped; the outer dict's scalars become
    /// metadata.
    /// - Parameters:
    ///   - root: the unpickled value.
    func torchTensors(_ root: PickleValue) throws -> TorchTensorList {
        var list = TorchTensorList()
        guard var top = dict(root) else {
            if case .object(let i) = root, case .tensor(let t) = heap[i] { list.tensors = [("tensor", t)]; return list }  // torch.save(t)
            throw TensorFileError(file: file, "holds a \(describe(root)), not a dict of tensors",
                                  hint: "save a state dict: torch.save(model.state_dict(), path)")
        }
        for (k, v) in zip(top.keys, top.values) {
            if case .string(let key) = k, let text = scalarText(v) { list.metadata[key] = text }
        }
        var current = root
        for _ in 0 ..< 4 {  // {"state_dict": ...}, {"model": ...}, possibly one inside the other
            guard let inner = top["state_dict"] ?? top["model"], let d = dict(inner) else { break }
            (current, top) = (inner, d)
        }
        var budget = FlattenBudget(entries: limits.maxTensors, nameBytes: FlattenBudget.maxNameBytes)
        try flatten(current, prefix: "", depth: 0, budget: &budget, into: &list.tensors)
        return list
    }

    /// A scalar as text for metadata, or nil for containers.
    func scalarText(_ v: PickleValue) -> String? {
        switch v {
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let f): return String(f)
        case .string(let s): return s
        default: return nil
        }
    }

    /// Collects the tensors under a value, naming them `prefix.key`.
    private func flatten(_ v: PickleValue, prefix: String, depth: Int, budget: inout FlattenBudget,
                         into out: inout [(name: String, ref: TorchTensorRef)]) throws {
        guard case .object(let i) = v else { return }
        guard depth <= limits.maxDepth else {
            throw TensorFileError(file: file, "state dict nests more than \(limits.maxDepth) deep (or contains itself)")
        }
        budget.entries -= 1
        guard budget.entries >= 0 else {
            throw TensorFileError(file: file, "state dict has more than \(limits.maxTensors) entries; the file is corrupt or hostile")
        }
        budget.nameBytes -= prefix.utf8.count  // every visit made its prefix, tensor or not
        guard budget.nameBytes >= 0 else {
            throw TensorFileError(file: file, "state dict's tensor names add up to more than "
                + "\(byteCount(FlattenBudget.maxNameBytes)) (a key or container listed many times); the file is corrupt or hostile")
        }
        let dot = prefix.isEmpty ? "" : "."
        switch heap[i] {
        case .tensor(let t):
            out.append((prefix, t))
        case .dict(let d):
            for (k, value) in zip(d.keys, d.values) {
                let key: String
                switch k {
                case .string(let s): key = s
                case .int(let n): key = String(n)
                default: continue
                }
                try flatten(value, prefix: prefix + dot + key, depth: depth + 1, budget: &budget, into: &out)
            }
        case .list(let items), .tuple(let items):
            for (n, item) in items.enumerated() {
                try flatten(item, prefix: prefix + dot + String(n), depth: depth + 1, budget: &budget, into: &out)
            }
        default:
            break
        }
    }
}

/// What walking a state dict may still cost: containers visited, and bytes of names made (for containers on the way
/// and for tensors). Memoized containers and keys let a small pickle list the same things many times over.
struct FlattenBudget {
    /// Real state dicts name their tensors in well under 1 MB.
    static let maxNameBytes = 1 << 26
    var entries: Int
    var nameBytes: Int
}

enum TorchTensors {
    /// Converts a tensor reference to Float32, checking that its view lies inside its storage.
    /// - Parameters:
    ///   - ref: the tensor: storage type, offset, sizes, strides (all in elements).
    ///   - name: the tensor's name for messages.
    ///   - storage: the bytes of the storage the tensor views. // (storageElements * type.size,)
    ///   - storageName: how messages name the storage ("archive entry 'x/data/0'").
    ///   - bigEndian: whether the storage is big-endian.
    ///   - file: the file for messages.
    ///   - limits: `maxElements` bounds the tensor.
    static func materialize(_ ref: TorchTensorRef, name: String, storage: UnsafeRawBufferPointer, storageName: String,
                            bigEndian: Bool, file: String, limits: Limits) throws -> TensorData {
        let type = ref.storage.type
        guard ref.size.count == ref.stride.count,
              let extent = Convert.viewExtent(offset: ref.offset, shape: ref.size, strides: ref.stride),
              let count = checkedProduct(ref.size) else {
            throw TensorFileError(file: file, "tensor '\(name)' has an invalid view (offset \(ref.offset), size \(ref.size), "
                + "stride \(ref.stride)); the file is corrupt")
        }
        guard count <= limits.maxElements else {
            throw TensorFileError(file: file, "tensor '\(name)' has \(count) elements, over the limit of \(limits.maxElements)")
        }
        let available = storage.count / type.size
        guard extent <= available else {
            throw TensorFileError(file: file, "tensor '\(name)' needs \(extent) \(type) elements of \(storageName), which holds "
                + "only \(available); the file is truncated or corrupt")
        }
        let values = Convert.gather(storage, type: type, bigEndian: bigEndian, offset: ref.offset, shape: ref.size,
                                    strides: ref.stride)
        return TensorData(shape: ref.size, values: values)
    }
}
