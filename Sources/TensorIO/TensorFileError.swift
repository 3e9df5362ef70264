import Support

/// An error with one line a user can act on, naming the file and the problem (and a `HINT:` where one helps).
public struct TensorFileError: Error, CustomStringConvertible, Sendable {
    /// The file as the caller named it.
    public let file: String
    /// One line saying what is wrong, e.g. "tensor 'conv1.weight' contains NaN".
    public let message: String
    /// What to do about it, printed on a second line after `HINT:`.
    public let hint: String?

    /// Makes an error.
    /// - Parameters:
    ///   - file: the file as the caller named it.
    ///   - message: one line saying what is wrong.
    ///   - hint: what the user can do, if something helps.
    public init(file: String, _ message: String, hint: String? = nil) {
        self.file = file
        self.message = message
        self.hint = hint
    }

    /// "file: message", with a second line "HINT: ..." if there is a hint; control characters escaped.
    public var description: String {
        let line = "\(file): \(message)".printable
        return hint.map { line + "\nHINT: " + $0.printable } ?? line
    }
}

/// Bounds on what a reader accepts, so that a hostile or corrupt file gives an error instead of exhausting
/// memory or the stack.
public struct Limits: Sendable {
    /// Deepest nesting of pickle MARKs and containers, and of JSON in a safetensors header.
    public var maxDepth: Int
    /// Most values on the unpickler's stack at once.
    public var maxStackSize: Int
    /// Most entries in the unpickler's memo.
    public var maxMemoSize: Int
    /// Largest file, and largest zip entry after inflating, in bytes.
    public var maxBytes: Int
    /// Most elements in one tensor.
    public var maxElements: Int
    /// Largest ratio of inflated to compressed size for a deflated zip entry. Deflate itself cannot pass 1032:1,
    /// so a larger declared size is a lie.
    public var maxInflateRatio: Int
    /// Most tensors (and dict entries visited to find them) in one file.
    public var maxTensors: Int
    /// Most bytes of Float32 tensors a file may expand to, per byte of the file, above a 256 MiB allowance. Shared
    /// storages, zero strides and deflate let a small file declare far more data than it holds; a real checkpoint
    /// expands at most 4 times (int8 to Float32), or a little more when deflate squeezed it.
    public var maxExpansion: Int
    /// The most memory the unpickler may keep for one file, and the most operations it may run: the ceilings of
    /// a budget of 64 MiB and 16 M operations plus 64 of each per byte of the file (see `PickleBudget`).
    public var maxPickleMemory: Int
    public var maxPickleOperations: Int

    /// Makes limits; every argument has the default's value.
    /// - Parameters:
    ///   - maxDepth: deepest nesting of pickle MARKs and containers.
    ///   - maxStackSize: most values on the unpickler's stack.
    ///   - maxMemoSize: most memo entries.
    ///   - maxBytes: largest file or inflated zip entry.
    ///   - maxElements: most elements in one tensor.
    ///   - maxInflateRatio: largest inflated/compressed ratio of a zip entry.
    ///   - maxTensors: most tensors in one file.
    ///   - maxExpansion: most bytes of Float32 output per byte of file, above 256 MiB.
    ///   - maxPickleMemory: most memory the unpickler keeps for one file (1 GiB).
    ///   - maxPickleOperations: most operations it runs for one file (2^28, seconds of work).
    public init(maxDepth: Int = 1000, maxStackSize: Int = 1 << 20, maxMemoSize: Int = 1 << 22,
                maxBytes: Int = 1 << 36, maxElements: Int = 1 << 33, maxInflateRatio: Int = 1100,
                maxTensors: Int = 1 << 20, maxExpansion: Int = 32, maxPickleMemory: Int = 1 << 30,
                maxPickleOperations: Int = 1 << 28) {
        self.maxDepth = maxDepth
        self.maxStackSize = maxStackSize
        self.maxMemoSize = maxMemoSize
        self.maxBytes = maxBytes
        self.maxElements = maxElements
        self.maxInflateRatio = maxInflateRatio
        self.maxTensors = maxTensors
        self.maxExpansion = maxExpansion
        self.maxPickleMemory = maxPickleMemory
        self.maxPickleOperations = maxPickleOperations
    }

    /// Generous bounds that every real checkpoint fits: 64 GiB files, 8 G elements per tensor, nesting 1000, output
    /// up to 32 times the file.
    public static let `default` = Limits()
}

/// What one file may expand to: `Limits.maxExpansion` times its size in Float32 bytes, and at least 256 MiB. Readers
/// spend from it before they allocate each tensor, so a small file cannot make them allocate without bound.
struct OutputBudget {
    /// The allowance every file gets, however small.
    static let floor = 1 << 28
    let file: String
    let fileBytes: Int
    let allowed: Int
    private(set) var spent = 0

    /// A budget for one file.
    /// - Parameters:
    ///   - file: the file's name for messages.
    ///   - fileBytes: the file's size.
    ///   - limits: `maxExpansion` sets the multiple.
    init(file: String, fileBytes: Int, limits: Limits) {
        self.file = file
        self.fileBytes = fileBytes
        let (scaled, overflow) = fileBytes.multipliedReportingOverflow(by: max(limits.maxExpansion, 1))
        allowed = overflow ? .max : max(scaled, Self.floor)
    }

    /// Takes a tensor's Float32 bytes out of the budget, or refuses it.
    /// - Parameters:
    ///   - elements: the tensor's element count.
    ///   - tensor: its name for messages.
    mutating func spend(elements: Int, tensor: String) throws {
        let (bytes, o1) = elements.multipliedReportingOverflow(by: 4)
        let (total, o2) = spent.addingReportingOverflow(bytes)
        guard !o1, !o2, total <= allowed else {
            throw TensorFileError(file: file, "tensors expand past \(byteCount(allowed)) of Float32 at '\(tensor)', "
                + "too much for a file of \(byteCount(fileBytes)) (shared or expanded storages, or a zip bomb); the file is corrupt or hostile")
        }
        spent = total
    }
}
