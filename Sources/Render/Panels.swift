/// Several figures on one page in rows of K, each under its own title; a figure itself, so panels nest.
///
///     let p = Panels([overlayA, overlayB, overlayC], columns: 3, titles: ["top-1", "top-2", "top-3"])
///     try FigureWriter.write(p, to: "top3.png")
///
/// Rows of different lengths, each centred on the page, come from `Panels(rows:)`:
///
///     Panels(rows: [[matrixA, matrixB], [stripsA], [stripsB]])
public struct Panels: Figure {
    public var figures: [any Figure]
    /// Figures per row K.
    public var columns: Int
    /// One title per figure (missing ones are left out).
    public var titles: [String]
    /// A title over the whole page.
    public var title: String?
    /// Figures per row, top to bottom, each row centred on its own; rows of `columns` aligned in columns when nil.
    public var rowLengths: [Int]?

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

    /// Panels given row by row; each row is centred on the page.
    /// - Parameters:
    ///   - rows: the figures of each row, left to right.
    ///   - titles: a title over each figure, in reading order.
    public init(rows: [[any Figure]], titles: [String] = [], title: String? = nil) {
        self.init(rows.flatMap { $0 }, columns: max(1, rows.map(\.count).max() ?? 1), titles: titles, title: title)
        rowLengths = rows.map(\.count).filter { $0 > 0 }
    }

    private struct Layout {
        var origins: [(Double, Double)]  // each figure's top-left
        var cells: [Rect]                // each figure's cell: its column's width, its row's top
        var rowTops: [Double]
        var titleY: Double
        var size: Size
    }

    /// The figure indices of each row.
    private var rows: [Range<Int>] {
        let n = figures.count
        guard let rowLengths else {
            let k = min(columns, max(n, 1))
            return stride(from: 0, to: n, by: k).map { $0 ..< min($0 + k, n) }
        }
        var start = 0
        return rowLengths.compactMap { len in
            defer { start += len }
            return start < n ? start ..< min(start + len, n) : nil
        }
    }

    private var layout: Layout {
        let sizes = figures.map(\.size)
        let rows = rows
        let subH = titles.isEmpty ? 0 : TextMetrics.lineHeight(size: Style.subtitleSize)
        // Uniform rows share column widths; rows given one by one take their figures' own widths.
        let k = min(columns, max(figures.count, 1))
        var colW = [Double](repeating: 0, count: k)
        for (i, s) in sizes.enumerated() where rowLengths == nil { colW[i % k] = max(colW[i % k], s.width) }
        let widths: [[Double]] = rows.map { r in rowLengths == nil ? Array(colW[..<r.count]) : r.map { sizes[$0].width } }
        let titleW = Style.titleWidth(title)
        let width = max(widths.map { $0.reduce(0, +) }.max() ?? 0, rowLengths == nil ? colW.reduce(0, +) : 0, titleW)

        let titleY = Style.margin
        var y = title == nil ? 0 : Style.margin + TextMetrics.lineHeight(size: Style.titleSize)
        var origins = [(Double, Double)](repeating: (0, 0), count: figures.count)
        var cells = [Rect](repeating: Rect(x: 0, y: 0, width: 0, height: 0), count: figures.count)
        var rowTops: [Double] = []
        for (r, range) in rows.enumerated() {
            rowTops.append(y)
            let rowH = range.map { sizes[$0].height }.max() ?? 0
            let top = y + (subH > 0 ? Style.margin + subH - Style.margin / 2 : 0)
            var x = rowLengths == nil ? 0 : (width - widths[r].reduce(0, +)) / 2
            for (c, i) in range.enumerated() {
                let w = widths[r][c]
                cells[i] = Rect(x: x, y: y, width: w, height: rowH)
                origins[i] = (x + (w - sizes[i].width) / 2, top)
                x += w
            }
            y += rowH + (subH > 0 ? subH + Style.margin / 2 : 0)
        }
        return Layout(origins: origins, cells: cells, rowTops: rowTops, titleY: titleY, size: Size(width: width.rounded(.up), height: y.rounded(.up)))
    }

    public var size: Size { layout.size }

    /// Between rows, and inside a row that holds a single figure, that figure's own breaks.
    public var pageBreaks: [Double] {
        let l = layout
        var breaks = Array(l.rowTops.dropFirst())
        for range in rows where range.count == 1 {
            let i = range.lowerBound
            breaks += figures[i].pageBreaks.map { l.origins[i].1 + $0 }
        }
        return breaks.sorted()
    }

    public func draw(_ c: Canvas) {
        let l = layout
        if let title {
            c.title(title, pageWidth: l.size.width, y: l.titleY)
        }
        for (i, f) in figures.enumerated() {
            let (x, y) = l.origins[i]
            if i < titles.count {
                let cell = l.cells[i]
                let (t, fs) = TextMetrics.fit(titles[i], maxWidth: cell.width - 2 * Style.margin, size: Style.subtitleSize, minSize: 7, bold: true)
                c.text(t, x: cell.midX, y: cell.y + Style.margin, size: fs, bold: true, align: .center, baseline: .top)
            }
            c.translated(x, y) { f.draw(c) }
        }
    }
}
