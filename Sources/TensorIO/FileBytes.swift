// Reading a whole file in one go, and little-endian field access for the binary formats.
import Foundation
import Support

enum FileBytes {
    /// Reads a whole file through the input boundary (a regular file within `limits.maxBytes`) and runs `body` on
    /// its bytes; they are freed when `body` returns, so nothing derived from the buffer may escape it. The bytes are
    /// read, not mapped: a mapped file that shrinks kills the process with SIGBUS, and reading costs no more (README,
    /// "Hostile input").
    /// - Parameters:
    ///   - path: the file to read.
    ///   - limits: `maxBytes` bounds the file size.
    ///   - checkHead: called with the first 64 KiB of a larger file before the rest is read.
    ///   - body: runs on the file's bytes.
    ///   - noun: what the file should be, for messages ("is a FIFO, not a weights file").
    static func withContents<R>(_ path: String, limits: Limits = .default, noun: String = "a weights file",
                                checkHead: (UnsafeRawBufferPointer) throws -> Void = { _ in },
                                _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        do {
            return try InputFile.withContents(path, as: InputFile.Kind(noun, maxBytes: limits.maxBytes), checkHead: checkHead, body)
        } catch let error as InputFileError {
            throw TensorFileError(file: path, error.problem)
        }
    }

    /// Reads a whole file into an array (for tests and small files).
    /// - Parameters:
    ///   - path: the file to read.
    ///   - limits: `maxBytes` bounds the file size.
    static func read(_ path: String, limits: Limits = .default) throws -> [UInt8] {
        try withContents(path, limits: limits) { Array($0) }
    }
}

extension UnsafeRawBufferPointer {
    /// The unsigned little-endian integer of `width` bytes at `offset`; the caller has checked the bounds.
    @inline(__always) func le(_ offset: Int, _ width: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in (0 ..< width).reversed() { v = v << 8 | UInt64(self[offset + i]) }
        return v
    }
}

/// Multiplies sizes, returning nil on overflow or a negative factor.
func checkedProduct(_ xs: [Int]) -> Int? {
    var p = 1
    for x in xs {
        guard x >= 0 else { return nil }
        let (r, o) = p.multipliedReportingOverflow(by: x)
        if o { return nil }
        p = r
    }
    return p
}
