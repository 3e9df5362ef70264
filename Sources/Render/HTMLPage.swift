import Foundation

/// A self-contained HTML page being written: headings, paragraphs, tables and figures (inline base64 PNG or SVG).
/// Every method takes plain text and escapes it (`HTML.escape`): nothing a caller passes, file names included,
/// becomes markup.
public struct HTMLPage {
    /// A table cell: a first line with an optional dimmed note after it, and an optional second line.
    public struct Cell {
        public var text: String
        public var note: String?
        public var second: String?
        public init(_ text: String, note: String? = nil, second: String? = nil) { self.text = text; self.note = note; self.second = second }
    }

    /// A run of paragraph text.
    public enum Run { case text(String), bold(String) }

    var body = ""
    public let title: String
    /// Figures inlined as SVG so far: numbers their ids apart.
    private var svgCount = 0
    public init(title: String) { self.title = title }

    public mutating func heading(_ s: String) { body += "<h2>\(HTML.escape(s))</h2>\n" }

    public mutating func paragraph(_ runs: [Run]) {
        body += "<p>" + runs.map { run in
            switch run {
            case let .text(s): return HTML.escape(s)
            case let .bold(s): return "<b>\(HTML.escape(s))</b>"
            }
        }.joined() + "</p>\n"
    }

    public mutating func table(header: [String], rows: [[Cell]]) {
        body += "<table><tr>" + header.map { "<th>\(HTML.escape($0))</th>" }.joined() + "</tr>\n"
        for row in rows {
            body += "<tr>" + row.map { c in
                "<td>" + HTML.escape(c.text) + (c.note.map { " <span class=dim>\(HTML.escape($0))</span>" } ?? "")
                    + (c.second.map { "<br>" + HTML.escape($0) } ?? "") + "</td>"
            }.joined() + "</tr>\n"
        }
        body += "</table>\n"
    }

    /// A figure as inline base64 PNG, one image per page of it.
    public mutating func figure(_ f: any Figure, caption: String, scale: Double) throws {
        let pages = try FigureWriter.renderPages(f, format: .png, scale: scale)
        body += "<figure>" + pages.map { png in
            "<img alt=\"\(HTML.escape(caption))\" width=\"\(Int(f.size.width))\" src=\"data:image/png;base64,\(Data(png).base64EncodedString())\">"
        }.joined(separator: "<br>") + "<figcaption>\(HTML.escape(caption))</figcaption></figure>\n"
    }

    /// A figure as inline SVG, its ids made unique on the page.
    public mutating func svg(_ f: any Figure, caption: String) throws {
        svgCount += 1
        let svgs = try FigureWriter.inlineSVG(f, idPrefix: "fig\(svgCount)-")
        body += "<figure>\(svgs.joined(separator: "<br>"))<figcaption>\(HTML.escape(caption))</figcaption></figure>\n"
    }

    /// The whole page, with a script that counts the figures a browser rendered (for headless checks).
    public func finish() -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(HTML.escape(title))</title>
        <style>
        body { font-family: "DejaVu Sans", sans-serif; margin: 2em auto; max-width: 1600px; color: #222; }
        h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
        table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: 4px 8px; text-align: left; }
        .dim { color: #888; } figure { display: inline-block; margin: 0.5em; vertical-align: top; }
        figure img, figure svg { max-width: 100%; height: auto; } figcaption { color: #555; font-size: 0.9em; }
        </style></head>
        <body><h1>\(HTML.escape(title))</h1>
        \(body)
        <pre id="render-check"></pre>
        <script>
        // Self-check for headless browsers: how many figures rendered.
        window.addEventListener("load", () => {
          const imgs = [...document.images], svgs = [...document.querySelectorAll("figure > svg")];
          const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length + svgs.filter(s => s.getBBox().width > 0).length;
          document.getElementById("render-check").textContent = `rendered ${ok} of ${imgs.length + svgs.length} figures`;
        });
        </script>
        </body></html>
        """
    }
}
