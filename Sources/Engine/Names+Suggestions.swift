/// The valid names closest to a misspelt one, by edit distance, as `unknownLayerMessage` picks them: at most three,
/// within max(2, a third of the name's length); among equals, the one whose trailing number is nearest.
/// - Parameters:
///   - name: what the user typed, e.g. "gradcamm".
///   - known: every valid name.
public func closestNames(to name: String, among known: [String]) -> [String] {
    known.map { ($0, editDistance(name.lowercased(), $0.lowercased()), numberGap(name, $0)) }
        .filter { $0.1 <= max(2, name.count / 3) }
        .sorted { ($0.1, $0.2) < ($1.1, $1.2) }
        .prefix(3).map(\.0)
}

/// The message for an unknown name of any kind: "unknown CAM method 'gradcamm'; did you mean 'gradcam'? methods
/// are: gradcam, gradcam++, ...".
/// - Parameters:
///   - kind: what the name names, e.g. "CAM method", "colormap", "command".
///   - name: what the user typed.
///   - known: every valid name, in the order to list them.
///   - plural: the heading of the list, e.g. "methods" (default: `kind` + "s").
public func unknownNameMessage(_ kind: String, _ name: String, known: [String], plural: String? = nil) -> String {
    let close = closestNames(to: name, among: known)
    let hint = close.isEmpty ? "" : "; did you mean " + close.map { "'\($0)'" }.joined(separator: " or ") + "?"
    return "unknown \(kind) '\(name)'\(hint)\(close.isEmpty ? ";" : "") \(plural ?? kind + "s") are: \(known.joined(separator: ", "))"
}
