/// The message for an unknown layer name: the closest valid names, then all of them.
/// - Parameters:
///   - name: what the user asked for.
///   - known: every valid name, in network order.
public func unknownLayerMessage(_ name: String, known: [String]) -> String {
    // Closest by edit distance; among equals, the one whose trailing number is nearest ("fire10" → "fire9").
    let close = known.map { ($0, editDistance(name, $0), numberGap(name, $0)) }
        .filter { $0.1 <= max(2, name.count / 3) }
        .sorted { ($0.1, $0.2) < ($1.1, $1.2) }
        .prefix(3).map(\.0)
    let hint = close.isEmpty ? "" : "; did you mean " + close.map { "'\($0)'" }.joined(separator: " or ") + "?"
    let list = known.count > 40 ? known.prefix(40).joined(separator: ", ") + ", … (\(known.count) in all; `convlens layers` lists them)"
                                : known.joined(separator: ", ")
    return "unknown layer '\(name)'\(hint) Layers are: \(list)"
}

/// How far apart the trailing numbers of two names are (Int.max when either has none).
func numberGap(_ a: String, _ b: String) -> Int {
    func trailing(_ s: String) -> Int? { Int(String(s.reversed().prefix { $0.isNumber }.reversed())) }
    guard let x = trailing(a), let y = trailing(b) else { return .max }
    return abs(x - y)
}

/// Levenshtein distance between two strings.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    var prev = Array(0 ... b.count), cur = prev
    for i in 1 ... a.count {
        cur[0] = i
        if b.isEmpty { prev = cur; continue }
        for j in 1 ... b.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        prev = cur
    }
    return prev[b.count]
}
