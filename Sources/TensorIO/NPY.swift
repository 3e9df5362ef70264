// numpy's .npy format: "\x93NUMPY", a version, a header length, a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded to a multiple of 64 bytes, then the data.
import Foundation
import Support

public enum NPY {
    /// Encodes a tensor as numpy does with np.save: version 1.0, '<f4', C order, the header padded with spaces
    /// (room for the first dimension to grow, as numpy leaves) and a newline to a multiple of 64 bytes.
    /// - Parameters:
    ///   - t: the tensor.
    public static func encode(_ t: TensorData) -> [UInt8] {
        precondition(checkedProduct(t.shape) == t.values.count, "NPY.encode: shape \(t.shape) does not hold \(t.values.count) values")
        var out = header(shape: t.shape)
        t.values.withUnsafeBytes { out.append(contentsOf: $0) }  // Float32 little-endian
        return out
    }

    /// A shape as a Python tuple literal: "()", "(3,)", "(2, 3)".
    static func tuple(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }

    /// Magic, version 1.0, header length and the header dict padded with spaces and a newline to a multiple of 64
    /// bytes, as numpy writes them.
    static func preamble(_ dict: String) -> [UInt8] {
        let unpadded = 10 + dict.utf8.count + 1  // magic, version, length, header, "\n"
        let header = dict + String(repeating: " ", count: 64 - unpadded % 64) + "\n"  // numpy pads 64 when already aligned
        let n = header.utf8.count
        precondition(n <= 0xffff, "NPY: a \(n)-byte header does not fit version 1.0")
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xff), UInt8(n >> 8)] + Array(header.utf8)
    }

    /// Writes a tensor as a .npy file, atomically (temporary file, then rename).
    /// - Parameters:
    ///   - t: the tensor.
    ///   - path: the destination.
    public static func write(_ t: TensorData, to path: String) throws {
        try AtomicFile.write(encode(t), to: path)
    }

    /// Decodes a .npy file held in memory: '<f4', '<f8', '<f2', '<i8', '<i4', '|u1' (and their big-endian forms),
    /// C order only.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - name: the file's name for messages.
    public static func decode(_ bytes: [UInt8], name: String) throws -> TensorData {
        try bytes.withUnsafeBytes { try decode($0, name: name) }
    }

    /// Decodes a .npy file from a borrowed buffer.
    static func decode(_ bytes: UnsafeRawBufferPointer, name: String) throws -> TensorData {
        func fail(_ message: String, hint: String? = nil) -> TensorFileError { TensorFileError(file: name, message, hint: hint) }
        guard bytes.count >= 10, bytes[0] == 0x93, bytes[1 ..< 6].elementsEqual("NUMPY".utf8) else {
            throw fail("is not a numpy .npy file (no \\x93NUMPY magic)")
        }
        let major = bytes[6]
        guard (1 ... 3).contains(major) else { throw fail("has .npy format version \(major).\(bytes[7]); versions 1 to 3 are read") }
        let width = major == 1 ? 2 : 4
        guard bytes.count >= 8 + width else { throw fail("ends inside the .npy header; the file is truncated") }
        let length = Int(bytes.le(8, width))
        let start = 8 + width
        guard length <= bytes.count - start else { throw fail("declares a \(length)-byte .npy header but the file is shorter; the file is truncated") }
        let header = String(decoding: bytes[start ..< start + length], as: UTF8.self)
        guard let descr = field(header, "descr").flatMap(quoted), let order = field(header, "fortran_order"),
              let shapeText = field(header, "shape") else {
            throw fail("has a .npy header without descr, fortran_order and shape: \(header.prefix(80))")
        }
        let dtype = NumpyDType(descr)
        guard let type = dtype.type, ["<f4", "<f8", "<f2", "<i8", "<i4", "|u1", ">f4", ">f8", ">f2", ">i8", ">i4", "|b1"].contains(descr) else {
            throw fail("has dtype '\(descr)'; supported: '<f4', '<f8', '<f2', '<i8', '<i4', '|u1'")
        }
        guard order.hasPrefix("False") else {
            throw fail("stores its array in Fortran order; only C order is read",
                       hint: "in Python save np.ascontiguousarray(a) instead of a")
        }
        let inner = shapeText.drop { $0 == "(" }.prefix { $0 != ")" }
        var shape: [Int] = []
        for part in inner.split(separator: ",") where !part.trimmingSpaces.isEmpty {
            guard let n = Int(part.trimmingSpaces), n >= 0 else { throw fail("has an unreadable shape \(shapeText.prefix(40))") }
            shape.append(n)
        }
        guard let count = checkedProduct(shape), case let (need, false) = count.multipliedReportingOverflow(by: type.size),
              need <= bytes.count - start - length else {
            throw fail("has shape \(shape) of \(descr) but only \(bytes.count - start - length) bytes of data; the file is truncated")
        }
        let values = Convert.gather(UnsafeRawBufferPointer(rebasing: bytes[(start + length)...]), type: type,
                                    bigEndian: dtype.bigEndian, offset: 0, shape: shape, strides: Convert.rowMajorStrides(shape))
        return TensorData(shape: shape, values: values)
    }

    /// Reads a .npy file.
    /// - Parameters:
    ///   - path: the file.
    public static func read(_ path: String) throws -> TensorData {
        try FileBytes.withContents(path) { try decode($0, name: path) }
    }

    /// The text after `'key':` in a header dict literal, up to the end of the header.
    private static func field(_ header: String, _ key: String) -> Substring? {
        guard let r = header.range(of: "'\(key)':") else { return nil }
        return header[r.upperBound...].drop { $0 == " " }
    }

    /// The contents of a leading quoted string: `'<f4', ...` gives `<f4`.
    private static func quoted(_ s: Substring) -> String? {
        guard let q = s.first, q == "'" || q == "\"" else { return nil }
        return String(s.dropFirst().prefix { $0 != q })
    }
}

extension Substring {
    /// The text without leading and trailing spaces.
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}
