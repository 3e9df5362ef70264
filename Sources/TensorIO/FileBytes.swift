// Reading a whole file in one go, and little-endian field access for the binary formats.
import Foundation

enum FileBytes {
    /// Reads the whole file into memory with one open and a few large reads.
    /// - Parameters:
    ///   - path: the file to read.
    ///   - limits: `maxBytes` bounds the file size.
    static func read(_ path: String, limits: Limits = .default) throws -> [UInt8] {
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
        var failure: String?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buf, count in
            var done = 0
            while done < size {
                let n = Foundation.read(fd, buf.baseAddress! + done, min(size - done, 1 << 30))
                if n < 0 && errno == EINTR { continue }
                if n < 0 { failure = String(cString: strerror(errno)); break }
                if n == 0 { failure = "the file shrank while being read"; break }
                done += n
            }
            count = done
        }
        if let failure { throw TensorFileError(file: path, "cannot read: \(failure)") }
        return bytes
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

extension Array where Element == UInt8 {
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
