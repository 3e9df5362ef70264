import Foundation

/// The one door through which ConvLens reads a file it did not write: an image, weights, labels, a kernel file, an
/// ONNX model. Before a byte is read it refuses what is not a regular file (a FIFO blocks, `/dev/zero` never ends, a
/// directory has no bytes) and what is larger than the cap for its kind (a 100 GB sparse file costs nothing to
/// make), each with one line naming the file. Opening itself never blocks: the descriptor is non-blocking until
/// it is known to be a regular file.
public enum InputFile {
    /// What a file is read as: the noun for messages and the largest size accepted.
    public struct Kind: Sendable {
        /// What the file should have been, for messages: "an image", "a labels file".
        public var noun: String
        /// The largest file accepted, in bytes.
        public var maxBytes: Int
        /// What the user can do about a file over the cap, if anything: "pass --max-pixels to allow it".
        public var hint: String?

        /// Makes a kind.
        /// - Parameters:
        ///   - noun: what the file should have been, with its article: "a kernel file".
        ///   - maxBytes: the largest file accepted.
        ///   - hint: what to do about a file over the cap.
        public init(_ noun: String, maxBytes: Int, hint: String? = nil) {
            self.noun = noun
            self.maxBytes = maxBytes
            self.hint = hint
        }

        /// An image under a pixel limit: 8 bytes per allowed pixel (an uncompressed 16-bit RGBA PNG, the largest way
        /// to store one) plus 64 MiB of metadata, so 867 MB at the default 100 MP. A larger file cannot be an image
        /// within the limit, except by padding that would never be decoded.
        public static func image(maxPixels: Int) -> Kind {
            let (scaled, overflow) = max(maxPixels, 0).multipliedReportingOverflow(by: 8)
            let (cap, overflow2) = scaled.addingReportingOverflow(64 << 20)
            return Kind("an image", maxBytes: overflow || overflow2 ? .max : cap, hint: "pass --max-pixels to allow larger images")
        }

        /// A class-name file: 4 MiB, eight times ImageNet-21k's 21,843 names (ImageNet-1k's take 21 KB).
        public static let labels = Kind("a labels file", maxBytes: 4 << 20)

        /// A weights file under the reader's size limit (64 GiB by default: weights are the one input that is
        /// legitimately huge; reading one needs its size in memory, which is asked for before reading).
        public static func weights(maxBytes: Int) -> Kind { Kind("a weights file", maxBytes: maxBytes) }
    }

    /// How much of a larger file `checkHead` sees before the rest is read.
    public static let headBytes = 1 << 16

    /// Reads a whole file into an array.
    /// - Parameters:
    ///   - path: the file; errors name it as given.
    ///   - kind: what it is read as, which caps its size.
    ///   - checkHead: called with the first `headBytes` of a larger file before the rest is read, so that a file
    ///     its first bytes condemn (not an image, a header over a limit) costs no more reading.
    public static func read(_ path: String, as kind: Kind,
                            checkHead: (UnsafeRawBufferPointer) throws -> Void = { _ in }) throws -> [UInt8] {
        let (fd, size) = try open(path, as: kind)
        defer { close(fd) }
        return try [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            try readAll(fd, into: UnsafeMutableRawBufferPointer(buffer), path: path, checkHead: checkHead)
            initialized = size
        }
    }

