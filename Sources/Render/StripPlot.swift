/// One row per item, each a feature vector folded into a small heatmap under the item's label (e.g. a 512-d
/// embedding as 16 x 32, 1000 logits as 20 x 50).
///
///     let s = StripPlot(items: [("кошка", emb0), ("кофе", emb1)], title: "avgpool features")
///     try FigureWriter.write(s, to: "features.png")
public struct StripPlot: Figure {
    /// (label, values) per row; every vector has the same length D.
    public var items: [(label: String, values: [Float])]
    /// Rows and columns each vector is folded into, row-major; chosen from D when nil (see `shape(for:)`).
    public var shape: (rows: Int, columns: Int)?
    public var colormap: Colormap = .viridis
    /// `.shared` (default): one scale for all rows and one colorbar; `.minmax`: each row on its own scale.
    public var scaling: Scaling = .shared
    public var title: String?
    /// Width of each strip in points; about 400 when nil.
    public var displayWidth: Double?

    /// A strip plot.
    /// - Parameters:
    ///   - items: (label, values) per row, all values of one length D.
    public init(items: [(label: String, values: [Float])], title: String? = nil, colormap: Colormap = .viridis) {
        if let d = items.first?.values.count {
            for it in items {
                precondition(it.values.count == d, "StripPlot: '\(it.label)' has \(it.values.count) values, the first item has \(d)")
            }
        }
        self.items = items
        self.title = title
        self.colormap = colormap
    }

    /// A fold of D values into about a 1:2 block: rows = the largest divisor of D at most sqrt(D / 2)
    /// (512 -> 16 x 32, 1000 -> 20 x 50, 2048 -> 32 x 64). When D has no such divisor above a third of that bound
    /// the last row is padded.
    public static func shape(for d: Int) -> (rows: Int, columns: Int) {
        guard d > 0 else { return (1, 1) }
        let bound = max(1, Int((Double(d) / 2).squareRoot()))
        var rows = bound
        while rows > 1 && d % rows != 0 { rows -= 1 }
        if rows * 3 < bound { rows = bound }
        return (rows, (d + rows - 1) / rows)
    }

    static let padColor = Color(0.92, 0.92, 0.92)

    private var dims: (rows: Int, columns: Int) { shape ?? StripPlot.shape(for: items.first?.values.count ?? 1) }

    private struct Layout {
        var strips: [Rect]
        var labelSize: Double
        var titleY: Double
        var size: Size
        var barWidth: Double
    }

    private var layout: Layout {
        let m = Style.margin
        let (r, k) = dims
        let w = displayWidth ?? Colorize.snap(native: k, target: 400)
        let h = (w * Double(r) / Double(k)).rounded()
        let lh = TextMetrics.lineHeight(size: Style.labelSize)
        var y = m
        let titleY = y
        if title != nil { y += TextMetrics.lineHeight(size: Style.titleSize) + Style.titleGap }
        var strips: [Rect] = []
        for _ in items {
            y += lh + 3
            strips.append(Rect(x: m, y: y, width: w, height: h))
            y += h + 10
        }
        let barW = items.indices.map { bar(for: $0).width }.max() ?? 0
        let labelW = items.map { TextMetrics.width($0.label, size: Style.labelSize) }.max() ?? 0
        let titleW = Style.titleWidth(title)
        let width = max(m + w + 10 + barW + m, m + labelW + m, titleW)
        let bottom = y - 10 + Colorbar.overhang
        return Layout(strips: strips, labelSize: Style.labelSize, titleY: titleY,
                      size: Size(width: width.rounded(.up), height: (bottom + m).rounded(.up)), barWidth: barW)
    }

    public var size: Size { layout.size }

    /// Between rows: halfway from one strip to the next one's label.
    public var pageBreaks: [Double] { layout.strips.dropLast().map { $0.maxY + 5 } }

    private var sharedExtent: (Float, Float) { Colorize.extent(items.flatMap(\.values)[...]) }

    private func range(for i: Int) -> (Float, Float) {
        switch scaling {
        case .shared: return sharedExtent
        case .minmax, .standardize: return Colorize.extent(items[i].values[...])
        case let .range(lo, hi): return (lo, hi)
        }
    }

    private func bar(for i: Int) -> Colorbar {
        if scaling == .standardize { return Colorbar(colormap: colormap, lowLabel: "−2σ", highLabel: "+2σ") }
        let (lo, hi) = range(for: i)
        return Colorbar(colormap: colormap, lo: Double(lo), hi: Double(hi))
    }

    public func draw(_ c: Canvas) {
        let l = layout
        if let title {
            c.title(title, pageWidth: l.size.width, y: l.titleY)
        }
        let (r, k) = dims
        let perRow = scaling == .minmax || scaling == .standardize
        for (i, item) in items.enumerated() {
            let rect = l.strips[i]
            let (lo, hi) = range(for: i)
            var v = item.values
            v += [Float](repeating: .nan, count: max(0, r * k - v.count))
            let idx = scaling == .standardize ? Colorize.standardized(v[..<item.values.count]) + [UInt8](repeating: 0, count: r * k - item.values.count)
                                              : Colorize.indices(v[...], lo: lo, hi: hi)
            var rgb = Colorize.rgb(idx, colormap)  // (r, k, 3)
            for p in item.values.count ..< r * k {
                rgb[3 * p] = 235; rgb[3 * p + 1] = 235; rgb[3 * p + 2] = 235
            }
            let (label, fs) = TextMetrics.fit(item.label, maxWidth: l.size.width - 2 * Style.margin, size: l.labelSize, minSize: 6)
            c.text(label, x: rect.x, y: rect.y - 3, size: fs, baseline: .bottom)
            c.pixels(rgb, width: k, height: r, in: rect, smooth: false)
            if perRow { bar(for: i).draw(c, x: rect.maxX + 10, y: rect.y, height: rect.height) }
        }
        if !perRow, let first = l.strips.first, let last = l.strips.last {
            bar(for: 0).draw(c, x: first.maxX + 10, y: first.y, height: last.maxY - first.y)
        }
    }
}
