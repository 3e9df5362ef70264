import Support

/// An image that could not be read, decoded or written, as one line naming the file: "cat.png: truncated PNG (...)".
public struct ImageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, for callers that branch on it; the message is for people.
    public enum Kind: Sendable, Equatable {
        case missing        // no such file
        case unreadable     // permission, a directory, an I/O error
        case empty          // zero bytes
        case notAnImage     // neither PNG nor JPEG
        case tooLarge       // above the pixel limit
        case truncated      // the data ends early
        case corrupt        // the decoder refused the data
        case unsupported    // valid, but not something libjpeg decodes (12-bit JPEG, sides over 65500)
        case outOfMemory
        case writeFailed
    }

    /// The file path, or the name the caller gave for in-memory bytes.
    public let name: String
    public let kind: Kind
    /// The problem, without the name: "truncated PNG (libpng: Read Error)".
    public let problem: String

    public init(_ name: String, _ kind: Kind, _ problem: String) {
        self.name = name
        self.kind = kind
        self.problem = problem
    }

    /// "name: problem", control characters escaped.
    public var description: String { "\(name): \(problem)".printable }
}
