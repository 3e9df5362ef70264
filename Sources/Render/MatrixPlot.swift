import Foundation

/// An n x m matrix as coloured cells with row and column labels: correlations, confusion matrices, similarities.
///
///     var p = MatrixPlot(values: corr, rows: 8, columns: 8, rowLabels: names)   // (n, m)
///     p.range = .correlation; p.title = "channel correlation"
///     try FigureWriter.write(p, to: "corr.svg")
public struct MatrixPlot: Figure {
    /// Which data values the colormap's ends stand for.
    public enum Range: Sendable, Equatable {
        /// [-a, a] with a the largest |value|: zero sits at the colormap's centre.
        case symmetric
        /// [-1, 1], for correlations.
        case correlation
        /// The data's minimum to maximum (for a sequential colormap).
        case minmax
        /// A given range.
        case fixed(Float, Float)
    }

    /// (n, m) row-major values.
    public var values: [Float]
    public var rows: Int, columns: Int
    /// n labels; none drawn when empty.
    public var rowLabels: [String]
    /// m labels; the row labels when empty and the matrix is square.
    public var columnLabels: [String] = []
    public var title: String?
    /// A diverging map (RdBu_r) by default.
    public var colormap: Colormap = .rdbu
    public var range: Range = .symmetric
    /// Print each value with 2 decimals in its cell; by default when n <= 20 and m <= 20.
    public var annotate: Bool?
    public var colorbar: Bool = true
    public var colorbarLabel: String?
    /// Display order of the rows: row k on screen is `rowOrder[k]` of the data. The dendrogram's leaf order when
    /// nil and a dendrogram is given.
    public var rowOrder: [Int]?
    /// Display order of the columns; follows `rowOrder` for a square matrix when nil.
    public var columnOrder: [Int]?
    /// scipy-linkage-style merges over the n rows: merge i joins clusters a and b at `height` into cluster n + i.
    /// Drawn at the left of the row labels.
    public var dendrogram: [(a: Int, b: Int, height: Float)]?
    /// Side of one cell in points; chosen from n, m and `annotate` when nil.
    public var cellSize: Double?

    /// A matrix plot.
    /// - Parameters:
    ///   - values: (n, m) row-major.
    ///   - rows: n.
    ///   - columns: m.
    ///   - rowLabels: n labels, or none.
    public init(values: [Float], rows: Int, columns: Int, rowLabels: [String] = [], columnLabels: [String] = []) {
        precondition(values.count == rows * columns, "MatrixPlot: \(values.count) values do not fill (n, m) = (\(rows), \(columns))")
        precondition(rowLabels.isEmpty || rowLabels.count == rows, "MatrixPlot: \(rowLabels.count) row labels for n = \(rows) rows")
        precondition(columnLabels.isEmpty || columnLabels.count == columns, "MatrixPlot: \(columnLabels.count) column labels for m = \(columns) columns")
        self.values = values
        self.rows = rows
        self.columns = columns
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
    }

    // MARK: derived settings

    var annotated: Bool { annotate ?? (rows <= 20 && columns <= 20) }
    var colLabels: [String] { columnLabels.isEmpty && rows == columns ? rowLabels : columnLabels }

    /// Screen-to-data row order, checked to be a permutation.
    var rowPermutation: [Int] {
        let order = rowOrder ?? dendrogram.map { MatrixPlot.leafOrder($0, leaves: rows) } ?? Array(0 ..< rows)
        precondition(order.sorted() == Array(0 ..< rows), "MatrixPlot: row order \(order) is not a permutation of 0..<\(rows)")
        return order
    }

    var columnPermutation: [Int] {
        let order = columnOrder ?? (rows == columns ? rowPermutation : Array(0 ..< columns))
        precondition(order.sorted() == Array(0 ..< columns), "MatrixPlot: column order \(order) is not a permutation of 0..<\(columns)")
        return order
    }

    /// The data values at the colormap's ends.
    var dataRange: (Float, Float) {
        switch range {
        case .symmetric:
            let a = values.filter(\.isFinite).map(abs).max() ?? 1
            return a > 0 ? (-a, a) : (-1, 1)
        case .correlation: return (-1, 1)
        case .minmax: return Colorize.extent(values[...])
        case let .fixed(lo, hi): return (lo, hi)
        }
    }

    var bar: Colorbar {
        let (lo, hi) = dataRange
        return Colorbar(colormap: colormap, lo: Double(lo), hi: Double(hi), label: colorbarLabel)
    }

    /// "0.83", "−0.05": two decimals with a true minus sign.
    static func format(_ v: Float) -> String {
        String(format: "%.2f", v).replacingOccurrences(of: "-", with: "−")
    }

    // MARK: layout

    struct Layout {
        var cell: Double
        var matrix: Rect
        var dendrogram: Rect?
        var labelSize: Double
        var valueSize: Double
        var rotateColumns: Bool
        var titleY: Double
        var size: Size
    }

    static let dendrogramWidth = 72.0
    static let sin45 = 0.5.squareRoot()

