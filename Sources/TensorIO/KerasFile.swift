// A Keras model file as read, before any architecture is built: a Keras 3 `.keras` zip (config.json,
// metadata.json, model.weights.h5), a legacy Keras 2 `.h5` whole model (the `model_config` attribute and the
// `model_weights` group), or a weights-only `.h5` (`layer_names` at the root, as keras.applications ships them).
// The zip, JSON and HDF5 readers are ConvLens's own bounded ones; nothing here runs Python.

/// A Keras model file: its config as JSON and its weights as HDF5.
public struct KerasFile: Sendable {
    /// Which of Keras's formats the file is.
    public enum Format: String, Sendable {
        /// Keras 3's zip: config.json, metadata.json and model.weights.h5 (weights at `layers/<name>/vars/<i>`).
        case keras = ".keras"
        /// A legacy whole model: `model_config` and `model_weights` (weights by `layer_names` and `weight_names`).
        case h5 = "legacy .h5"
        /// Weights alone, by `layer_names` and `weight_names` at the root (keras.applications' files).
        case weights = "weights-only .h5"
    }

    public var format: Format
    /// The model's config (config.json, or the `model_config` attribute); nil for a weights-only file.
    public var config: KerasJSON?
    /// metadata.json of a `.keras` file (`keras_version`, `date_saved`).
    public var metadata: KerasJSON?
    /// The weights file.
    public var weights: HDF5File
    /// Where the layers' weight groups are in `weights`: "model_weights" for a legacy model, "" otherwise.
    public var weightsRoot: String

    /// Reads a Keras file.
    /// - Parameters:
    ///   - path: the .keras or .h5 file.
    public static func load(_ path: String) throws -> KerasFile {
        try FileBytes.withContents(path) { try parse($0, source: path) }
    }

    /// Parses a Keras file held in memory.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - source: the file's name for messages.
    public static func parse(_ bytes: UnsafeRawBufferPointer, source: String) throws -> KerasFile {
        if bytes.count >= 4, bytes.le(0, 4) == 0x0403_4b50 { return try zipped(bytes, source: source) }
        let h5 = try HDF5File.parse(bytes, source: source)
        if let text = h5.attribute("", "model_config")?.strings?.first {
            let weights = h5.groups["model_weights"] != nil ? "model_weights" : ""
            return KerasFile(format: .h5, config: try json(Array(text.utf8), source: source, what: "its model_config attribute"),
                             metadata: nil, weights: h5, weightsRoot: weights)
        }
        guard h5.attribute("", "layer_names") != nil || h5.attribute("", "layer_names0") != nil else {
            throw TensorFileError(file: source, "is an HDF5 file without a Keras model_config or layer_names; it is not a Keras model or weights file",
                                  hint: "save the model with model.save('model.keras') or model.save('model.h5')")
        }
        return KerasFile(format: .weights, config: nil, metadata: nil, weights: h5, weightsRoot: "")
    }

    /// A string-list attribute as Keras writes it (`layer_names`, `weight_names`): whole, or split into `name0`,
    /// `name1`, ... when it would pass HDF5's 64 KB header limit; an empty list is an empty float64 array.
    /// - Parameters:
    ///   - path: the object's path in `weights`.
    ///   - name: the attribute's name.
    public func stringList(at path: String, _ name: String) -> [String]? {
        if let a = weights.attribute(path, name) { return a.isEmpty ? [] : a.strings }
        var out: [String] = [], i = 0
        while let a = weights.attribute(path, "\(name)\(i)") {
            guard let s = a.strings else { return nil }
            out += s
            i += 1
        }
        return i == 0 ? nil : out
    }

    /// A `.keras` zip: its three entries.
    static func zipped(_ bytes: UnsafeRawBufferPointer, source: String) throws -> KerasFile {
        let zip = try ZipArchive(bytes, file: source, limits: .default)
        func entry(_ name: String) throws -> ZipEntry {
            guard let e = zip.entry(name) else {
                throw TensorFileError(file: source, "is a zip without '\(name)'; a Keras 3 .keras file holds config.json, metadata.json and model.weights.h5")
            }
            return e
        }
        // config.json is text; 64 MB is far beyond any real model's (ResNet-152's is about 1 MB).
        let config = try zip.contents(try entry("config.json"), upTo: 1 << 26, why: "over the 64 MB a Keras config may take")
        let configJSON = try config.withBytes { try json(Array($0), source: source, what: "config.json") }
        let metadataJSON = try zip.entry("metadata.json").map { e in
            try zip.contents(e, upTo: 1 << 20, why: "over the 1 MB metadata.json may take").withBytes { try json(Array($0), source: source, what: "metadata.json") }
        }
        let weights = try entry("model.weights.h5")
        let h5 = try zip.contents(weights, upTo: bytes.count * 4 + (1 << 20), why: "more than four times the archive")
            .withBytes { try HDF5File.parse($0, source: "\(source) (model.weights.h5)") }
        return KerasFile(format: .keras, config: configJSON, metadata: metadataJSON, weights: h5, weightsRoot: "")
    }

    /// Parses JSON text into a `KerasJSON`.
    static func json(_ text: [UInt8], source: String, what: String) throws -> KerasJSON {
        let parsed = text.withUnsafeBytes { JSON.parse($0, maxDepth: 200) }
        switch parsed {
        case let .success(v): return KerasJSON(v)
        case let .failure(e): throw TensorFileError(file: source, "\(what) is not valid JSON: \(e.message)")
        }
    }
}

/// A JSON value of a Keras config: objects keep their key order.
public indirect enum KerasJSON: Sendable {
    case object([(key: String, value: KerasJSON)])
    case array([KerasJSON])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    init(_ j: JSON) {
        switch j {
        case let .object(m): self = .object(m.map { ($0.key, KerasJSON($0.value)) })
        case let .array(a): self = .array(a.map(KerasJSON.init))
        case let .string(s): self = .string(s)
        case let .number(d, _): self = .number(d)
        case let .bool(b): self = .bool(b)
        case .null: self = .null
        }
    }

    /// The member `key` of an object (the first, if repeated).
    public subscript(key: String) -> KerasJSON? {
        if case let .object(m) = self { return m.first { $0.key == key }?.value }
        return nil
    }

    public var string: String? { if case let .string(s) = self { s } else { nil } }
    public var array: [KerasJSON]? { if case let .array(a) = self { a } else { nil } }
    public var number: Double? { if case let .number(d) = self { d } else { nil } }
    public var bool: Bool? { if case let .bool(b) = self { b } else { nil } }
    public var isNull: Bool { if case .null = self { true } else { false } }
    /// An integer value, when the number is one that fits.
    public var int: Int? {
        guard let d = number, d.rounded() == d, abs(d) < 9e15 else { return nil }
        return Int(d)
    }
    /// An array of integers (nil entries as -1, as Keras writes `None` dimensions), or one integer as [n].
    public var ints: [Int]? {
        if let i = int { return [i] }
        guard let a = array else { return nil }
        var out: [Int] = []
        for v in a {
            if v.isNull { out.append(-1) } else if let i = v.int { out.append(i) } else { return nil }
        }
        return out
    }
    /// An array of numbers, or one number as [x].
    public var numbers: [Double]? {
        if let d = number { return [d] }
        guard let a = array else { return nil }
        var out: [Double] = []
        for v in a {
            if let d = v.number { out.append(d) } else if let inner = v.numbers { out.append(contentsOf: inner) } else { return nil }
        }
        return out
    }
}
