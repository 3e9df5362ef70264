extension String {
    /// The string with every control character written as an escape, so that a hostile file name or label can neither
    /// break an error message into several lines nor move a terminal's cursor: "a\nb" becomes `a\nb`, ESC `\u{1B}`, a C1
    /// control `\u{85}`, a bidirectional override (which reorders what a terminal shows) `\u{202E}`. Everything else,
    /// backslashes included, is kept, so escaping twice changes nothing more.
    public var printable: String {
        guard unicodeScalars.contains(where: Self.needsEscape) else { return self }
        var out = ""
        for scalar in unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where Self.needsEscape(scalar): out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// C0 and C1 controls, DEL, and the bidirectional embeddings, overrides and isolates.
    private static func needsEscape(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || (0x7F ... 0x9F).contains(s.value) || (0x202A ... 0x202E).contains(s.value)
            || (0x2066 ... 0x2069).contains(s.value)
    }
}

/// `text.printable`, the one escaping of messages; with `keepingNewlines`, line breaks stay (multi-line usage text
/// that is ours) and each line is escaped.
public func escapingControlCharacters(_ text: String, keepingNewlines: Bool = false) -> String {
    keepingNewlines ? text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0).printable }.joined(separator: "\n")
                    : text.printable
}

/// A user's text quoted for a one-line message: `quote` around it, that quote and backslashes escaped, control
/// characters escaped as `printable` does, and cut after `limit` characters with an ellipsis.
public func quoted(_ text: String, limit: Int = 80, quote: Character = "'") -> String {
    var out = "", cut = false
    for (i, u) in text.unicodeScalars.enumerated() {
        if i == limit { cut = true; break }
        if Character(u) == quote || u == "\\" { out += "\\" }
        out.unicodeScalars.append(u)
    }
    return String(quote) + out.printable + (cut ? "…" : "") + String(quote)
}
