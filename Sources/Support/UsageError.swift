/// A problem with what the user asked for (an unknown layer, a class index out of range), as opposed to a problem
/// with a file. The command line exits with 2 for these and 1 for the rest.
public struct UsageError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

