import Foundation
import Support

extension NPY {
    /// The shape and data offset of a float32 C-order .npy file, from its header alone.
    /// - Parameters:
    ///   - path: the file.
    public static func header(_ path: String) throws -> (shape: [Int], dataOffset: Int) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TensorFileError(file: path, "cannot be opened for reading")
        }
        defer { try? handle.close() }
        let head = [UInt8](handle.readData(ofLength: 10))
        guard head.count == 10, head[0] == 0x93, head[6] == 1 else { throw TensorFileError(file: path, "is not a version 1.0 .npy file") }
        let length = Int(head[8]) | Int(head[9]) << 8
        let dict = [UInt8](handle.readData(ofLength: length))
        return (try headerShape(String(decoding: dict, as: UTF8.self), name: path), 10 + length)
    }

    /// The shape in a header dict, checking that the data is '<f4' in C order.
    static func headerShape(_ header: String, name: String) throws -> [Int] {
        guard header.contains("'descr': '<f4'"), header.contains("'fortran_order': False"),
              let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw TensorFileError(file: name, "is not a float32 C-order .npy file")
        }
        return try header[open.upperBound ..< close].split(separator: ",").map { part in
            guard let n = Int(part.trimmingSpaces), n >= 0 else { throw TensorFileError(file: name, "has an unreadable shape") }
            return n
        }
    }

    /// Joins rows of float32 .npy files along their first axis into one file, written atomically, streaming the data
    /// in pieces of at most 8 MB (memory does not grow with the files).
    /// - Parameters:
    ///   - pieces: files whose shapes agree after the first axis, each with the rows to take; at least one.
    ///   - path: the destination.
    /// - Returns: the joined shape.
    @discardableResult
    public static func concatenate(_ pieces: [(file: String, rows: Range<Int>)], to path: String) throws -> [Int] {
        let inputs = pieces.map(\.file), headers = try inputs.map(header)
        guard let first = headers.first?.shape, !first.isEmpty else { throw TensorFileError(file: path, "nothing to join") }
        for (input, h) in zip(inputs, headers) where Array(h.shape.dropFirst()) != Array(first.dropFirst()) {
            throw TensorFileError(file: input, "has shape \(h.shape); the others have (N, \(first.dropFirst().map(String.init).joined(separator: ", ")))")
        }
        for (p, h) in zip(pieces, headers) where p.rows.lowerBound < 0 || p.rows.upperBound > h.shape[0] {
            throw TensorFileError(file: p.file, "has \(h.shape[0]) rows; rows \(p.rows) were asked for")
        }
        let rowBytes = first.dropFirst().reduce(4, *)
        let shape = [pieces.reduce(0) { $0 + $1.rows.count }] + first.dropFirst()
        try AtomicFile.write(to: path) { fd in
            try header(shape: shape).withUnsafeBytes { try AtomicFile.writeAll(fd: fd, $0, path: path) }
            for (p, h) in zip(pieces, headers) {
                let input = p.file
                guard let handle = FileHandle(forReadingAtPath: input) else { throw TensorFileError(file: input, "cannot be opened for reading") }
                defer { try? handle.close() }
                try handle.seek(toOffset: UInt64(h.dataOffset + p.rows.lowerBound * rowBytes))
                var left = p.rows.count * rowBytes
                while left > 0 {
                    let piece = handle.readData(ofLength: min(left, 8 << 20))
                    guard !piece.isEmpty else { throw TensorFileError(file: input, "is shorter than its header says; the file is truncated") }
                    try piece.withUnsafeBytes { try AtomicFile.writeAll(fd: fd, $0, path: path) }
                    left -= piece.count
                }
            }
        }
        return shape
    }
}

extension NPY {
    /// The bytes before the data of a float32 C-order array of `shape`, as numpy writes them.
    public static func header(shape: [Int]) -> [UInt8] {
        var head = "{'descr': '<f4', 'fortran_order': False, 'shape': \(tuple(shape)), }"
        if let first = shape.first { head += String(repeating: " ", count: 21 - String(first).count) }  // numpy's GROWTH_AXIS_MAX_DIGITS
        return preamble(head)
    }
}
