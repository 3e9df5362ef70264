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

    public var description: String {
        if let hint { return "\(file): \(message)\nHINT: \(hint)" }
        return "\(file): \(message)"
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

    /// Makes limits; every argument has the default's value.
    /// - Parameters:
    ///   - maxDepth: deepest nesting of pickle MARKs and containers.
    ///   - maxStackSize: most values on the unpickler's stack.
    ///   - maxMemoSize: most memo entries.
    ///   - maxBytes: largest file or inflated zip entry.
    ///   - maxElements: most elements in one tensor.
    ///   - maxInflateRatio: largest inflated/compressed ratio of a zip entry.
    ///   - maxTensors: most tensors in one file.
    public init(maxDepth: Int = 1000, maxStackSize: Int = 1 << 20, maxMemoSize: Int = 1 << 22,
                maxBytes: Int = 1 << 36, maxElements: Int = 1 << 33, maxInflateRatio: Int = 1100,
                maxTensors: Int = 1 << 20) {
        self.maxDepth = maxDepth
        self.maxStackSize = maxStackSize
        self.maxMemoSize = maxMemoSize
        self.maxBytes = maxBytes
        self.maxElements = maxElements
        self.maxInflateRatio = maxInflateRatio
        self.maxTensors = maxTensors
    }

    /// Generous bounds that every real checkpoint fits: 64 GiB files, 8 G elements per tensor, nesting 1000.
    public static let `default` = Limits()
}
