/// A rendering request that cannot be carried out, with a message a user can act on.
public enum RenderError: Error, CustomStringConvertible, Equatable {
    /// A colormap name that is not built in.
    case unknownColormap(String, known: [String])
    /// A figure that cannot fit the output, e.g. wider than a raster page at the scale asked for.
    case tooLarge(String)
    /// Cairo reported a failure (out of memory, a surface too large, ...).
    case cairo(String)

    public var description: String {
        switch self {
        case let .unknownColormap(name, known):
            return "unknown colormap '\(name)'; colormaps are: \(known.joined(separator: ", "))"
        case let .tooLarge(message):
            return message
        case let .cairo(message):
            return "cairo: \(message)"
        }
    }
}
