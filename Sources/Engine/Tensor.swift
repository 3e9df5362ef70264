/// Shape legend used in comments across ConvLens:
///   N batch, C channels (input), O output channels, H height, W width, K classes or features,
///   kH kW kernel size, Ho Wo output height and width, G groups.
/// Tensors are NCHW, Float32, contiguous and row-major.

/// A dense Float32 tensor, contiguous and row-major (NCHW for images).
public struct Tensor: Equatable, Sendable {
    /// Sizes of each dimension, outermost first, e.g. [N, C, H, W].
    public var shape: [Int]
    /// Values in row-major order; `data.count == shape.product`.
    public var data: [Float]

    /// Wraps values with a shape.
    /// - Parameters:
    ///   - shape: dimension sizes, outermost first.
    ///   - data: row-major values; the count must match the shape.
    public init(shape: [Int], data: [Float]) {
        precondition(data.count == shape.reduce(1, *),
                     "Tensor: \(data.count) values do not fill shape \(shape)")
        self.shape = shape
        self.data = data
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// A tensor filled with one value.
    public init(shape: [Int], repeating value: Float) {
        self.shape = shape
        self.data = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor whose values are not initialised (the caller overwrites every element).
    public init(uninitialized shape: [Int]) {
        let n = shape.reduce(1, *)
        self.shape = shape
        self.data = [Float](unsafeUninitializedCapacity: n) { _, count in count = n }
    }

    /// Number of elements.
    public var count: Int { data.count }
    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// The same values seen with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    /// Item `n` of the batch (outermost dimension), keeping a batch dimension of 1.
    public func item(_ n: Int) -> Tensor {
        let per = count / shape[0]
        return Tensor(shape: [1] + shape.dropFirst(), data: Array(data[n * per ..< (n + 1) * per]))
    }

    /// Stacks tensors of equal shape along a new or existing batch dimension: k tensors (1, ...) give (k, ...).
    public static func batch(_ items: [Tensor]) -> Tensor {
        precondition(!items.isEmpty, "Tensor.batch: no items")
        let inner = items[0].shape.first == 1 ? Array(items[0].shape.dropFirst()) : items[0].shape
        var data = [Float]()
        data.reserveCapacity(items.count * inner.reduce(1, *))
        for t in items {
            precondition(t.count == inner.reduce(1, *), "Tensor.batch: shape \(t.shape) differs from \(items[0].shape)")
            data += t.data
        }
        return Tensor(shape: [items.count] + inner, data: data)
    }

    /// Largest absolute difference to another tensor of the same shape.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "maxAbsDifference: shapes \(shape) and \(other.shape) differ")
        var m: Float = 0
        for i in 0 ..< count { m = Swift.max(m, abs(data[i] - other.data[i])) }
        return m
    }

    /// Largest absolute value.
    public var maxAbs: Float { data.reduce(0) { Swift.max($0, abs($1)) } }
}

extension Tensor {
    /// Ensures the tensor has `shape`, reusing its storage when the element count already matches.
    /// The contents are unspecified afterwards unless `zero` is set.
    @inlinable
    public mutating func prepare(_ shape: [Int], zero: Bool = false) {
        let n = shape.reduce(1, *)
        if data.count != n {
            self = zero ? Tensor(zeros: shape) : Tensor(uninitialized: shape)
            return
        }
        self.shape = shape
        if zero { data.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
    }
}
