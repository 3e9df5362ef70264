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
        let dir = try checkWritable(path)
        let tmp = dir + "/." + URL(fileURLWithPath: path).lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        var fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw FileError(path: path, message: "cannot write to '\(dir)': \(String(cString: strerror(errno)))")
        }
        do {
            try body(fd)
            guard fsync(fd) == 0 || errno == EINVAL else {
                throw FileError(path: path, message: "cannot flush: \(String(cString: strerror(errno)))")
            }
            let closed = close(fd)
            fd = -1  // closed either way: never close it twice (the number may belong to another file by then)
            guard closed == 0 else { throw FileError(path: path, message: "cannot write: \(String(cString: strerror(errno)))") }
            guard rename(tmp, path) == 0 else {
                throw FileError(path: path, message: "cannot rename into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            if fd >= 0 { close(fd) }
            unlink(tmp)
            throw error
        }
    }

    /// Checks, before any work is done, that `write` can put a file at `path`: its directory exists, is a
    /// directory and accepts new files, and `path` is not itself a directory. Run it before a long computation
    /// so that a bad output path fails in a second, not after the work.
    /// - Parameters:
    ///   - path: the destination.
    /// - Returns: the destination's directory.
    @discardableResult
    public static func checkWritable(_ path: String) throws -> String {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) else {
            throw FileError(path: path, message: "output directory '\(dir)' does not exist")
        }
        guard isDir.boolValue else {
            throw FileError(path: path, message: "cannot write there: '\(dir)' is a file, not a directory")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw FileError(path: path, message: "is a directory; give a file name")
        }
        guard access(dir, W_OK | X_OK) == 0 else {
            throw FileError(path: path, message: "cannot write to '\(dir)': \(String(cString: strerror(errno)))")
        }
        return dir
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
    public var description: String { "\(path): \(message)".printable }
}
