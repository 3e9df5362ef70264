import Testing
@testable import Render

@Suite struct HTMLTests {
    /// Every character that ends an attribute or starts markup becomes an entity; invisible and reordering
    /// characters become visible escapes. The expected strings follow the HTML spec's named and numeric references.
    @Test func escapesMarkupQuotesAndInvisibleCharacters() {
        #expect(HTML.escape(#"cat" onload="alert(1)".png"#) == "cat&quot; onload=&quot;alert(1)&quot;.png")
        #expect(HTML.escape("<script>&amp;</script>") == "&lt;script&gt;&amp;amp;&lt;/script&gt;")
        #expect(HTML.escape("it's") == "it&#39;s")
        #expect(HTML.escape("a\u{1B}[31mb\nc\u{7F}\u{85}") == #"a\u{1B}[31mb\nc\u{7F}\u{85}"#)
        #expect(HTML.escape("gpj.\u{202E}exe") == #"gpj.\u{202E}exe"#)
        #expect(HTML.escape("кошка · 0.91 × 2") == "кошка · 0.91 × 2")
    }

    /// A page built from hostile text keeps it text: every heading, paragraph, cell, note and caption is escaped, and
    /// two inline SVGs of the same figure get ids apart (cairo names every SVG's glyphs alike).
    @Test func pageEscapesEveryTextAndNumbersSVGIdsApart() throws {
        let bad = #"<img src=x onerror="alert(1)">"#, shown = HTML.escape(bad)
        var page = HTMLPage(title: bad)
        page.heading(bad)
        page.paragraph([.text(bad), .bold(bad)])
        page.table(header: [bad], rows: [[HTMLPage.Cell(bad, note: bad, second: bad)]])
        let plot = MatrixPlot(values: [1, -0.5, -0.5, 1], rows: 2, columns: 2, rowLabels: ["a", "b"])
        try page.svg(plot, caption: bad)
        try page.svg(plot, caption: bad)
        let html = page.finish()
        #expect(!html.contains("<img src=x") && !html.contains(#"onerror=""#))
        #expect(html.components(separatedBy: shown).count - 1 == 11, "title twice, heading, two runs, header, cell, note, second line and two captions")
        let ids = html.matches(of: #/\sid="([^"]+)"/#).map { String($0.1) }
        #expect(Set(ids).count == ids.count && ids.contains { $0.hasPrefix("fig1-") } && ids.contains { $0.hasPrefix("fig2-") })
    }
}
