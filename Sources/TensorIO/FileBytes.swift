// Reading a whole file in one go, and little-endian field access for the binary formats.
import Foundation

enum FileBytes {
    /// Maps a whole file read-only and runs `body` on its bytes; the mapping is gone when `body` returns, so nothing
    /// derived from the buffer may escape it. Mapping instead of reading saves a copy and a file-sized allocation.
    /// - Parameters:
    ///   - path: the file to read.
    ///   - limits: `maxBytes` bounds the file size.
    ///   - body: runs on the file's bytes.
    static func withContents<R>(_ path: String, limits: Limits = .default, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let reason = errno == ENOENT ? "file not found" : String(cString: strerror(errno))
            throw TensorFileError(file: path, "cannot open: \(reason)")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw TensorFileError(file: path, "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw TensorFileError(file: path, "is not a regular file (a directory?)")
        }
        let size = Int(info.st_size)
        guard size <= limits.maxBytes else {
            throw TensorFileError(file: path, "is \(byteCount(size)), over the \(byteCount(limits.maxBytes)) limit")
        }
        if size == 0 { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0)
        guard let address, address != MAP_FAILED else {
            throw TensorFileError(file: path, "cannot map into memory: \(String(cString: strerror(errno)))")
        }
        defer { munmap(address, size) }
        return try body(UnsafeRawBufferPointer(start: address, count: size))
    }

    /// Reads a whole file into an array (for tests and small files).
    /// - Parameters:
    ///   - path: the file to read.
    ///   - limits: `maxBytes` bounds the file size.
    static func read(_ path: String, limits: Limits = .default) throws -> [UInt8] {
        try withContents(path, limits: limits) { Array($0) }
    }
}

/// A byte count for messages: "528.0 MB", "24 bytes".
func byteCount(_ n: Int) -> String {
    if n < 10_000 { return "\(n) bytes" }
    let units = ["KB", "MB", "GB", "TB", "PB", "EB"]
    var v = Double(n) / 1000
    var i = 0
    while v >= 1000 && i < units.count - 1 { v /= 1000; i += 1 }
    return String(format: "%.1f %@", v, units[i])
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