    var layout: Layout {
        let m = Style.margin
        let big = max(rows, columns)
        let cell = cellSize ?? (annotated ? min(44, max(30, (480 / Double(big)).rounded())) : min(40, max(3, (480 / Double(big)).rounded())))
        let labelSize = min(Style.labelSize, max(4, cell * 0.8))
        let lh = TextMetrics.lineHeight(size: labelSize)
        let valueSize: Double = {
            guard annotated else { return 0 }
            let w1 = TextMetrics.width("−0.00", size: 1)
            return min(9, cell * 0.82 / w1)
        }()

        let rowLabelW = rowLabels.map { TextMetrics.width($0, size: labelSize) }.max() ?? 0
        let colWidths = colLabels.map { TextMetrics.width($0, size: labelSize) }
        let rotate = (colWidths.max() ?? 0) > cell - 2
        // Horizontal room left of the matrix: dendrogram and row labels.
        var left = m
        let dendro: Double = dendrogram == nil ? 0 : MatrixPlot.dendrogramWidth + 4
        left += dendro
        if !rowLabels.isEmpty { left += rowLabelW + 6 }
        // Rotated column labels run down-left from each column's centre and must not leave the page.
        var labelBand = colLabels.isEmpty ? 0 : lh + 4
        if rotate && !colLabels.isEmpty {
            let order = columnPermutation
            var overhang = 0.0
            for (k, j) in order.enumerated() {
                let reach = MatrixPlot.sin45 * (colWidths[j] + lh)
                overhang = max(overhang, reach - (left - m) - (Double(k) + 0.5) * cell)
            }
            left += max(0, overhang)
            labelBand = 4 + MatrixPlot.sin45 * ((colWidths.max() ?? 0) + lh)
        }
        var y = m
        let titleY = y
        if title != nil { y += TextMetrics.lineHeight(size: Style.titleSize) + Style.titleGap }
        y += colorbar ? Colorbar.overhang : 0
        let matrix = Rect(x: left.rounded(), y: y.rounded(), width: Double(columns) * cell, height: Double(rows) * cell)
        var right = matrix.maxX
        if colorbar { right += 12 + bar.width }
        let titleW = Style.titleWidth(title)
        let bottom = max(matrix.maxY + labelBand, matrix.maxY + (colorbar ? Colorbar.overhang : 0))
        let dRect = dendrogram == nil ? nil : Rect(x: matrix.x - dendro - (rowLabels.isEmpty ? 0 : rowLabelW + 6), y: matrix.y,
                                                    width: MatrixPlot.dendrogramWidth, height: matrix.height)
        return Layout(cell: cell, matrix: matrix, dendrogram: dRect, labelSize: labelSize, valueSize: valueSize,
                      rotateColumns: rotate, titleY: titleY,
                      size: Size(width: max(right + m, titleW).rounded(.up), height: (bottom + m).rounded(.up)))
    }

    public var size: Size { layout.size }

    // MARK: drawing

    public func draw(_ c: Canvas) {
        let l = layout
        if let title {
            c.title(title, pageWidth: l.size.width, y: l.titleY)
        }
        let rp = rowPermutation, cp = columnPermutation
        let (lo, hi) = dataRange
        // Cells as one raster (crisp at any size), then the numbers on top.
        var shown = [Float](repeating: 0, count: rows * columns)  // (n, m) in display order
        for (r, i) in rp.enumerated() { for (k, j) in cp.enumerated() { shown[r * columns + k] = values[i * columns + j] } }
        let rgb = Colorize.rgb(Colorize.indices(shown[...], lo: lo, hi: hi), colormap)
        c.pixels(rgb, width: columns, height: rows, in: l.matrix, smooth: false)
        for (p, v) in shown.enumerated() where !v.isFinite {
            c.fill(Rect(x: l.matrix.x + Double(p % columns) * l.cell, y: l.matrix.y + Double(p / columns) * l.cell, width: l.cell, height: l.cell), Color(0.85, 0.85, 0.85))
        }
        if annotated {
            for (p, v) in shown.enumerated() where v.isFinite {
                let bg = Color(bytes: (rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2]))
                c.text(MatrixPlot.format(v), x: l.matrix.x + (Double(p % columns) + 0.5) * l.cell,
                       y: l.matrix.y + (Double(p / columns) + 0.5) * l.cell, size: l.valueSize,
                       color: bg.contrastingText, align: .center, baseline: .middle)
            }
        }
        c.stroke(l.matrix, .muted, width: 0.5)
        drawLabels(c, l, rp, cp)
        if let rect = l.dendrogram, let merges = dendrogram { drawDendrogram(c, merges, order: rp, in: rect) }
        if colorbar { bar.draw(c, x: l.matrix.maxX + 12, y: l.matrix.y, height: l.matrix.height) }
    }

    private func drawLabels(_ c: Canvas, _ l: Layout, _ rp: [Int], _ cp: [Int]) {
        if !rowLabels.isEmpty {
            for (r, i) in rp.enumerated() {
                c.text(rowLabels[i], x: l.matrix.x - 6, y: l.matrix.y + (Double(r) + 0.5) * l.cell, size: l.labelSize,
                       align: .right, baseline: .middle)
            }
        }
        let labels = colLabels
        guard !labels.isEmpty else { return }
        for (k, j) in cp.enumerated() {
            let x = l.matrix.x + (Double(k) + 0.5) * l.cell
            if l.rotateColumns {
                c.text(labels[j], x: x, y: l.matrix.maxY + 4, size: l.labelSize, align: .right, baseline: .top, angle: 45)
            } else {
                c.text(labels[j], x: x, y: l.matrix.maxY + 4, size: l.labelSize, align: .center, baseline: .top)
            }
        }
    }
}