    /// Reads a whole file into memory of its own and runs `body` on the bytes; the memory is freed when `body`
    /// returns, so nothing derived from the buffer may escape it. The copy is ours: a file truncated while it is
    /// read gives an error, never a SIGBUS as a mapping of it would.
    /// - Parameters:
    ///   - path: the file; errors name it as given.
    ///   - kind: what it is read as, which caps its size.
    ///   - checkHead: called with the first `headBytes` of a larger file before the rest is read.
    ///   - body: runs on the file's bytes.
    public static func withContents<R>(_ path: String, as kind: Kind,
                                       checkHead: (UnsafeRawBufferPointer) throws -> Void = { _ in },
                                       _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let (fd, size) = try open(path, as: kind)
        defer { close(fd) }
        if size == 0 { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        // Pages of our own, given back by munmap: malloc would keep a big buffer in the heap once freed (the engine
        // turns trimming off), so a 500 MB checkpoint would leave 500 MB behind besides its tensors.
        let memory = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let memory, memory != MAP_FAILED else {
            throw InputFileError(path: path, reason: .tooLarge, "is \(byteCount(size)), more than this machine can allocate to read it")
        }
        defer { munmap(memory, size) }
        let buffer = UnsafeMutableRawBufferPointer(start: memory, count: size)
        try readAll(fd, into: buffer, path: path, checkHead: checkHead)
        return try body(UnsafeRawBufferPointer(buffer))
    }

    /// Opens a file for reading after checking what it is; returns the descriptor (blocking again) and the size.
    static func open(_ path: String, as kind: Kind) throws -> (fd: Int32, size: Int) {
        var info = stat()
        // What the path already shows to be no regular file is never opened: opening a device can have effects of
        // its own (a serial line hangs up, a tape rewinds). Errors of stat are left to open, which reports them.
        if stat(path, &info) == 0 { try check(info, path: path, kind: kind) }
        let fd = Foundation.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else {
            let e = errno
            if e == ENOENT || e == ENOTDIR { throw InputFileError(path: path, reason: .missing, "no such file") }
            throw InputFileError(path: path, reason: .unreadable, "cannot open: \(String(cString: strerror(e)))")
        }
        do {
            guard fstat(fd, &info) == 0 else {
                throw InputFileError(path: path, reason: .unreadable, "cannot stat: \(String(cString: strerror(errno)))")
            }
            try check(info, path: path, kind: kind)  // again, on what was opened: the path may have changed since
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
            return (fd, Int(info.st_size))
        } catch {
            close(fd)
            throw error
        }
    }

    /// Refuses anything but a regular file within the kind's cap.
    static func check(_ info: stat, path: String, kind: Kind) throws {
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG else {
            if type == S_IFDIR { throw InputFileError(path: path, reason: .notRegular, "is a directory, not \(kind.noun)") }
            let what = [S_IFIFO: "named pipe (FIFO)", S_IFCHR: "character device", S_IFBLK: "block device", S_IFSOCK: "socket"]
            throw InputFileError(path: path, reason: .notRegular,
                                 "is a \(what[type] ?? "special file"), not a regular file; give \(kind.noun) as a regular file")
        }
        let size = Int(info.st_size)
        guard size <= kind.maxBytes else {
            throw InputFileError(path: path, reason: .tooLarge, "is \(byteCount(size)), over the \(byteCount(kind.maxBytes)) "
                + "limit for \(kind.noun)" + (kind.hint.map { "; \($0)" } ?? ""))
        }
    }

    /// Reads exactly `buffer.count` bytes, calling `checkHead` once the head of a larger file is in.
    static func readAll(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String,
                        checkHead: (UnsafeRawBufferPointer) throws -> Void) throws {
        let size = buffer.count, head = min(buffer.count, headBytes)
        var done = 0
        while done < size {
            let end = done < head ? head : size
            let n = Foundation.read(fd, buffer.baseAddress! + done, min(end - done, 1 << 30))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw InputFileError(path: path, reason: .unreadable, "read failed: \(String(cString: strerror(errno)))") }
            if n == 0 {
                throw InputFileError(path: path, reason: .changed, "shrank from \(byteCount(size)) to \(byteCount(done)) while "
                    + "being read; read it again once whatever is writing it has finished")
            }
            done += n
            if done == head && head < size { try checkHead(UnsafeRawBufferPointer(rebasing: buffer[..<head])) }
        }
    }
}

/// A file refused at the input boundary: missing, not a regular file, over its kind's cap, or changed while read.
public struct InputFileError: Error, CustomStringConvertible, Sendable {
    /// Why, for callers that map it onto their own error kinds.
    public enum Reason: Sendable {
        case missing, unreadable, notRegular, tooLarge, changed
    }

    /// The file as the caller named it.
    public let path: String
    public let reason: Reason
    /// The problem, without the name: "is a named pipe (FIFO), not a regular file; ...".
    public let problem: String

    public init(path: String, reason: Reason, _ problem: String) {
        self.path = path
        self.reason = reason
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)".printable }
}

/// A byte count for messages: "528.0 MB", "24 bytes".
public func byteCount(_ n: Int) -> String {
    if n < 10_000 { return "\(n) bytes" }
    let units = ["KB", "MB", "GB", "TB", "PB", "EB"]
    var v = Double(n) / 1000
    var i = 0
    while v >= 1000 && i < units.count - 1 { v /= 1000; i += 1 }
    return String(format: "%.1f %@", v, units[i])
}
