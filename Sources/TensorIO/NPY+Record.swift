// Several float32 arrays of different shapes in one .npy file, as a numpy structured scalar: one field per array.
extension NPY {
    /// Encodes named arrays as np.save writes a 0-d structured array whose fields are float32 subarrays:
    ///
    ///     r = np.load("kernels.npy")   # no allow_pickle needed
    ///     r.dtype.names                # ('input', 'conv', 'relu', 'max')
    ///     r["conv"].shape              # (4, 160, 240)
    ///
    /// - Parameters:
    ///   - fields: names (ASCII, without quotes or backslashes) and arrays, in the file's order.
    public static func encodeRecord(_ fields: [(name: String, tensor: TensorData)]) -> [UInt8] {
        let descr = fields.map { f -> String in
            precondition(f.name.utf8.allSatisfy { (0x20 ..< 0x7f).contains($0) && $0 != UInt8(ascii: "'") && $0 != UInt8(ascii: "\\") },
                         "NPY.encodeRecord: field name '\(f.name)' is not plain ASCII")
            precondition(checkedProduct(f.tensor.shape) == f.tensor.values.count,
                         "NPY.encodeRecord: shape \(f.tensor.shape) of '\(f.name)' does not hold \(f.tensor.values.count) values")
            return "('\(f.name)', '<f4', \(tuple(f.tensor.shape)))"
        }
        var out = preamble("{'descr': [\(descr.joined(separator: ", "))], 'fortran_order': False, 'shape': (), }")
        out.reserveCapacity(out.count + 4 * fields.reduce(0) { $0 + $1.tensor.values.count })
        for f in fields { f.tensor.values.withUnsafeBytes { out.append(contentsOf: $0) } }  // packed, in order
        return out
    }
}
