/// A problem with what the user asked for (an unknown layer, a class index out of range), as opposed to a problem
/// with a file. The command line exits with 2 for these and 1 for the rest.
public struct UsageError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// `text` with its control characters written as escapes (`\n`, `\t`, `\r`, `\u{1B}`), and the bidirectional
/// overrides too, so that a hostile file name can neither break an error line in two nor drive the terminal.
/// - Parameters:
///   - text: a message that may quote user input.
///   - keepingNewlines: leave `\n` alone (for multi-line usage text that is ours).
public func escapingControlCharacters(_ text: String, keepingNewlines: Bool = false) -> String {
    var out = ""
    out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
    for s in text.unicodeScalars {
        let bidi = (0x202A ... 0x202E).contains(s.value) || (0x2066 ... 0x2069).contains(s.value)
        guard s.properties.generalCategory == .control || bidi, !(keepingNewlines && s == "\n") else {
            out.unicodeScalars.append(s)
            continue
        }
        switch s {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default: out += "\\u{" + String(s.value, radix: 16, uppercase: true) + "}"
        }
    }
    return out
}
