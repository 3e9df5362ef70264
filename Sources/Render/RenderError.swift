/// A rendering request that cannot be carried out, with a message a user can act on.
public enum RenderError: Error, CustomStringConvertible, Equatable {
    /// A colormap name that is not built in.
    case unknownColormap(String, known: [String])
    /// An output path whose extension names no supported format.
    case unknownFormat(path: String)
    /// Cairo reported a failure (out of memory, a surface too large, ...).
    case cairo(String)

    public var description: String {
        switch self {
        case let .unknownColormap(name, known):
            return "unknown colormap '\(name)'; colormaps are: \(known.joined(separator: ", "))"
        case let .unknownFormat(path):
            return "cannot tell the figure format of '\(path)'; use a path ending in .png, .svg or .pdf"
        case let .cairo(message):
            return "cairo: \(message)"
        }
    }
}
