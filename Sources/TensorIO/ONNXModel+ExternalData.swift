// External data: tensors whose values sit in files next to the model (data_location EXTERNAL, external_data entries
// location, offset, length). A location must stay inside the model's folder, also after symlinks are resolved; each
// file is mapped once and every range in it checked against its size before reading.
import Foundation

extension ONNXDecoder {
    /// Checks a tensor's external_data entries and returns where its values are.
    /// - Parameters:
    ///   - entries: external_data's key/value pairs.
    ///   - element: the tensor's element type.
    ///   - count: the tensor's element count.
    ///   - bytes: the bytes those elements take, nil when that overflows.
    func externalRef(_ entries: [String: String], element: ONNXElement, count: Int, bytes: Int?) throws -> PendingExternal.Ref {
        guard let location = entries["location"], !location.isEmpty else {
            throw ONNXDecodeError("has external data without a location; the file is corrupt")
        }
        if location.hasPrefix("/") || location.contains("\0")
            || location.split(separator: "/", omittingEmptySubsequences: false).contains("..") {
            throw ONNXDecodeError("has external data at \(quoted(location)), outside the model's folder; "
                + "ConvLens reads external data only from files next to the model")
        }
        func number(_ key: String) throws -> Int? {
            guard let text = entries[key] else { return nil }
            guard let n = Int(text), n >= 0 else {
                throw ONNXDecodeError("has external data with \(key) \(quoted(text)), not a byte count; the file is corrupt")
            }
            return n
        }
        let offset = try number("offset") ?? 0
        let length = try number("length")
        guard let bytes, length == nil || length == bytes else {
            throw ONNXDecodeError("has \(count) elements of \(ONNXElement.name(element.code)), which need "
                + "\(bytes.map(String.init) ?? "more than \(Int.max)") bytes, but its external data length is \(length!); the file is corrupt")
        }
        return PendingExternal.Ref(location: location, offset: offset, length: bytes, element: element, count: count)
    }

    /// Reads every pending external tensor into the model, one mapping per file.
    /// - Parameters:
    ///   - model: the decoded model, whose external tensors have no values yet.
    ///   - directory: the model's folder; nil when the model came from memory, which refuses external data.
    mutating func readExternalData(into model: inout ONNXModel, directory: String?) throws {
        guard let first = pending.first else { return }
        guard let directory else {
            throw ONNXDecodeError("\(name(first.slot)) has its data in external file \(quoted(first.ref.location)), but the model was "
                + "given without its folder")
        }
        guard let folder = resolved(directory) else {
            throw ONNXDecodeError("cannot resolve the model's folder \(quoted(directory)) to read external data")
        }
        var order: [String] = []
        var byFile: [String: [PendingExternal]] = [:]
        for p in pending {
            if byFile[p.ref.location] == nil { order.append(p.ref.location) }
            byFile[p.ref.location, default: []].append(p)
        }
        for location in order {
            let tensors = byFile[location]!
            let where0 = name(tensors[0].slot)
            guard let path = resolved(folder + "/" + location) else {
                throw ONNXDecodeError("\(where0) has its data in \(quoted(location)), which is not there: "
                    + "external data files must sit next to the model")
            }
            guard path == folder || path.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/") else {  // the folder itself: FileBytes refuses it
                throw ONNXDecodeError("\(where0) has its data in \(quoted(location)), which resolves to \(quoted(path)), outside the "
                    + "model's folder; ConvLens reads external data only from files next to the model")
            }
            do {
                try readTensors(tensors, from: path, location: location, into: &model)
            } catch let e as TensorFileError {  // from FileBytes: it names the data file, this names the model too
                throw ONNXDecodeError("\(where0) has its data in \(quoted(location)), which \(e.message)")
            }
        }
    }

    /// Maps one external data file and reads the tensors whose data it holds.
    /// - Parameters:
    ///   - tensors: the pending tensors in this file.
    ///   - path: the file, resolved and checked to lie in the model's folder.
    ///   - location: the file as the model names it, for messages.
    ///   - model: where the tensors go.
    private mutating func readTensors(_ tensors: [PendingExternal], from path: String, location: String,
                                      into model: inout ONNXModel) throws {
        try ONNXModel.withFile(path) { bytes in
            addInput(bytes.count)
            for p in tensors {
                let (end, overflow) = p.ref.offset.addingReportingOverflow(p.ref.length)
                guard !overflow, end <= bytes.count else {
                    throw ONNXDecodeError("\(name(p.slot)) needs bytes \(p.ref.offset) to \(overflow ? "past \(Int.max)" : String(end)) of "
                        + "\(quoted(location)), which is \(bytes.count) bytes; the external data is truncated or does not belong to this model")
                }
                try spend(count: p.ref.count, size: p.ref.element.isFloat ? 4 : 8)
                var t = tensor(at: p.slot, in: model)
                try within(name(p.slot)) {
                    try p.ref.element.convert(UnsafeRawBufferPointer(rebasing: bytes[p.ref.offset ..< end]), count: p.ref.count, into: &t)
                }
                store(t, at: p.slot, in: &model)
            }
        }
    }

    /// The slot's description for messages: "initializer 'w'" or "node 3 attribute 'value'".
    private func name(_ slot: PendingExternal.Slot) -> String {
        switch slot {
        case .initializer(let n): return "initializer \(quoted(n))"
        case .attribute(let node, let key): return "node \(node) attribute \(quoted(key))"
        }
    }

    private func tensor(at slot: PendingExternal.Slot, in model: ONNXModel) -> ONNXTensor {
        switch slot {
        case .initializer(let n): return model.graph.initializers[n]!
        case .attribute(let node, let key):
            guard case .tensor(let t) = model.graph.nodes[node].attributes[key] else { fatalError("attribute \(key) is not a tensor") }
            return t
        }
    }

    private func store(_ t: ONNXTensor, at slot: PendingExternal.Slot, in model: inout ONNXModel) {
        switch slot {
        case .initializer(let n): model.graph.initializers[n] = t
        case .attribute(let node, let key): model.graph.nodes[node].attributes[key] = .tensor(t)
        }
    }
}

/// The canonical path of an existing file or folder (symlinks, "." and ".." resolved), or nil if it does not exist.
private func resolved(_ path: String) -> String? {
    guard let p = realpath(path, nil) else { return nil }
    defer { free(p) }
    return String(cString: p)
}
