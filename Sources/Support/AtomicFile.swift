import Foundation

/// Writes files so that readers never see a half-written one: the bytes go to a hidden temporary file in the
/// destination's directory, which is then renamed over the destination (rename is atomic within a filesystem).
public enum AtomicFile {
    /// Writes `bytes` to `path` atomically, replacing any existing file.
    /// - Parameters:
    ///   - bytes: the complete file contents.
    ///   - path: the destination; its directory must exist and be writable.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try write(to: path) { fd in
            try bytes.withUnsafeBytes { buf in try writeAll(fd: fd, buf, path: path) }
        }
    }

    /// Writes through `body`, which receives an open file descriptor of the temporary file; renames on success and
    /// removes the temporary file on any error.
    public static func write(to path: String, _ body: (Int32) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw FileError(path: path, message: "output directory '\(dir)' does not exist")
        }
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            throw FileError(path: path, message: "cannot write to '\(dir)': \(String(cString: strerror(errno)))")
        }
        do {
            try body(fd)
            guard fsync(fd) == 0 || errno == EINVAL else {
                throw FileError(path: path, message: "cannot flush: \(String(cString: strerror(errno)))")
            }
            close(fd)
            guard rename(tmp, path) == 0 else {
                throw FileError(path: path, message: "cannot rename into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
    }

    /// Writes the whole buffer, retrying on partial writes.
    public static func writeAll(fd: Int32, _ buf: UnsafeRawBufferPointer, path: String) throws {
        var off = 0
        while off < buf.count {
            let n = Foundation.write(fd, buf.baseAddress! + off, buf.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, message: "write failed: \(String(cString: strerror(errno)))")
            }
            off += n
        }
    }
}

/// A file that could not be read or written, with a message a user can act on.
public struct FileError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public init(path: String, message: String) { self.path = path; self.message = message }
    public var description: String { "\(path): \(message)" }
}
