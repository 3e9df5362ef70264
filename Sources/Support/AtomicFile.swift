import Foundation
import Synchronization

/// Writes files so that readers never see a half-written one: the bytes go to a hidden temporary file in the
/// destination's directory, which is then renamed over the destination (rename is atomic within a filesystem).
///
/// This is the one place ConvLens creates temporary files. Each one is registered while it exists, and SIGINT,
/// SIGTERM and SIGHUP remove the registered ones before the process dies of the signal, so Ctrl-C leaves nothing
/// behind. Only regular files (or new paths) are written: a device node, FIFO or socket at the destination is refused,
/// never replaced.
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
    /// removes the temporary file on any error (or on a terminating signal).
    public static func write(to path: String, _ body: (Int32) throws -> Void) throws {
        let dir = try checkWritable(path)
        // A short name, whatever the destination's: a 250-character file name must still leave room for it.
        var tmp = "", fd: Int32 = -1, slot: Int?
        for _ in 0 ..< 8 {
            tmp = dir + "/.convlens-\(String(UInt32.random(in: 0 ... .max), radix: 36)).tmp"
            slot = LiveTemporaries.shared.register(tmp)      // before the file exists, so no signal can miss it
            fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 || errno != EEXIST { break }
            LiveTemporaries.shared.unregister(slot)          // someone else's file: never remove it
        }
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            LiveTemporaries.shared.unregister(slot)
            throw FileError(path: path, message: "cannot write to '\(dir)': \(reason)")
        }
        do {
            try body(fd)
            guard fsync(fd) == 0 || errno == EINVAL else {
                throw FileError(path: path, message: "cannot flush: \(String(cString: strerror(errno)))")
            }
            let closed = close(fd)
            fd = -1  // closed either way: never close it twice (the number may belong to another file by then)
            guard closed == 0 else { throw FileError(path: path, message: "cannot write: \(String(cString: strerror(errno)))") }
            try refuseSpecialFile(path)                      // again: something may have appeared since the check
            guard rename(tmp, path) == 0 else {
                throw FileError(path: path, message: "cannot rename into place: \(String(cString: strerror(errno)))")
            }
            LiveTemporaries.shared.unregister(slot)
        } catch {
            if fd >= 0 { close(fd) }
            unlink(tmp)
            LiveTemporaries.shared.unregister(slot)
            throw error
        }
    }

    /// Checks, before any work is done, that `write` can put a file at `path`: its directory exists, is a
    /// directory and accepts new files, and `path` is new or a regular file (not a directory, device, FIFO or
    /// socket). Run it before a long computation so that a bad output path fails in a second, not after the work.
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
        try refuseSpecialFile(path)
        guard access(dir, W_OK | X_OK) == 0 else {
            throw FileError(path: path, message: "cannot write to '\(dir)': \(String(cString: strerror(errno)))")
        }
        return dir
    }

    /// Throws unless `path` is new, a regular file, or a symbolic link (which the rename replaces, leaving its
    /// target alone). As root, renaming over /dev/null would replace the device with a file.
    static func refuseSpecialFile(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        let kind: String
        switch st.st_mode & S_IFMT {
        case S_IFREG, S_IFLNK: return
        case S_IFDIR: throw FileError(path: path, message: "is a directory; give a file name")
        case S_IFCHR: kind = "a character device"
        case S_IFBLK: kind = "a block device"
        case S_IFIFO: kind = "a FIFO"
        case S_IFSOCK: kind = "a socket"
        default: kind = "not a regular file"
        }
        throw FileError(path: path, message: "is \(kind), not a regular file; give a new path or a regular file")
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

    /// The temporary files that exist right now (for tests).
    public static var liveTemporaries: [String] { LiveTemporaries.shared.paths }
}

/// The temporary files `AtomicFile` has open, in a table allocated once, so that a signal handler can remove them
/// with nothing but loads and `unlink` (async-signal-safe: no allocation, no locks).
///
/// A slot is free (0), being filled (1) or live (2); its path is written before it turns live, with release
/// ordering, and the handler reads it after an acquiring load.
final class LiveTemporaries: @unchecked Sendable {  // the slots are only touched through atomics and owned paths
    static let shared = LiveTemporaries()
    static let slots = 32
    static let pathCapacity = Int(PATH_MAX)

    /// (slots, pathCapacity) NUL-terminated paths.
    let pathBuffer: UnsafeMutablePointer<CChar>
    /// (slots) slot states.
    let states: UnsafeMutablePointer<Atomic<Int>>

    private init() {
        pathBuffer = .allocate(capacity: Self.slots * Self.pathCapacity)
        pathBuffer.initialize(repeating: 0, count: Self.slots * Self.pathCapacity)
        states = .allocate(capacity: Self.slots)
        for i in 0 ..< Self.slots { (states + i).initialize(to: Atomic(0)) }
        for sig in [SIGINT, SIGTERM, SIGHUP] { installHandler(sig) }
    }

    /// Registers a path; nil when it is too long or the table is full (then a signal leaves it behind).
    func register(_ path: String) -> Int? {
        let bytes = Array(path.utf8CString)
        guard bytes.count <= Self.pathCapacity else { return nil }
        for i in 0 ..< Self.slots where states[i].compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
            bytes.withUnsafeBufferPointer { b in (pathBuffer + i * Self.pathCapacity).update(from: b.baseAddress!, count: b.count) }
            states[i].store(2, ordering: .releasing)
            return i
        }
        return nil
    }

    func unregister(_ slot: Int?) {
        if let slot { states[slot].store(0, ordering: .releasing) }
    }

    var paths: [String] {
        (0 ..< Self.slots).filter { states[$0].load(ordering: .acquiring) == 2 }.map { String(cString: pathBuffer + $0 * Self.pathCapacity) }
    }

    /// Removes every live temporary. Called from the signal handler: loads and unlink only.
    func removeAll() {
        for i in 0 ..< Self.slots where states[i].load(ordering: .acquiring) == 2 { unlink(pathBuffer + i * Self.pathCapacity) }
    }

    /// Catches `sig` unless it is ignored (nohup, a background job), so as not to make an ignored signal fatal.
    private func installHandler(_ sig: Int32) {
        var old = sigaction()
        guard sigaction(sig, nil, &old) == 0,
              unsafeBitCast(old.__sigaction_handler.sa_handler, to: Int.self) != unsafeBitCast(SIG_IGN, to: Int.self) else { return }
        var action = sigaction()
        action.__sigaction_handler.sa_handler = removeTemporariesAndDie
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(sig, &action, nil)
    }
}

/// The handler of SIGINT, SIGTERM and SIGHUP: removes the live temporaries, then dies of the same signal with its
/// default action, so the parent sees the signal (a shell reports 128 + signal, and stops a loop on Ctrl-C).
private func removeTemporariesAndDie(_ sig: Int32) {
    LiveTemporaries.shared.removeAll()
    signal(sig, SIG_DFL)
    raise(sig)
}

/// A file that could not be read or written, with a message a user can act on.
public struct FileError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public init(path: String, message: String) { self.path = path; self.message = message }
    public var description: String { "\(path): \(message)".printable }
}
