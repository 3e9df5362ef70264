import Support
/// Text made safe for HTML.
public enum HTML {
    /// Escapes `s` for HTML text and for attribute values in either kind of quotes: `& < > " '` become entities,
    /// and characters that are invisible or reorder text (C0 and C1 controls, DEL, bidirectional overrides and
    /// isolates) become a visible `\u{1B}`, so a hostile file name shows as what it is.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.printable.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }
}
