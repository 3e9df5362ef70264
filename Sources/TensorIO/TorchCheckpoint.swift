// torch.save's zip format (torch 1.6 and later): <root>/data.pkl holds the pickled object, whose persistent ids
// ('storage', FloatStorage, key, location, numel) name the raw little-endian storages <root>/data/<key>.
import Support

enum TorchCheckpoint {
    /// How many times the bytes its tensors use a deflated storage may inflate to (plus 64 KiB).
    static let storageSlack = 4

    /// Reads a torch zip checkpoint.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - name: the file's name for messages.
    ///   - limits: bounds for the zip, the pickle and the tensors.
    static func parse(_ bytes: UnsafeRawBufferPointer, name: String, limits: Limits = .default) throws -> StateDict {
        let zip = try ZipArchive(bytes, file: name, limits: limits)
        guard let pickle = zip.entries.first(where: { $0.name.hasSuffix("/data.pkl") && $0.name.split(separator: "/").count == 2 })
                ?? zip.entry("data.pkl") else {
            let script = zip.entries.contains { $0.name.hasSuffix("constants.pkl") }
            throw TensorFileError(file: name, script ? "is a TorchScript archive, not a torch.save checkpoint"
                                                     : "is a zip file without data.pkl, not a torch checkpoint",
                                  hint: "in Python save the weights with torch.save(model.state_dict(), path)")
        }
        let root = String(pickle.name.dropLast("data.pkl".count))  // "archive/" (or "" for a bare data.pkl)
        var budget = OutputBudget(file: name, fileBytes: bytes.count, limits: limits)
        var bigEndian = false
        if let order = zip.entry(root + "byteorder") {
            let text = try zip.contents(order, upTo: 16, why: "too much for a byte order").withBytes { String(decoding: $0, as: UTF8.self) }
            guard text == "little" || text == "big" else {
                throw TensorFileError(file: name, "declares byte order '\(text.prefix(20))'; expected little or big")
            }
            bigEndian = text == "big"
        }
        let found = try zip.contents(pickle, upTo: budget.allowed, why: "too much for a \(byteCount(bytes.count)) file").withBytes { data in
            // The budget follows the file's size, not the inflated pickle's, which deflate can make 1000 times larger.
            let pickleBudget = PickleBudget(file: name, fileBytes: bytes.count, limits: limits)
            let unpickler = Unpickler(data: data, file: name, limits: limits, budget: pickleBudget)
            return try unpickler.torchTensors(try unpickler.load().value)
        }

        // The bytes each storage's tensors reach. A deflated storage may inflate to a few times that (torch saves the
        // whole storage of a sliced tensor), not more: past it, the entry is a zip bomb or its header lies.
        var reach: [String: Int] = [:]
        for (_, ref) in found.tensors {
            let extent = Convert.viewExtent(offset: ref.offset, shape: ref.size, strides: ref.stride) ?? 0
            let (bytes, overflow) = extent.multipliedReportingOverflow(by: ref.storage.type.size)
            reach[ref.storage.key] = max(reach[ref.storage.key] ?? 0, overflow ? .max : bytes)
        }
        var storages: [String: ZipData] = [:]  // inflated once, even when tensors share a storage
        var names: [String] = []
        var tensors: [String: TensorData] = [:]
        for (tensorName, ref) in found.tensors {
            try budget.spend(elements: checkedProduct(ref.size) ?? .max, tensor: tensorName)
            let entryName = root + "data/" + ref.storage.key
            if storages[ref.storage.key] == nil {
                guard let entry = zip.entry(entryName) else {
                    throw TensorFileError(file: name, "tensor '\(tensorName)' uses storage '\(ref.storage.key)', but the archive "
                        + "has no entry '\(entryName)'; the file is corrupt")
                }
                let need = reach[ref.storage.key] ?? 0
                let (scaled, overflow) = need.multipliedReportingOverflow(by: storageSlack)
                storages[ref.storage.key] = try zip.contents(entry, upTo: overflow ? .max : scaled + (1 << 16),
                                                             why: "but its tensors use \(byteCount(need))")
            }
            let tensor = try storages[ref.storage.key]!.withBytes { raw in
                try TorchTensors.materialize(ref, name: tensorName, storage: raw, storageName: "archive entry '\(entryName)'",
                                             bigEndian: bigEndian, file: name, limits: limits)
            }
            guard tensors.updateValue(tensor, forKey: tensorName) == nil else {
                throw TensorFileError(file: name, "has two tensors named '\(tensorName)'")
            }
            names.append(tensorName)
        }
        return StateDict(names: names, tensors: tensors, format: "torch-zip", metadata: found.metadata)
    }
}
