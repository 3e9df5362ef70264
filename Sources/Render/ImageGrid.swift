import Imaging

/// RGB pictures (filter patterns, input crops) in rows of K, with captions and a title.
///
///     var g = ImageGrid(images: patterns, columns: 8)
///     g.captions = (0 ..< patterns.count).map { "fire9 #\($0)" }; g.title = "fire9 filter patterns"
///     try FigureWriter.write(g, to: "patterns.pdf")
public struct ImageGrid: Figure {
    public var images: [RGBImage]
    /// Pictures per row K.
    public var columns: Int
    /// One caption per picture (missing ones are left blank).
    public var captions: [String] = []
    public var title: String?
    /// Display width of a cell in points; chosen from K and the largest picture when nil.
    public var tileSize: Double?
    /// Space between cells in points.
    public var gap: Double = 8

    /// A grid of pictures.
    /// - Parameters:
    ///   - images: the pictures; each is fitted into the cell keeping its aspect ratio.
    ///   - columns: pictures per row K.
    public init(images: [RGBImage], columns: Int = 8, captions: [String] = [], title: String? = nil) {
        precondition(columns > 0, "ImageGrid: columns must be positive, got \(columns)")
        self.images = images
        self.columns = columns
        self.captions = captions
        self.title = title
    }

    private struct Layout { var grid: GridLayout; var size: Size; var titleY: Double; var captionSize: Double }

    private var layout: Layout {
        let m = Style.margin
        let maxW = images.map(\.width).max() ?? 1, maxH = images.map(\.height).max() ?? 1
        let w = tileSize ?? GridLayout.tileWidth(native: maxW, columns: columns, gap: gap, maxTile: 256)
        let h = (w * Double(maxH) / Double(max(maxW, 1))).rounded()
        let capSize = GridLayout.captionSize(tileWidth: w)
        let capH = captions.isEmpty ? 0 : TextMetrics.lineHeight(size: capSize) + 3
        var y = m
        let titleY = y
        if title != nil { y += TextMetrics.lineHeight(size: Style.titleSize) + Style.titleGap }
        let grid = GridLayout(count: images.count, columns: columns, cell: Size(width: w, height: h),
                              captionHeight: capH, gap: gap, originX: m, originY: y)
        let titleW = Style.titleWidth(title)
        let size = Size(width: max(grid.originX + grid.width + m, titleW).rounded(.up), height: (grid.originY + grid.height + m).rounded(.up))
        return Layout(grid: grid, size: size, titleY: titleY, captionSize: capSize)
    }

    public var size: Size { layout.size }

    public var pageBreaks: [Double] { layout.grid.rowBreaks }

    public func draw(_ c: Canvas) {
        let l = layout
        if let title {
            c.title(title, pageWidth: l.size.width, y: l.titleY)
        }
        for (i, img) in images.enumerated() {
            let cell = l.grid.rect(i)
            // Fit keeping the aspect ratio, centred in the cell.
            let s = min(cell.width / Double(max(img.width, 1)), cell.height / Double(max(img.height, 1)))
            let w = Double(img.width) * s, h = Double(img.height) * s
            c.image(img, in: Rect(x: (cell.midX - w / 2).rounded(), y: (cell.midY - h / 2).rounded(), width: w, height: h))
            if i < captions.count {
                let (t, fs) = TextMetrics.fit(captions[i], maxWidth: cell.width + gap - 2, size: l.captionSize, minSize: 5)
                c.text(t, x: cell.midX, y: cell.maxY + 3, size: fs, align: .center, baseline: .top)
            }
        }
    }
}
