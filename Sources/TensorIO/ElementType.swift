// The element types found in weight files, and their conversion to Float32: contiguous runs by memcpy or a tight
// loop, strided views (transposes, slices) by walking the strides.
import Foundation

/// A stored element type. Everything is converted to Float32 on reading.
enum ElementType: String, Sendable {
    case float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool

    /// Bytes per element.
    var size: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }
}

enum Convert {
    /// Converts a strided view of stored elements into contiguous row-major Float32. The caller has checked, with
    /// `viewExtent`, that every element the view touches lies inside `raw`.
    /// - Parameters:
    ///   - raw: the storage's bytes. // (storageElements * type.size,)
    ///   - type: the stored element type.
    ///   - bigEndian: whether the stored elements are big-endian.
    ///   - offset: the view's first element, counted in elements from the start of `raw`.
    ///   - shape: the view's sizes, outermost first.
    ///   - strides: the view's steps in elements, one per dimension.
    static func gather(_ raw: UnsafeRawBufferPointer, type: ElementType, bigEndian: Bool,
                       offset: Int, shape: [Int], strides: [Int]) -> [Float] {
        let count = shape.reduce(1, *)
        if count == 0 { return [] }
        // Drop size-1 dimensions, then merge dimensions that are contiguous with their inner neighbour, so that a
        // contiguous tensor becomes one run and a transposed matrix a run per row.
        var dims: [(size: Int, stride: Int)] = []
        for (n, s) in zip(shape, strides) where n != 1 {
            if let last = dims.last, last.stride == s * n {
                dims[dims.count - 1] = (last.size * n, s)
            } else {
                dims.append((n, s))
            }
        }
        if dims.isEmpty { dims = [(1, 1)] }
        let inner = dims.removeLast()
        return [Float](unsafeUninitializedCapacity: count) { out, written in
            var index = [Int](repeating: 0, count: dims.count)
            var start = offset
            var done = 0
            while done < count {
                run(raw, type: type, bigEndian: bigEndian, start: start, stride: inner.stride, count: inner.size,
                    into: out.baseAddress! + done)
                done += inner.size
                var d = dims.count - 1  // odometer over the outer dimensions
                while d >= 0 {
                    index[d] += 1
                    start += dims[d].stride
                    if index[d] < dims[d].size { break }
                    start -= dims[d].stride * dims[d].size
                    index[d] = 0
                    d -= 1
                }
            }
            written = count
        }
    }

    /// Converts `count` elements, `stride` apart, starting at element `start` of `raw`.
    /// - Parameters:
    ///   - raw: the storage's bytes.
    ///   - type: the stored element type.
    ///   - bigEndian: whether the stored elements are big-endian.
    ///   - start: the first element's index.
    ///   - stride: the step between elements, in elements.
    ///   - count: how many elements to convert.
    ///   - out: where the `count` floats go.
    static func run(_ raw: UnsafeRawBufferPointer, type: ElementType, bigEndian: Bool, start: Int, stride: Int,
                    count: Int, into out: UnsafeMutablePointer<Float>) {
        switch type {
        case .float32:
            if stride == 1 && !bigEndian {
                memcpy(out, raw.baseAddress! + start * 4, count * 4)
            } else {
                bits(raw, UInt32.self, bigEndian, start, stride, count, out) { Float(bitPattern: $0) }
            }
        case .float16: bits(raw, UInt16.self, bigEndian, start, stride, count, out) { floatFromHalfBits($0) }
        case .bfloat16: bits(raw, UInt16.self, bigEndian, start, stride, count, out) { floatFromBFloat16Bits($0) }
        case .float64: bits(raw, UInt64.self, bigEndian, start, stride, count, out) { Float(Double(bitPattern: $0)) }
        case .int64: bits(raw, UInt64.self, bigEndian, start, stride, count, out) { Float(Int64(bitPattern: $0)) }
        case .int32: bits(raw, UInt32.self, bigEndian, start, stride, count, out) { Float(Int32(bitPattern: $0)) }
        case .int16: bits(raw, UInt16.self, bigEndian, start, stride, count, out) { Float(Int16(bitPattern: $0)) }
        case .int8: bits(raw, UInt8.self, false, start, stride, count, out) { Float(Int8(bitPattern: $0)) }
        case .uint8: bits(raw, UInt8.self, false, start, stride, count, out) { Float($0) }
        case .bool: bits(raw, UInt8.self, false, start, stride, count, out) { $0 == 0 ? 0 : 1 }
        }
    }

    /// The loop behind `run`: loads each element's bits, swaps them if big-endian, converts.
    @inline(__always)
    private static func bits<T: FixedWidthInteger>(_ raw: UnsafeRawBufferPointer, _: T.Type, _ bigEndian: Bool,
                                                   _ start: Int, _ stride: Int, _ count: Int,
                                                   _ out: UnsafeMutablePointer<Float>, _ convert: (T) -> Float) {
        let base = raw.baseAddress! + start * MemoryLayout<T>.size
        let step = stride * MemoryLayout<T>.size
        if bigEndian {
            for i in 0 ..< count { out[i] = convert(base.loadUnaligned(fromByteOffset: i * step, as: T.self).byteSwapped) }
        } else {
            for i in 0 ..< count { out[i] = convert(base.loadUnaligned(fromByteOffset: i * step, as: T.self)) }
        }
    }

    /// The number of elements a strided view needs its storage to hold (last touched index + 1; 0 when empty),
    /// or nil when a size or stride is negative or the arithmetic overflows.
    /// - Parameters:
    ///   - offset: the view's first element.
    ///   - shape: the view's sizes.
    ///   - strides: the view's steps in elements.
    static func viewExtent(offset: Int, shape: [Int], strides: [Int]) -> Int? {
        guard offset >= 0, shape.count == strides.count, let count = checkedProduct(shape) else { return nil }
        if count == 0 { return 0 }
        var last = offset
        for (n, s) in zip(shape, strides) {
            guard s >= 0 else { return nil }
            let (step, o1) = (n - 1).multipliedReportingOverflow(by: s)
            let (sum, o2) = last.addingReportingOverflow(step)
            if o1 || o2 { return nil }
            last = sum
        }
        return last == Int.max ? nil : last + 1
    }

    /// Row-major strides for a shape: `(2, 3, 4)` gives `(12, 4, 1)`.
    /// - Parameters:
    ///   - shape: the sizes, outermost first. When one of them is 0 the others may multiply past Int.max (a file can
    ///     declare (0, 2^40, 2^40)); the strides then wrap, which is harmless because no element is read.
    static func rowMajorStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for d in shape.indices.reversed() { strides[d] = step; step = step &* max(shape[d], 1) }
        return strides
    }
}
