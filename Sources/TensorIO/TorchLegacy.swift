// torch.save's legacy format (before torch 1.6, or _use_new_zipfile_serialization=False): five pickles in a row,
// then the storages.
//   1. the magic number 0x1950a86a20f9469cfc6c    2. the protocol version 1001    3. sys_info {little_endian, ...}
//   4. the object, with persistent ids ('storage', FloatStorage, root_key, location, numel, view_metadata)
//   5. the list of storage keys, in the order their data follows
// then for each key: the element count as 8 bytes little-endian, then the raw elements.

enum TorchLegacy {
    /// The magic number as LONG1 stores it: 0x1950a86a20f9469cfc6c, little-endian.
    static let magic: [UInt8] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]
    static let hint = "this is not a checkpoint written by torch.save, or it is damaged; download it again, or load it "
        + "in Python and re-save it with torch.save(model.state_dict(), path)"

    /// Reads a torch legacy checkpoint.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - name: the file's name for messages.
    ///   - limits: bounds for the pickles and the tensors.
    static func parse(_ bytes: UnsafeRawBufferPointer, name: String, limits: Limits = .default) throws -> StateDict {
        func fail(_ message: String, hint: String? = nil) -> TensorFileError { TensorFileError(file: name, message, hint: hint) }
        let budget = PickleBudget(file: name, fileBytes: bytes.count, limits: limits)  // one for the file's five pickles
        let header = Unpickler(data: bytes, file: name, limits: limits, budget: budget)
        let (magicValue, p1) = try header.load(from: 0)
        guard case .bigInt(let m) = magicValue, m == magic else {
            throw fail("has a bad magic number (\(header.describe(magicValue))); expected torch's 0x1950a86a20f9469cfc6c", hint: hint)
        }
        let (version, p2) = try header.load(from: p1)
        guard case .int(1001) = version else {
            throw fail("has torch legacy protocol version \(header.describe(version)); expected 1001", hint: hint)
        }
        let (sysInfo, p3) = try header.load(from: p2)
        var bigEndian = false
        if let info = header.dict(sysInfo), case .bool(let little)? = info["little_endian"] { bigEndian = !little }

        let main = Unpickler(data: bytes, file: name, limits: limits, budget: budget)
        let (root, p4) = try main.load(from: p3)
        let found = try main.torchTensors(root)
        let (keysValue, p5) = try header.load(from: p4)
        guard let keyItems = header.items(keysValue) else { throw fail("has a storage key list that is a \(header.describe(keysValue))") }

        // The element type of each storage, from the persistent ids.
        var types: [String: ElementType] = [:]
        for case .storage(let s) in main.heap {
            if let t = types[s.key], t != s.type {
                throw fail("uses storage '\(s.key)' as both \(t) and \(s.type); the file is corrupt")
            }
            types[s.key] = s.type
        }
        // Where each storage's data lies in the file.
        var ranges: [String: Range<Int>] = [:]
        var p = p5
        for item in keyItems {
            guard case .string(let key) = item, let type = types[key] else {
                throw fail("lists storage \(header.describe(item)), which no tensor uses; the file is corrupt")
            }
            guard bytes.count - p >= 8 else { throw fail("ends before storage '\(key)'; the file is truncated") }
            let count = bytes.le(p, 8)
            let (size, overflow) = Int(clamping: count).multipliedReportingOverflow(by: type.size)
            guard !overflow, count <= UInt64(Int.max), size <= bytes.count - p - 8 else {
                throw fail("storage '\(key)' claims \(count) elements, past the end of the file; the file is truncated")
            }
            ranges[key] = p + 8 ..< p + 8 + size
            p += 8 + size
        }

        var names: [String] = []
        var tensors: [String: TensorData] = [:]
        var output = OutputBudget(file: name, fileBytes: bytes.count, limits: limits)
        do {
            for (tensorName, ref) in found.tensors {
                try output.spend(elements: checkedProduct(ref.size) ?? .max, tensor: tensorName)
                guard var range = ranges[ref.storage.key] else {
                    throw fail("tensor '\(tensorName)' uses storage '\(ref.storage.key)', whose data the file lacks")
                }
                if let view = ref.storage.view {  // elements offset ..< offset + numel of the root storage
                    let es = ref.storage.type.size
                    guard view.offset <= range.count / es, view.numel <= range.count / es - view.offset else {
                        throw fail("tensor '\(tensorName)' views past the end of storage '\(ref.storage.key)'")
                    }
                    range = range.lowerBound + view.offset * es ..< range.lowerBound + (view.offset + view.numel) * es
                }
                let tensor = try TorchTensors.materialize(
                    ref, name: tensorName, storage: UnsafeRawBufferPointer(rebasing: bytes[range]),
                    storageName: "storage '\(ref.storage.key)'", bigEndian: bigEndian, file: name, limits: limits)
                guard tensors.updateValue(tensor, forKey: tensorName) == nil else { throw fail("has two tensors named '\(tensorName)'") }
                names.append(tensorName)
            }
        }
        return StateDict(names: names, tensors: tensors, format: "torch-legacy", metadata: found.metadata)
    }
}
