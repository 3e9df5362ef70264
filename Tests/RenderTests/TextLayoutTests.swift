import CCairo
import Foundation
import Imaging
import Testing
@testable import Render

/// Text that must fit: cut captions, wrapped captions, rotated labels. The expected values are geometric facts
/// (a cut fits and one more character would not; nothing is drawn outside the page), not reference numbers.
@Suite struct TextLayoutTests {
    /// Draws `figure` with a white border of `pad` points all round and counts the pixels inked in the border:
    /// whatever lies there would be clipped off the real page.
    static func inkOutsidePage(_ figure: any Figure, pad: Int = 40) -> (count: Int, where: String) {
        let size = figure.size
        let w = Int(size.width.rounded(.up)) + 2 * pad, h = Int(size.height.rounded(.up)) + 2 * pad
        let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(w), Int32(h))!
        defer { cairo_surface_destroy(surface) }
        let cr = cairo_create(surface)!
        cairo_set_source_rgb(cr, 1, 1, 1)
        cairo_paint(cr)
        cairo_translate(cr, Double(pad), Double(pad))
        figure.draw(Canvas(cr: cr))
        cairo_destroy(cr)
        cairo_surface_flush(surface)
        let img = CairoPNG.rgb(of: surface)
        var count = 0, sides = Set<String>()
        for y in 0 ..< h {
            for x in 0 ..< w {
                let inside = x >= pad && x < pad + Int(size.width.rounded(.up)) && y >= pad && y < pad + Int(size.height.rounded(.up))
                guard !inside else { continue }
                let i = 3 * (y * w + x)
                if img.pixels[i] < 250 || img.pixels[i + 1] < 250 || img.pixels[i + 2] < 250 {
                    count += 1
                    sides.insert(x < pad ? "left" : x >= w - pad ? "right" : y < pad ? "top" : "bottom")
                }
            }
        }
        return (count, sides.sorted().joined(separator: ", "))
    }

    static let long = ["golden retriever (a long label)", "espresso", "Egyptian Mau", "a very long class name indeed", "b", "кошка"]

    /// Figures whose labels are rotated or long: matrix column labels at 45°, colorbar captions at 90°.
    static var crowded: [(String, any Figure)] {  // computed: figures are not Sendable, so no shared static value
        var out: [(String, any Figure)] = []
        var square = MatrixPlot(values: (0 ..< 36).map { Float($0 % 7) / 7 }, rows: 6, columns: 6, rowLabels: long)
        square.range = .correlation
        out.append(("square, long labels", square))
        // Two rows against six columns (correlate --vs): short rows, long column labels.
        var wide = MatrixPlot(values: (0 ..< 12).map { Float($0) / 12 }, rows: 2, columns: 6, rowLabels: ["a", "b"], columnLabels: long)
        wide.colorbarLabel = "spearman correlation of pooled features"
        out.append(("2 x 6, long column labels and colorbar caption", wide))
        var unlabelledRows = MatrixPlot(values: (0 ..< 6).map { Float($0) / 6 }, rows: 1, columns: 6, columnLabels: long)
        unlabelledRows.colorbarLabel = "pearson"
        out.append(("1 x 6, no row labels", unlabelledRows))
        var many = MatrixPlot(values: (0 ..< 40 * 40).map { Float($0 % 13) / 13 }, rows: 40, columns: 40,
                              rowLabels: (0 ..< 40).map { "image number \($0) with a long name" })
        // A chain: leaf 0 with leaf 1, then each new leaf with the cluster so far.
        many.dendrogram = (0 ..< 39).map { (i: Int) -> (a: Int, b: Int, height: Float) in (i == 0 ? 0 : 39 + i, i + 1, Float(i + 1)) }
        out.append(("40 x 40 with dendrogram", many))
        var one = MatrixPlot(values: [1], rows: 1, columns: 1, rowLabels: ["tabby cat, tabby, domestic cat"])
        one.colorbarLabel = "cosine similarity of the logits"
        out.append(("1 x 1, long colorbar caption", one))
        var kernels = TileGrid(values: Fixtures.sobel, count: 2, height: 3, width: 3, columns: 2)
        kernels.colorbar = true
        kernels.tileSize = 20
        out.append(("two small tiles with a colorbar", kernels))
        return out
    }

    @Test(arguments: crowded.indices)
    func nothingIsDrawnOutsideThePage(_ k: Int) {
        let (name, figure) = Self.crowded[k]
        let ink = Self.inkOutsidePage(figure)
        #expect(ink.count == 0, "\(name): \(ink.count) pixels drawn outside the \(figure.size) page (\(ink.where))")
    }

    /// A 100,000-character caption is cut in about log2(100,000) = 17 measurements, not 100,000; the cut fits and
    /// one more character would not.
    @Test(arguments: [1_000, 100_000])
    func fittingALongCaptionBisects(_ length: Int) {
        let caption = String((0 ..< length).map { i in Character(UnicodeScalar(UInt8(97 + (i * 7) % 26))) })
        var measured = 0
        let (cut, size) = TextMetrics.fit(caption, maxWidth: 120, size: 10, minSize: 5) { s, size in
            measured += 1
            return TextMetrics.width(s, size: size)
        }
        print("fit of \(length) characters: \(measured) measurements")
        #expect(measured <= 2 + 2 * Int(log2(Double(length)).rounded(.up)), "\(measured) measurements for \(length) characters")
        #expect(size == 5 && cut.hasSuffix("…"))
        let kept = cut.dropLast()
        #expect(caption.hasPrefix(kept))
        #expect(TextMetrics.width(cut, size: size) <= 120)
        #expect(TextMetrics.width(String(caption.prefix(kept.count + 1)) + "…", size: size) > 120, "the cut is not the longest that fits")
    }

    @Test func fitKeepsWhatFitsAndEmptiesWhatCannot() {
        #expect(TextMetrics.fit("fire9", maxWidth: 200, size: 10, minSize: 5) == ("fire9", 10))
        let (s, _) = TextMetrics.fit("fire9.expand3x3", maxWidth: 0.5, size: 10, minSize: 5)
        #expect(s == "")
    }

    /// At every width a caption can be wrapped to, "p = 0.254" stays on one line.
    @Test func captionsNeverBreakInsideANumber() {
        let caption = "Egyptian cat (285)  p = 0.254  ·  gradcam @ fire9 over 13×13 cells"
        var broken: [(Double, [String])] = []
        for width in stride(from: 20.0, through: 420, by: 1) {
            let lines = TextMetrics.wrap(caption, maxWidth: width, size: Style.labelSize)
            let whole = lines.contains { $0.contains("p = 0.254") } && lines.contains { $0.contains("13×13") }
            if !whole || lines.contains(where: { $0.hasSuffix("=") || $0.hasPrefix("=") }) { broken.append((width, lines)) }
        }
        #expect(broken.isEmpty, "a number group broken at \(broken.count) widths, e.g. \(broken.first.map { "\($0.0) pt: \($0.1)" } ?? "")")
        #expect(TextMetrics.unbreakableGroups("top-1 p = 0.91 and 512\u{A0}channels") == ["top-1", "p = 0.91", "and", "512\u{A0}channels"])
    }
}
