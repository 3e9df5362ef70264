extension FigureWriter {
    /// Renders `figure` as `<svg>` elements to put inside an HTML page, one per page (see `renderPages`), with
    /// every id prefixed by `idPrefix` + the page number.
    ///
    /// Cairo names its glyphs, clip paths, patterns and images `glyph0-1`, `clip1`, `image5`, ... in every SVG it
    /// writes. Ids share one namespace across an HTML page, so two inline SVGs that both define `glyph0-1` are drawn
    /// with the first one's glyphs; prefixing them makes each figure draw with its own.
    /// - Parameters:
    ///   - figure: what to draw.
    ///   - idPrefix: unique on the HTML page, e.g. "fig3-"; letters, digits and '-' only.
    public static func inlineSVG(_ figure: any Figure, idPrefix: String) throws -> [String] {
        precondition(idPrefix.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") },
                     "FigureWriter.inlineSVG: id prefix '\(idPrefix)' must be letters, digits and '-'")
        return try renderPages(figure, format: .svg).enumerated().map { i, bytes in
            var text = String(decoding: bytes, as: UTF8.self)
            if let start = text.range(of: "<svg") { text = String(text[start.lowerBound...]) }  // drop the XML prolog
            return prefixingIDs(text, with: "\(idPrefix)\(i + 1)-")
        }
    }

    /// Prefixes every id an SVG defines (`id="x"`) and every reference to one (`url(#x)`, `href="#x"`,
    /// `xlink:href="#x"`, in either kind of quotes). Cairo writes no text content or CSS that could contain these
    /// sequences otherwise: its text is glyph outlines.
    public static func prefixingIDs(_ svg: String, with prefix: String) -> String {
        var s = svg
        for q in ["\"", "'"] {
            s = s.replacingOccurrences(of: " id=\(q)", with: " id=\(q)\(prefix)")
                .replacingOccurrences(of: "href=\(q)#", with: "href=\(q)#\(prefix)")
        }
        return s.replacingOccurrences(of: "url(#", with: "url(#\(prefix)")
    }
}
