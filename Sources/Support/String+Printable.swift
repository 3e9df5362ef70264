extension String {
    /// The string with every control character written as an escape, so that a hostile file name or label can neither
    /// break an error message into several lines nor move a terminal's cursor: "a\nb" becomes `a\nb`, ESC `\x1b`, a C1
    /// control `\u{85}`, a bidirectional override (which reorders what a terminal shows) `\u{202e}`. Everything else,
    /// backslashes included, is kept, so escaping twice changes nothing more.
    public var printable: String {
        guard unicodeScalars.contains(where: Self.needsEscape) else { return self }
        var out = ""
        for scalar in unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x80 && Self.needsEscape(scalar):
                let hex = String(scalar.value, radix: 16)
                out += "\\x" + (hex.count < 2 ? "0" : "") + hex
            case _ where Self.needsEscape(scalar): out += "\\u{" + String(scalar.value, radix: 16) + "}"
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
