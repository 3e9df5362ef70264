/// One single-channel map drawn with a colormap, optionally titled and with a colorbar.
///
/// Also the heat input of `Overlay`.
///
///     let h = Heatmap(width: 14, height: 14, values: cam)   // (H, W)
///     try FigureWriter.write(h, to: "cam.png")
public struct Heatmap: Figure {
    /// Columns.
    public var width: Int
    /// Rows.
    public var height: Int
    /// (H, W) row-major values.
    public var values: [Float]
    /// The colour scale; viridis by default.
    public var colormap: Colormap = .viridis
    /// How values map to colours: `.minmax` by default; `.shared` means the same as `.minmax` here.
    public var scaling: Scaling = .minmax
    /// A title above the map.
    public var title: String?
    /// Draw a colorbar at the right.
    public var colorbar: Bool = true
    /// Width of the map in points; by default about 240, a whole multiple of `width` when that enlarges.
    public var displayWidth: Double?

    /// A heatmap of (H, W) values.
    /// - Parameters:
    ///   - width: columns W.
    ///   - height: rows H.
    ///   - values: (H, W) row-major.
    public init(width: Int, height: Int, values: [Float], colormap: Colormap = .viridis, title: String? = nil) {
        precondition(values.count == width * height, "Heatmap: \(values.count) values do not fill (H, W) = (\(height), \(width))")
        self.width = width
        self.height = height
        self.values = values
        self.colormap = colormap
        self.title = title
    }

    /// The value at row y, column x.
    public subscript(y: Int, x: Int) -> Float { values[y * width + x] }

    /// The data range the colours span.
    var dataRange: (Float, Float) {
        switch scaling {
        case .minmax, .shared: return Colorize.extent(values[...])
        case .standardize: return (0, 255)
        case let .range(lo, hi): return (lo, hi)
        }
    }

    /// (H, W, 3) RGB8 colours of the values.
    public func rgb() -> [UInt8] {
        let (lo, hi) = dataRange
        let idx = scaling == .standardize ? Colorize.standardized(values[...]) : Colorize.indices(values[...], lo: lo, hi: hi)
        return Colorize.rgb(idx, colormap)
    }

    private var bar: Colorbar {
        if scaling == .standardize {
            return Colorbar(colormap: colormap, lowLabel: "−2σ", highLabel: "+2σ")
        }
        let (lo, hi) = dataRange
        return Colorbar(colormap: colormap, lo: Double(lo), hi: Double(hi))
    }

    private struct Layout { var map: Rect; var size: Size; var titleY: Double }

    private var layout: Layout {
        let m = Style.margin
        let w = displayWidth ?? Colorize.snap(native: width, target: 240)
        let h = w * Double(height) / Double(max(width, 1))
        var y = m
        let titleY = y
        if title != nil { y += TextMetrics.lineHeight(size: Style.titleSize) + Style.titleGap }
        let pad = colorbar ? Colorbar.overhang : 0
        let map = Rect(x: m, y: y + pad, width: w, height: h)
        var right = map.maxX
        if colorbar { right += 10 + bar.width }
        var total = max(right + m, Style.titleWidth(title))
        total = total.rounded(.up)
        return Layout(map: map, size: Size(width: total, height: (map.maxY + pad + m).rounded(.up)), titleY: titleY)
    }

    public var size: Size { layout.size }

    public func draw(_ c: Canvas) {
        let l = layout
        if let title {
            c.title(title, pageWidth: l.size.width, y: l.titleY)
        }
        c.pixels(rgb(), width: width, height: height, in: l.map)
        if colorbar { bar.draw(c, x: l.map.maxX + 10, y: l.map.y, height: l.map.height) }
    }
}
