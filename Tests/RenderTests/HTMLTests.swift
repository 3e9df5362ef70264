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
}
