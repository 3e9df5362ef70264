/// Several figures on one page in rows of K, each under its own title; a figure itself, so panels nest.
///
///     let p = Panels([overlayA, overlayB, overlayC], columns: 3, titles: ["top-1", "top-2", "top-3"])
///     try FigureWriter.write(p, to: "top3.png")
public struct Panels: Figure {
    public var figures: [any Figure]
    /// Figures per row K.
    public var columns: Int
    /// One title per figure (missing ones are left out).
    public var titles: [String]
    /// A title over the whole page.
    public var title: String?

    /// Panels of figures.
    /// - Parameters:
    ///   - figures: drawn left to right, top to bottom; each keeps its own margins.
    ///   - columns: figures per row K.
    ///   - titles: a title over each figure.
    public init(_ figures: [any Figure], columns: Int = 3, titles: [String] = [], title: String? = nil) {
        precondition(columns > 0, "Panels: columns must be positive, got \(columns)")
        self.figures = figures
        self.columns = columns
        self.titles = titles
        self.title = title
    }

    private struct Layout {
        var origins: [(Double, Double)]  // each figure's top-left
        var cellWidths: [Double]
        var subtitleYs: [Double]
        var subtitleH: Double
        var titleY: Double
        var size: Size
    }

    private var layout: Layout {
        let sizes = figures.map(\.size)
        let n = figures.count, k = min(columns, max(n, 1))
        let rows = (n + k - 1) / k
        let subH = titles.isEmpty ? 0 : TextMetrics.lineHeight(size: Style.subtitleSize)
        var colW = [Double](repeating: 0, count: k), rowH = [Double](repeating: 0, count: rows)
        for (i, s) in sizes.enumerated() {
            colW[i % k] = max(colW[i % k], s.width)
            rowH[i / k] = max(rowH[i / k], s.height)
        }
        let titleY = Style.margin
        var y = title == nil ? 0 : Style.margin + TextMetrics.lineHeight(size: Style.titleSize)
        var origins: [(Double, Double)] = [], subYs: [Double] = []
        var rowTop = [Double](repeating: 0, count: rows)
        for r in 0 ..< rows { rowTop[r] = y; y += rowH[r] + (subH > 0 ? subH + Style.margin / 2 : 0) }
        for (i, s) in sizes.enumerated() {
            let col = i % k, row = i / k
            let cellX = colW[..<col].reduce(0, +)
            let top = rowTop[row] + (subH > 0 ? Style.margin + subH - Style.margin / 2 : 0)
            origins.append((cellX + (colW[col] - s.width) / 2, top))
            subYs.append(rowTop[row] + Style.margin)
        }
        let titleW = title.map { TextMetrics.width($0, size: Style.titleSize, bold: true) + 2 * Style.margin } ?? 0
        let width = max(colW.reduce(0, +), titleW)
        return Layout(origins: origins, cellWidths: colW, subtitleYs: subYs, subtitleH: subH, titleY: titleY,
                      size: Size(width: width.rounded(.up), height: y.rounded(.up)))
    }

    public var size: Size { layout.size }

    public func draw(_ c: Canvas) {
        let l = layout
        if let title {
            c.text(title, x: l.size.width / 2, y: l.titleY, size: Style.titleSize, bold: true, align: .center, baseline: .top)
        }
        let k = min(columns, max(figures.count, 1))
        for (i, f) in figures.enumerated() {
            let (x, y) = l.origins[i]
            if i < titles.count {
                let col = i % k
                let cellX = l.cellWidths[..<col].reduce(0, +)
                let (t, fs) = TextMetrics.fit(titles[i], maxWidth: l.cellWidths[col] - 2 * Style.margin, size: Style.subtitleSize, minSize: 7, bold: true)
                c.text(t, x: cellX + l.cellWidths[col] / 2, y: l.subtitleYs[i], size: fs, bold: true, align: .center, baseline: .top)
            }
            c.translated(x, y) { f.draw(c) }
        }
    }
}
